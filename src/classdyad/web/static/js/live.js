// The live session page: code a lesson in class on a tablet, from the seating chart.
// Tap a student (or Group / Whole class), then a category. Every change goes to IndexedDB first
// and reaches the server through the same send queue as video coding (event-queue.js); the
// service worker (live-sw.js) serves the page and its assets when the network is gone.

import { api } from "./api.js";
import { EventStore, SendQueue, newId } from "./event-queue.js";
import { LessonClock, formatClock } from "./live-clock.js";

const setup = JSON.parse(document.getElementById("live-data").textContent);
const lesson = setup.lesson;
const teacher = lesson.teachers[0] || null;
const codebook = setup.codebook;
const categories = codebook && codebook.categories.length
  ? codebook.categories
  : ["positive", "negative", "neutral"].map((valence) => ({ subtype: null, valence, label: valence }));
const students = new Map(setup.students.map((s) => [s.code, s]));
const clock = new LessonClock(`classdyad-live-${setup.username}-${lesson.id}`);

const $ = (selector) => document.querySelector(selector);
const ui = {
  clock: $("[data-clock]"), waiting: $("[data-waiting]"), network: $("[data-network]"),
  desks: $("[data-desks]"), unseated: $("[data-unseated]"), categories: $("[data-categories]"),
  hint: $("[data-hint]"), prompt: $("[data-prompt]"), sampling: $("[data-sampling]"),
  intervalLabel: $("[data-interval-label]"), interval: $("input[name=interval]"),
  log: $("[data-events]"), count: $("[data-count]"), refused: $("[data-refused]"),
  warning: $("[data-logout-warning]"), warningText: $("[data-logout-text]"),
};

const state = { mode: "code", target: null, events: new Map(), waiting: 0, prompted: 0, endArmed: false };
let store;
let queue;

function hint(text) { ui.hint.textContent = text; }

function nameOf(code) {
  const student = students.get(code);
  return student && student.first_name ? `${code} (${student.first_name})` : code;
}

function targetLabel(event) {
  if (event.target_kind === "student") return nameOf(event.student);
  return event.target_kind === "class" ? "whole class" : "group";
}

// --- rendering -------------------------------------------------------------------------------

function deskButton(code) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "desk";
  button.dataset.student = code;
  const label = document.createElement("span");
  label.className = "code";
  label.textContent = code;
  button.append(label);
  const student = students.get(code);
  if (student && student.first_name) {
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = student.first_name;
    button.append(name);
  }
  const since = document.createElement("span");
  since.className = "since";
  button.append(since);
  button.addEventListener("click", () => tapStudent(code));
  return button;
}

function renderRoom() {
  const chart = setup.chart;
  ui.desks.style.setProperty("--columns", String(chart.columns));
  const cells = [];
  const taken = new Map(chart.seats.map((s) => [`${s.row},${s.column}`, s.student]));
  for (let row = 0; row < chart.rows; row += 1) {
    for (let column = 0; column < chart.columns; column += 1) {
      const code = taken.get(`${row},${column}`);
      if (code && students.has(code)) {
        cells.push(deskButton(code));
      } else {
        const empty = document.createElement("div");
        empty.className = "desk empty";
        empty.setAttribute("aria-hidden", "true");
        cells.push(empty);
      }
    }
  }
  ui.desks.replaceChildren(...cells);
  const seated = new Set(chart.seats.map((s) => s.student));
  ui.unseated.replaceChildren(...setup.students.filter((s) => !seated.has(s.code)).map((s) => deskButton(s.code)));
  ui.categories.replaceChildren(...categories.map((category) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = category.valence;
    button.dataset.category = category.subtype || category.valence;
    button.dataset.valence = category.valence;
    button.textContent = category.label || category.subtype || category.valence;
    button.addEventListener("click", () => tapCategory(category));
    return button;
  }));
}

function renderPresence() {
  document.querySelectorAll("button.desk").forEach((desk) => {
    const presence = clock.presenceOf(desk.dataset.student);
    desk.classList.toggle("absent", !presence.present);
    desk.classList.toggle("out-of-view", presence.present && !presence.visible);
    const since = desk.querySelector(".since");
    since.textContent = !presence.present ? `absent ${formatClock(presence.since || 0)}`
      : !presence.visible ? `out of view ${formatClock(presence.since || 0)}` : "";
  });
}

