// The agreement view: statistics of two coders and the adjudication queue beside the video.

import { api } from "./api.js";

const root = document.querySelector(".agreement");
const lessonId = root.dataset.lesson;
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

async function decide(unit, decision) {
  errorBox.hidden = true;
  try {
    await api("POST", `/api/v1/lessons/${lessonId}/adjudications`, { json: { unit, decision } });
    await load();
  } catch (error) {
    errorBox.textContent = error.message;
    errorBox.hidden = false;
  }
}

function button(label, handler) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.addEventListener("click", handler);
  return b;
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
    if (video) {
      time.append(button("show", () => { video.currentTime = Math.max(0, u.time - 2); video.play(); }));
    }
    const decision = document.createElement("td");
    if (u.decision) {
      decision.textContent = u.decision.replace("_", " ");
    } else {
      if (u.a) decision.append(button("keep A", () => decide(u.unit, "keep_a")));
      if (u.b) decision.append(button("keep B", () => decide(u.unit, "keep_b")));
      decision.append(button("drop", () => decide(u.unit, "drop")));
    }
    tr.append(time, cell(describe(u.a)), cell(describe(u.b)), decision);
    return tr;
  }));
  document.body.dataset.agreement = "loaded";
}

load();
