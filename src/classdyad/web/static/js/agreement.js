// The agreement view: statistics of two coders and the adjudication queue beside the video.
// Each disagreement can be settled by keeping one coder's version, writing an edited one
// (a form filled with a coder's version) or dropping it; an event both coders missed is added
// with the same form. Every decision goes to POST /api/v1/lessons/{id}/adjudications.

import { api } from "./api.js";

const root = document.querySelector(".agreement");
const lessonId = Number(root.dataset.lesson);
const fps = Number(root.dataset.fps) || 25;
const setup = JSON.parse(document.getElementById("adjudication-data").textContent);
const teachers = setup.lesson.teachers || [];
const video = document.querySelector("video[data-agreement]");
const errorBox = root.querySelector("[data-error]");

function describe(side) {
  if (!side) return "(no event)";
  const target = side.target_kind === "student" ? side.student : side.target_kind;
  return `${side.video_seconds.toFixed(2)} s · ${target} · ${side.subtype || side.valence}`;
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function showError(error) {
  errorBox.textContent = error.message;
  errorBox.hidden = false;
}

async function decide(unit, decision, event = null) {
  errorBox.hidden = true;
  try {
    const json = { unit, decision };
    if (event) json.event = event;
    await api("POST", `/api/v1/lessons/${lessonId}/adjudications`, { json });
    await load();
  } catch (error) {
    showError(error);
  }
}

function button(label, handler, name) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (name) b.dataset.action = name;
  b.addEventListener("click", handler);
  return b;
}

function labelled(text, control) {
  const label = document.createElement("label");
  label.append(text, control);
  return label;
}

function choice(name, options, value) {
  const select = document.createElement("select");
  select.name = name;
  for (const [optionValue, text] of options) {
    const option = document.createElement("option");
    option.value = optionValue;
    option.textContent = text;
    select.append(option);
  }
  if (value !== undefined && value !== null) select.value = value;
  return select;
}

// A form for one event: time, teacher, whom, valence, category; `submit` gets the event.
function eventForm(initial, submitLabel, submit) {
  const form = document.createElement("form");
  form.className = "adjudication-form";
  const time = document.createElement("input");
  time.name = "video_seconds";
  time.type = "number";
  time.min = "0";
  time.step = "0.01";
  time.required = true;
  time.value = initial.video_seconds !== undefined ? String(initial.video_seconds) : "";
  const teacher = choice("teacher", teachers.map((t) => [t, t]), initial.teacher || teachers[0]);
  const targets = [...setup.students.map((s) => [s, s]), ["group", "a group"],
    ["class", "the whole class"]];
  const target = choice("target", targets,
    initial.target_kind === "student" ? initial.student : initial.target_kind);
  const valence = choice("valence", [["positive", "positive"], ["negative", "negative"],
    ["neutral", "neutral"]], initial.valence || "neutral");
  const subtype = choice("subtype", [["", "(none)"], ...setup.categories.map((c) =>
    [c.subtype, `${c.label || c.subtype} (${c.valence})`])], initial.subtype || "");
  subtype.addEventListener("change", () => {
    const category = setup.categories.find((c) => c.subtype === subtype.value);
    if (category) valence.value = category.valence;
  });
  const now = button("video time", () => {
    if (video) time.value = video.currentTime.toFixed(2);
  }, "video-time");
  const send = document.createElement("button");
  send.type = "submit";
  send.textContent = submitLabel;
  form.append(labelled("time (s)", time), now, labelled("teacher", teacher),
    labelled("whom", target), labelled("category", subtype), labelled("valence", valence), send);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const seconds = Number(time.value);
    const student = !["group", "class"].includes(target.value);
    submit({
      lesson_id: lessonId, video_seconds: seconds, frame: Math.max(0, Math.round(seconds * fps)),
      teacher: teacher.value, target_kind: student ? "student" : target.value,
      student: student ? target.value : null, valence: valence.value,
      subtype: subtype.value || null,
    });
  });
  return form;
}