function renderTarget() {
  document.querySelectorAll("button.desk").forEach((desk) => {
    const chosen = state.target && state.target.target_kind === "student" && state.target.student === desk.dataset.student;
    desk.setAttribute("aria-pressed", String(Boolean(chosen)));
  });
  document.querySelectorAll("button.target").forEach((button) => {
    const chosen = state.target && state.target.target_kind === button.dataset.target;
    button.setAttribute("aria-pressed", String(Boolean(chosen)));
  });
  const ready = Boolean(state.target) && clock.state === "running";
  ui.categories.querySelectorAll("button").forEach((button) => { button.disabled = !ready; });
}

function renderClock() {
  const seconds = clock.seconds();
  ui.clock.textContent = formatClock(seconds);
  ui.clock.dataset.seconds = seconds.toFixed(1);
  const show = (action, visible) => { $(`[data-action=${action}]`).hidden = !visible; };
  show("start", clock.state === "idle");
  show("pause", clock.state === "running");
  show("resume", clock.state === "paused");
  show("end", (clock.state === "running" || clock.state === "paused") && !state.endArmed);
  show("end-confirm", state.endArmed);
  document.body.dataset.clock = clock.state;
  ui.sampling.disabled = clock.state !== "idle";
  ui.interval.disabled = clock.state !== "idle";
  ui.intervalLabel.hidden = clock.sampling.method === "continuous";
  const interval = clock.sampling.interval;
  if (clock.state === "running" && interval) {
    const due = Math.floor(seconds / interval);
    if (due > state.prompted) {
      state.prompted = due;
      const what = clock.sampling.method === "scan" ? "scan the class, student by student" : "observe now";
      ui.prompt.textContent = `Prompt ${due} at ${formatClock(due * interval)}: ${what}`;
      ui.prompt.hidden = false;
      if (navigator.vibrate) navigator.vibrate(150);
    }
  }
}

function renderLog() {
  const rows = [...state.events.values()].filter((e) => !e.deleted)
    .sort((a, b) => b.video_seconds - a.video_seconds || (b.coded_at || 0) - (a.coded_at || 0));
  ui.count.textContent = String(rows.length);
  document.body.dataset.events = String(rows.length);
  ui.log.replaceChildren(...rows.map((event) => {
    const item = document.createElement("li");
    const dot = document.createElement("span");
    dot.className = `dot ${event.valence}`;
    item.append(dot, `${formatClock(event.video_seconds)} · ${targetLabel(event)} · ${event.subtype || event.valence}`);
    return item;
  }));
}

let waitingRenders = 0; // the newest renderWaiting call; older ones finishing later write nothing

async function renderWaiting() {
  // Counting the outbox is asynchronous: only the newest call writes, so an older count never
  // shows "all synced" while a change still waits.
  const render = ++waitingRenders;
  const waiting = queue ? await queue.pending() : 0;
  if (render !== waitingRenders) return;
  state.waiting = waiting;
  ui.waiting.textContent = state.waiting ? `${state.waiting} waiting to sync` : "all synced";
  ui.waiting.dataset.pending = String(state.waiting);
  document.body.dataset.pending = String(state.waiting);
  ui.network.textContent = navigator.onLine ? "online" : "offline";
}

// --- changes ---------------------------------------------------------------------------------

async function queueChange(change, event = null) {
  await store.record(event, change);
  queue.kick();
  await renderWaiting();
}

function sessionBody() {
  return {
    sampling_method: clock.sampling.method,
    interval_seconds: clock.sampling.method === "continuous" ? null : clock.sampling.interval,
    state: clock.state === "idle" ? "paused" : clock.state,
    clock_seconds: Math.round(clock.seconds() * 1000) / 1000,
  };
}

async function sendSession() {
  await queueChange({ method: "PUT", url: `/api/v1/lessons/${lesson.id}/live`, body: sessionBody() });
}

function contentOf(event) {
  return {
    lesson_id: lesson.id, video_seconds: event.video_seconds, frame: null, teacher,
    target_kind: event.target_kind, student: event.student || null, valence: event.valence,
    subtype: event.subtype || null, codebook_id: codebook ? codebook.id : null, source: "live",
  };
}

