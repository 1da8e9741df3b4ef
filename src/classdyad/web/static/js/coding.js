// The coding page: two keys per interaction (whom, then what), locked to the frame on screen.
// Every change goes to IndexedDB first and reaches the server through the send queue.
// A lesson filmed in parts has several video files: the coder picks one; times are kept on the
// lesson's clock (the part's start plus the time in its file), frames count within the file.

import { api } from "./api.js";
import { EventStore, SendQueue, newId } from "./event-queue.js";

const SPEEDS = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2];
const setup = JSON.parse(document.getElementById("coding-data").textContent);
const lesson = setup.lesson;
const video = document.querySelector("video[data-coding]");
const parts = lesson.videos || [];
const partChoice = document.querySelector("select[data-video-file]");
let part = parts[0] || null; // the video file on screen
const categories = (setup.codebook && setup.codebook.categories) || [];
const byHotkey = new Map(categories.filter((c) => c.hotkey).map((c) => [c.hotkey, c]));
const byStudentKey = new Map(setup.students.filter((s) => s.key).map((s) => [s.key, s]));
const teacher = lesson.teachers[0] || null;

const ui = {
  time: document.querySelector("[data-time]"),
  frame: document.querySelector("[data-frame]"),
  speed: document.querySelector("[data-speed]"),
  mode: document.querySelector("[data-mode]"),
  status: document.querySelector("[data-status]"),
  refused: document.querySelector("[data-refused]"),
  list: document.querySelector("[data-events]"),
  jump: document.querySelector("input[name=jump]"),
  offset: document.querySelector("input[name=offset]"),
  done: document.querySelector("button[data-done]"),
};

const state = {
  shownTime: null, // media time of the frame on screen (requestVideoFrameCallback)
  pending: null, // the target chosen by the first key, with the time of that key
  recode: null, // the event being re-coded (edit), if any
  selected: null,
  events: new Map(),
  undo: [],
  redo: [],
  offset: Number(setup.reaction_offset) || 0,
};

let store;
let queue;
let chain = Promise.resolve();
let working = 0; // key presses whose changes are not in IndexedDB yet

function serial(task) {
  // Changes are made one after another, in the order of the key presses.
  working += 1;
  renderStatus();
  chain = chain.then(task).catch((error) => {
    ui.refused.hidden = false;
    ui.refused.append(Object.assign(document.createElement("li"), { textContent: String(error) }));
  }).finally(() => { working -= 1; renderStatus(); });
  return chain;
}

function fps() { return (part && part.frame_rate) || 25; }

function frameOf(seconds) { return Math.max(0, Math.round(seconds * fps())); }

// a time in the file on screen, on the lesson's clock
function lessonSeconds(fileSeconds) { return ((part && part.start_seconds) || 0) + fileSeconds; }

// the video file that holds a lesson time (the one it was coded on, when known)
function partOf(seconds, fileId) {
  const known = parts.find((p) => p.id === fileId);
  if (known) return known;
  const started = parts.filter((p) => p.start_seconds !== null && p.start_seconds <= seconds);
  return started.length ? started[started.length - 1] : part;
}

function showPart(next) {
  // put another of the lesson's video files on screen; resolves once it can be shown
  if (!next || next === part) return Promise.resolve();
  video.pause();
  part = next;
  state.shownTime = null;
  document.body.dataset.video = "loading";
  document.body.dataset.part = String(part.position);
  if (partChoice) partChoice.value = String(part.id);
  return new Promise((resolve) => {
    video.addEventListener("loadeddata", () => { renderClock(); resolve(); }, { once: true });
    video.src = `/api/v1/videos/${part.id}`;
  });
}

function shownSeconds() {
  return state.shownTime !== null ? state.shownTime : video.currentTime;
}