// play the video from shortly before a lesson time (in the part of the lesson that holds it)
async function show(seconds) {
  const parts = setup.lesson.videos || [];
  const started = parts.filter((p) => p.start_seconds !== null && p.start_seconds <= seconds);
  const file = started.length ? started[started.length - 1] : parts[0];
  if (!file) return;
  if (video.dataset.file !== String(file.id)) {
    const loaded = new Promise((resolve) => video.addEventListener("loadeddata", resolve, { once: true }));
    video.src = `/api/v1/videos/${file.id}`;
    video.dataset.file = String(file.id);
    await loaded;
  }
  video.currentTime = Math.max(0, seconds - (file.start_seconds || 0) - 2);
  video.play();
}

function openEditor(tr, u) {
  const next = tr.nextElementSibling;
  if (next && next.dataset.editor === u.unit) { next.remove(); return; }
  const row = document.createElement("tr");
  row.dataset.editor = u.unit;
  const td = document.createElement("td");
  td.colSpan = 4;
  const side = u.a || u.b;
  td.append(eventForm({ ...side, teacher: side.teacher }, "save edited version",
    (event) => decide(u.unit, "edit", event)));
  row.append(td);
  tr.after(row);
}

function renderAdded(added) {
  const list = root.querySelector("[data-added]");
  list.replaceChildren(...added.map((e) => {
    const li = document.createElement("li");
    li.dataset.added = e.client_id;
    li.textContent = `${describe(e)} · added by ${e.adjudicator}`;
    return li;
  }));
}

async function load() {
  const params = new URLSearchParams(window.location.search);
  const query = new URLSearchParams();
  for (const key of ["coder_a", "coder_b", "window"]) if (params.get(key)) query.set(key, params.get(key));
  let view;
  try {
    view = await api("GET", `/api/v1/lessons/${lessonId}/agreement?${query}`);
  } catch (error) {
    root.querySelector("[data-summary]").textContent = error.message;
    document.body.dataset.agreement = "loaded";
    return;
  }
  const c = view.counts;
  root.querySelector("[data-summary]").textContent =
    `${view.coder_a.code} (A) vs ${view.coder_b.code} (B), window ${view.window} s: ` +
    `${c.n_matched} matched, ${c.n_only_a} only A, ${c.n_only_b} only B; ${view.units.length} disagreement(s)`;
  const stats = root.querySelector("[data-statistics]");
  stats.tBodies[0].replaceChildren(...view.statistics.map((s) => {
    const tr = document.createElement("tr");
    tr.append(cell(s.aspect), cell(s.statistic),
      cell(s.estimate === null ? "–" : s.estimate.toFixed(3)), cell(s.n === null ? "–" : String(s.n)));
    tr.cells[2].className = "num";
    tr.cells[3].className = "num";
    return tr;
  }));
  stats.hidden = false;
  const units = root.querySelector("[data-units]");
  units.tBodies[0].replaceChildren(...view.units.map((u) => {
    const tr = document.createElement("tr");
    tr.dataset.unit = u.unit;
    const time = cell(`${u.time.toFixed(2)} s `);
    if (video) time.append(button("show", () => show(u.time)));
    const decision = document.createElement("td");
    if (u.decision) {
      decision.textContent = u.decision.replace("_", " ");
      decision.dataset.decision = u.decision;
    } else {
      if (u.a) decision.append(button("keep A", () => decide(u.unit, "keep_a"), "keep_a"));
      if (u.b) decision.append(button("keep B", () => decide(u.unit, "keep_b"), "keep_b"));
      decision.append(button("edit", () => openEditor(tr, u), "edit"));
      decision.append(button("drop", () => decide(u.unit, "drop"), "drop"));
    }
    tr.append(time, cell(describe(u.a)), cell(describe(u.b)), decision);
    return tr;
  }));
  renderAdded(view.added || []);
  document.body.dataset.agreement = "loaded";
  document.body.dataset.decided = String(view.units.filter((u) => u.decision).length);
  document.body.dataset.addedEvents = String((view.added || []).length);
}

root.querySelector("[data-add]").append(eventForm({}, "add event",
  (event) => decide("add", "add", event)));
load();