async function tapCategory(category) {
  if (clock.state !== "running") { hint("Start (or resume) the lesson clock first."); return; }
  if (!state.target) { hint("Tap a student, Group or Whole class first."); return; }
  const event = {
    ...state.target, client_id: newId(), revision: 1, deleted: false, lesson_id: lesson.id,
    video_seconds: Math.round(clock.seconds() * 1000) / 1000, valence: category.valence,
    subtype: category.subtype || null, coded_at: Date.now(), saved_revision: 0,
  };
  event.teacher = teacher;
  state.target = null;
  state.events.set(event.client_id, event);
  renderTarget();
  renderLog();
  hint(`${targetLabel(event)}: ${category.label || category.subtype || category.valence} at ${formatClock(event.video_seconds)}`);
  await queueChange({ method: "PUT", url: `/api/v1/events/${event.client_id}`,
    body: { ...contentOf(event), revision: 1 }, client_id: event.client_id, revision: 1 }, event);
}

async function undo() {
  const last = [...state.events.values()].filter((e) => !e.deleted)
    .sort((a, b) => b.video_seconds - a.video_seconds || (b.coded_at || 0) - (a.coded_at || 0))[0];
  if (!last) { hint("Nothing to undo."); return; }
  const revision = last.revision + 1;
  const next = { ...last, revision, deleted: true };
  state.events.set(last.client_id, next);
  renderLog();
  hint(`Undone: ${targetLabel(last)} at ${formatClock(last.video_seconds)}`);
  await queueChange({ method: "DELETE", url: `/api/v1/events/${last.client_id}?revision=${revision}`,
    client_id: last.client_id, revision }, next);
}

async function mark(code, present, visible) {
  const seconds = Math.round(clock.seconds() * 1000) / 1000;
  clock.setPresence(code, present, visible, seconds);
  renderPresence();
  const what = !present ? "absent" : !visible ? "out of view" : "back";
  hint(`${nameOf(code)} ${what} from ${formatClock(seconds)}`);
  const clientId = newId();
  await queueChange({ method: "PUT", url: `/api/v1/presence/${clientId}`, body: {
    lesson_id: lesson.id, student: code, start_seconds: seconds, end_seconds: null, present, visible } });
}

async function tapStudent(code) {
  const presence = clock.presenceOf(code);
  if (state.mode === "absent") {
    await mark(code, !presence.present, !presence.present);
    return;
  }
  if (state.mode === "view") {
    if (!presence.present) { hint(`${nameOf(code)} is absent; mark them back first.`); return; }
    await mark(code, true, !presence.visible);
    return;
  }
  if (!presence.present) { hint(`${nameOf(code)} is marked absent; use Absent / back when they return.`); return; }
  state.target = state.target && state.target.student === code ? null : { target_kind: "student", student: code };
  renderTarget();
  hint(state.target ? `${nameOf(code)}: now a category` : "");
}

function tapTarget(kind) {
  state.target = state.target && state.target.target_kind === kind ? null : { target_kind: kind, student: null };
  renderTarget();
  hint(state.target ? `${kind === "class" ? "whole class" : "group"}: now a category` : "");
}

async function clockAction(action) {
  let changed = false;
  if (action === "start") {
    const interval = Number(ui.interval.value);
    clock.sampling = { method: ui.sampling.value, interval: ui.sampling.value === "continuous" ? null : Math.max(5, interval || 30) };
    changed = clock.start();
  } else if (action === "pause") {
    changed = clock.pause();
  } else if (action === "resume") {
    changed = clock.start();
  } else if (action === "end") {
    state.endArmed = true;
    setTimeout(() => { state.endArmed = false; renderClock(); }, 8000);
  } else if (action === "end-confirm") {
    state.endArmed = false;
    changed = clock.end();
    if (changed) hint(`Lesson ended at ${formatClock(clock.seconds())}.`);
  }
  renderClock();
  renderTarget();
  if (changed) await sendSession();
}

// --- logout: the tablet is only a buffer ----------------------------------------------------

async function forgetCachedPages() {
  if (!("caches" in window)) return;
  for (const name of await caches.keys()) {
    if (!name.startsWith("classdyad-live-")) continue;
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      if (!new URL(request.url).pathname.startsWith("/static/")) await cache.delete(request);
    }
  }
}