function trackFrames() {
  if (!("requestVideoFrameCallback" in HTMLVideoElement.prototype)) return;
  const onFrame = (_now, metadata) => {
    state.shownTime = metadata.mediaTime;
    renderClock();
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}

function renderClock() {
  const seconds = shownSeconds();
  ui.time.textContent = lessonSeconds(seconds).toFixed(3);
  ui.frame.textContent = String(frameOf(seconds));
  ui.frame.dataset.value = ui.frame.textContent;
  ui.speed.textContent = `${video.playbackRate}×`;
}

function targetLabel(event) {
  if (event.target_kind === "student") {
    const student = setup.students.find((s) => s.code === event.student);
    return student && student.first_name ? `${event.student} (${student.first_name})` : event.student;
  }
  return event.target_kind === "class" ? "whole class" : "group";
}

function renderMode() {
  if (state.pending) {
    const what = state.recode ? "re-code" : "code";
    ui.mode.textContent = `${what}: ${targetLabel(state.pending)} at frame ${state.pending.frame} — now a category key (Esc cancels)`;
  } else if (state.recode) {
    ui.mode.textContent = "re-code the selected event: a student key (G group, C class), then a category key";
  } else {
    ui.mode.textContent = "a student key (G group, C class), then a category key";
  }
}

let statusRenders = 0; // the newest renderStatus call; older ones finishing later write nothing

async function renderStatus() {
  // Counting the outbox is asynchronous, so calls can finish out of order; only the newest call
  // (which read the newest state) may write, or an older count could show "all saved" while a
  // change still waits.
  const render = ++statusRenders;
  if (working && document.body.dataset.pending === "0") {
    // a key press is not in IndexedDB yet: never show "all saved" while counting
    document.body.dataset.pending = ui.status.dataset.pending = String(working);
    ui.status.textContent = `${working} pending`;
  }
  const outbox = queue ? await queue.pending() : 0;
  if (render !== statusRenders) return;
  const waiting = outbox + working;
  const saved = [...state.events.values()].filter((e) => (e.saved_revision || 0) >= e.revision).length;
  ui.status.textContent = waiting ? `${waiting} pending · ${saved} saved` : `all saved · ${saved} events`;
  ui.status.dataset.pending = String(waiting);
  document.body.dataset.pending = String(waiting);
}

function renderList() {
  const rows = [...state.events.values()].filter((e) => !e.deleted)
    .sort((a, b) => a.video_seconds - b.video_seconds || a.client_id.localeCompare(b.client_id));
  ui.list.replaceChildren(...rows.map((event) => {
    const row = document.createElement("li");
    row.dataset.clientId = event.client_id;
    row.tabIndex = -1;
    if (event.client_id === state.selected) row.setAttribute("aria-selected", "true");
    const saved = (event.saved_revision || 0) >= event.revision;
    const dot = document.createElement("span");
    dot.className = `dot ${event.valence}`;
    const text = document.createElement("span");
    text.textContent = `${event.video_seconds.toFixed(2)} s · frame ${event.frame} · ${targetLabel(event)} · ${event.subtype || event.valence}`;
    const mark = document.createElement("span");
    mark.className = saved ? "saved" : "pending";
    mark.textContent = saved ? "saved" : "pending";
    row.append(dot, text, mark);
    row.addEventListener("click", () => select(event.client_id, true));
    return row;
  }));
  renderStatus();
}

async function select(clientId, seek) {
  state.selected = clientId;
  const event = state.events.get(clientId);
  renderList();
  if (event && seek) {
    video.pause();
    await showPart(partOf(event.video_seconds, event.video_file));
    const start = (part && part.start_seconds) || 0;
    video.currentTime = Math.max(0, event.video_seconds - start) + 0.25 / fps();
  }
}

function contentOf(event) {
  return {
    lesson_id: lesson.id, video_seconds: event.video_seconds, frame: event.frame,
    teacher: event.teacher, target_kind: event.target_kind, student: event.student || null,
    valence: event.valence, subtype: event.subtype || null,
    codebook_id: event.codebook_id ?? null, source: "video",
    video_file: event.video_file ?? null,
  };
}

async function write(event, { deleted = false } = {}) {
  // A new revision of the event: stored locally first, then queued for the server.
  const previous = state.events.get(event.client_id);
  const revision = previous ? previous.revision + 1 : 1;
  const next = { ...event, revision, deleted, lesson_id: lesson.id,
    saved_revision: previous ? previous.saved_revision || 0 : 0 };
  const change = deleted
    ? { method: "DELETE", url: `/api/v1/events/${event.client_id}?revision=${revision}` }
    : { method: "PUT", url: `/api/v1/events/${event.client_id}`, body: { ...contentOf(event), revision } };
  state.events.set(event.client_id, next);
  await store.record(next, { ...change, client_id: event.client_id, revision });
  renderList();
  queue.kick();
  return next;
}

async function code(category, target, recode) {
  if (recode) {
    const original = state.events.get(recode);
    if (original && !original.deleted) {
      const before = contentOf(original);
      const after = { ...original, target_kind: target.target_kind, student: target.student,
        valence: category.valence, subtype: category.subtype };
      await write(after);
      state.undo.push({ kind: "edit", client_id: original.client_id, before, after: contentOf(after) });
      state.redo = [];
    }
  } else {
    const event = {
      client_id: newId(), video_seconds: target.video_seconds, frame: target.frame, teacher,
      target_kind: target.target_kind, student: target.student, valence: category.valence,
      subtype: category.subtype, codebook_id: setup.codebook ? setup.codebook.id : null,
      video_file: target.video_file ?? null,
    };
    await write(event);
    state.undo.push({ kind: "create", client_id: event.client_id, after: contentOf(event) });
    state.redo = [];
    state.selected = event.client_id;
  }
  renderMode();
  renderList();
}

async function apply(step, direction) {
  const current = state.events.get(step.client_id);
  const restore = (content) => write({ ...current, ...content, client_id: step.client_id });
  if (step.kind === "create") {
    if (direction === "undo") await write(current, { deleted: true });
    else await restore(step.after);
  } else if (step.kind === "edit") {
    await restore(direction === "undo" ? step.before : step.after);
  } else if (step.kind === "delete") {
    if (direction === "undo") await restore(step.before);
    else await write(current, { deleted: true });
  }
}

async function undo() {
  const step = state.undo.pop();
  if (!step) return;
  await apply(step, "undo");
  state.redo.push(step);
}

async function redo() {
  const step = state.redo.pop();
  if (!step) return;
  await apply(step, "redo");
  state.undo.push(step);
}

async function deleteSelected() {
  const event = state.events.get(state.selected);
  if (!event || event.deleted) return;
  await write(event, { deleted: true });
  state.undo.push({ kind: "delete", client_id: event.client_id, before: contentOf(event) });
  state.redo = [];
  state.selected = null;
  renderList();
}

function chooseTarget(target) {
  const seconds = Math.max(0, shownSeconds() - state.offset);
  state.pending = { ...target, video_seconds: lessonSeconds(seconds), frame: frameOf(seconds),
    video_file: part ? part.id : null };
  if (state.recode) {
    const original = state.events.get(state.recode);
    state.pending.video_seconds = original.video_seconds;
    state.pending.frame = original.frame;
    state.pending.video_file = original.video_file ?? null;
  }
  renderMode();
}

function stepFrames(count) {
  video.pause();
  const frame = frameOf(shownSeconds()) + count;
  video.currentTime = Math.max(0, (frame + 0.25) / fps());
}

function moveSelection(step) {
  const rows = [...ui.list.querySelectorAll("li")];
  if (!rows.length) return;
  let index = rows.findIndex((row) => row.dataset.clientId === state.selected);
  index = index < 0 ? (step > 0 ? 0 : rows.length - 1) : Math.min(rows.length - 1, Math.max(0, index + step));
  select(rows[index].dataset.clientId, true);
}

function onKey(event) {
  const field = event.target.closest("input, select, textarea");
  if (field) {
    if (event.key === "Escape") field.blur();
    return;
  }
  const key = event.key;
  const control = event.ctrlKey || event.metaKey;
  let handled = true;
  if (control && (key === "z" || key === "Z")) {
    serial(event.shiftKey ? redo : undo);
  } else if (control && (key === "y" || key === "Y")) {
    serial(redo);
  } else if (control || event.altKey) {
    handled = false;
  } else if (key === " ") {
    if (video.paused) video.play(); else video.pause();
  } else if (key === "Escape") {
    state.pending = null;
    state.recode = null;
    renderMode();
  } else if (state.pending) {
    const category = byHotkey.get(key);
    if (category) {
      const target = state.pending;
      const recode = state.recode;
      state.pending = null;
      state.recode = null;
      renderMode();
      serial(() => code(category, target, recode));
    } else {
      handled = false;
    }
  } else if (key === "ArrowLeft") {
    video.currentTime = Math.max(0, video.currentTime - (Number(ui.jump.value) || 5));
  } else if (key === "ArrowRight") {
    video.currentTime = video.currentTime + (Number(ui.jump.value) || 5);
  } else if (key === ",") {
    stepFrames(-1);
  } else if (key === ".") {
    stepFrames(1);
  } else if (key === "-" || key === "=" || key === "+") {
    const index = SPEEDS.indexOf(video.playbackRate);
    const next = SPEEDS[Math.min(SPEEDS.length - 1, Math.max(0, (index < 0 ? 3 : index) + (key === "-" ? -1 : 1)))];
    video.playbackRate = next;
    renderClock();
  } else if (key === "ArrowUp") {
    moveSelection(-1);
  } else if (key === "ArrowDown") {
    moveSelection(1);
  } else if (key === "Delete" || key === "Backspace") {
    serial(deleteSelected);
  } else if (key === "E") {
    if (state.selected) { state.recode = state.selected; renderMode(); }
  } else if (key === "G") {
    chooseTarget({ target_kind: "group", student: null });
  } else if (key === "C") {
    chooseTarget({ target_kind: "class", student: null });
  } else if (byStudentKey.has(key)) {
    chooseTarget({ target_kind: "student", student: byStudentKey.get(key).code });
  } else {
    handled = false;
  }
  if (handled) event.preventDefault();
}

function bindPresence() {
  document.querySelectorAll("input[data-presence]").forEach((box) => {
    box.addEventListener("change", async () => {
      const row = box.closest("[data-student]");
      const present = row.querySelector("input[data-presence=present]").checked;
      const visible = row.querySelector("input[data-presence=visible]").checked;
      const clientId = newId();
      const body = { lesson_id: lesson.id, student: row.dataset.student,
        start_seconds: Math.max(0, lessonSeconds(shownSeconds())), end_seconds: null, present, visible };
      await store.record(null, { method: "PUT", url: `/api/v1/presence/${clientId}`, body });
      queue.kick();
      renderStatus();
      box.blur();
    });
  });
}

function bindControls() {
  ui.offset.value = String(state.offset);
  ui.offset.addEventListener("change", async () => {
    state.offset = Math.max(0, Number(ui.offset.value) || 0);
    if (setup.role === "coder") {
      try { await api("PUT", "/api/v1/me/reaction-offset", { json: { reaction_offset_seconds: state.offset } }); } catch (error) { /* kept locally */ }
    }
  });
  if (ui.done) {
    ui.done.addEventListener("click", async () => {
      await queue.run();
      if (await queue.pending()) {
        ui.done.textContent = "Some events still wait to be saved; try again when connected";
        return;
      }
      await api("POST", `/api/v1/lessons/${lesson.id}/done`);
      ui.done.textContent = "Lesson marked done";
      ui.done.disabled = true;
    });
  }
  document.addEventListener("keydown", onKey);
  if (partChoice) {
    partChoice.addEventListener("change", () => {
      showPart(parts.find((p) => String(p.id) === partChoice.value));
      partChoice.blur();
    });
  }
  if (part) document.body.dataset.part = String(part.position);
  video.addEventListener("seeked", renderClock);
  const playing = () => { document.body.dataset.paused = String(video.paused); };
  video.addEventListener("play", playing);
  video.addEventListener("pause", playing);
  playing();
  const loaded = () => { if (video.readyState >= 2) document.body.dataset.video = "loaded"; };
  video.addEventListener("loadeddata", loaded);
  loaded();
  video.addEventListener("ratechange", renderClock);
}

async function start() {
  store = await EventStore.open(`classdyad-coding-${setup.username}`);
  queue = new SendQueue(store, {
    onChange: () => { renderList(); },
    onSaved: (change) => {
      const event = change.client_id && state.events.get(change.client_id);
      if (event) event.saved_revision = Math.max(event.saved_revision || 0, change.revision);
    },
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
  trackFrames();
  bindControls();
  bindPresence();
  renderClock();
  renderMode();
  renderList();
  queue.kick();
  document.body.dataset.coding = "ready";
}

start();