async function logOut() {
  try { await api("POST", "/api/v1/auth/logout"); } catch (error) { /* offline: the session ends when it expires */ }
  await forgetCachedPages();
  window.location.assign("/login");
}

async function tryLogOut() {
  await renderWaiting();
  if (state.waiting === 0) { await logOut(); return; }
  ui.warningText.textContent = `${state.waiting} change(s) are only on this tablet and not yet on the server. `
    + `If you log out now they stay here and are sent when ${setup.username} logs in on this tablet again; `
    + "stay connected until the count reaches 0 to be safe.";
  ui.warning.hidden = false;
  document.body.dataset.logoutWarning = "shown";
}

// --- start -----------------------------------------------------------------------------------

function bind() {
  document.querySelectorAll("[data-action]").forEach((button) => {
    button.addEventListener("click", () => clockAction(button.dataset.action));
  });
  document.querySelectorAll("[data-mode]").forEach((button) => {
    button.addEventListener("click", () => {
      state.mode = button.dataset.mode;
      state.target = null;
      document.querySelectorAll("[data-mode]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
      document.body.dataset.mode = state.mode;
      renderTarget();
      hint(state.mode === "code" ? "Tap a student, then a category." : "Tap a student to mark them.");
    });
  });
  document.querySelectorAll("[data-target]").forEach((button) => {
    button.addEventListener("click", () => tapTarget(button.dataset.target));
  });
  $("[data-undo]").addEventListener("click", undo);
  ui.sampling.value = clock.sampling.method;
  if (clock.sampling.interval) ui.interval.value = String(clock.sampling.interval);
  ui.sampling.addEventListener("change", () => {
    clock.sampling = { method: ui.sampling.value, interval: ui.sampling.value === "continuous" ? null : Number(ui.interval.value) || 30 };
    renderClock();
  });
  $("[data-live-logout]").addEventListener("click", tryLogOut);
  $("[data-logout-anyway]").addEventListener("click", logOut);
  $("[data-logout-stay]").addEventListener("click", () => { ui.warning.hidden = true; queue.kick(); });
  window.addEventListener("online", renderWaiting);
  window.addEventListener("offline", renderWaiting);
}

async function workOffline() {
  // Register the service worker and put this page in its cache, so that it opens offline.
  if (!("serviceWorker" in navigator)) return;
  await navigator.serviceWorker.register("/live-sw.js", { scope: "/" });
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) {
    await new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
  }
  if (navigator.onLine) {
    try { await fetch(window.location.href, { credentials: "same-origin" }); } catch (error) { /* cached already */ }
  }
  document.body.dataset.offline = "ready";
}

async function start() {
  if (clock.state === "idle" && setup.session) {
    // this lesson was started on another device (or the local copy was cleared)
    clock.state = setup.session.state === "running" ? "paused" : setup.session.state;
    clock.accumulated = setup.session.clock_seconds;
    clock.sampling = { method: setup.session.sampling_method, interval: setup.session.interval_seconds };
    clock.save();
  }
  store = await EventStore.open(`classdyad-live-${setup.username}`);
  queue = new SendQueue(store, {
    onChange: () => { renderWaiting(); },
    onRefused: (change, status, detail) => {
      const item = document.createElement("li");
      item.textContent = `${change.method} ${change.url}: ${status} ${detail}`;
      ui.refused.append(item);
      ui.refused.hidden = false;
    },
  });
  try {
    const remote = await api("GET", `/api/v1/lessons/${lesson.id}/events?include_deleted=true`);
    await store.merge(remote);
  } catch (error) { /* offline: the local copy is used */ }
  for (const event of await store.lessonEvents(lesson.id)) state.events.set(event.client_id, event);
  if (clock.sampling.interval) state.prompted = Math.floor(clock.seconds() / clock.sampling.interval);
  renderRoom();
  bind();
  renderPresence();
  renderTarget();
  renderClock();
  renderLog();
  await renderWaiting();
  setInterval(renderClock, 250);
  setInterval(renderWaiting, 2000);
  queue.kick();
  document.body.dataset.live = "ready";
  workOffline().catch((error) => { ui.network.textContent = `offline use unavailable: ${error.message}`; });
}

start();
