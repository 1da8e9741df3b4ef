// The seating-chart editor: students onto desks by drag and drop (mouse) or tap-tap (touch).

import { api } from "./api.js";

const setup = JSON.parse(document.getElementById("seating-data").textContent);
const chart = setup.chart;
const students = new Map(setup.students.map((s) => [s.code, s]));
const $ = (selector) => document.querySelector(selector);
const ui = {
  desks: $("[data-desks]"), tray: $("[data-tray]"), rows: $("input[name=rows]"),
  columns: $("input[name=columns]"), status: $("[data-chart-status]"), error: $("[data-error]"),
};
const state = {
  rows: chart.rows, columns: chart.columns,
  seats: new Map(chart.seats.filter((s) => students.has(s.student)).map((s) => [`${s.row},${s.column}`, s.student])),
  picked: null, stored: chart.stored, changed: false,
};

function status() {
  let text;
  if (state.changed) text = "changed; not saved yet";
  else if (state.stored) text = "saved for this wave";
  else if (chart.copied_from_wave) text = `copied from wave ${chart.copied_from_wave}; save it to keep it for this wave`;
  else text = "a first layout in code order; arrange it and save";
  ui.status.textContent = text;
  document.body.dataset.chart = state.changed ? "changed" : state.stored ? "saved" : "unsaved";
}

function chip(code) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = "chip";
  element.draggable = true;
  element.dataset.student = code;
  const student = students.get(code);
  element.textContent = student && student.first_name ? `${code} · ${student.first_name}` : code;
  element.setAttribute("aria-pressed", String(state.picked === code));
  element.addEventListener("dragstart", (event) => {
    event.dataTransfer.setData("text/plain", code);
    event.dataTransfer.effectAllowed = "move";
  });
  element.addEventListener("click", (event) => {
    event.stopPropagation();
    state.picked = state.picked === code ? null : code;
    render();
  });
  return element;
}

function where(code) {
  for (const [key, value] of state.seats) if (value === code) return key;
  return null;
}

function place(code, key) {
  // key: "row,column" or null (the tray); a taken desk swaps its student to the mover's place
  const from = where(code);
  if (from === key) return;
  const other = key ? state.seats.get(key) : null;
  if (from) state.seats.delete(from);
  if (key) state.seats.set(key, code);
  if (other && from) state.seats.set(from, other);
  state.picked = null;
  state.changed = true;
  render();
}

function dropTarget(element, key) {
  element.addEventListener("dragover", (event) => { event.preventDefault(); element.classList.add("drop"); });
  element.addEventListener("dragleave", () => element.classList.remove("drop"));
  element.addEventListener("drop", (event) => {
    event.preventDefault();
    element.classList.remove("drop");
    const code = event.dataTransfer.getData("text/plain");
    if (students.has(code)) place(code, key);
  });
  element.addEventListener("click", () => { if (state.picked) place(state.picked, key); });
}

function render() {
  ui.desks.style.setProperty("--columns", String(state.columns));
  const cells = [];
  for (let row = 0; row < state.rows; row += 1) {
    for (let column = 0; column < state.columns; column += 1) {
      const key = `${row},${column}`;
      const desk = document.createElement("div");
      desk.className = "desk";
      desk.dataset.desk = key;
      const code = state.seats.get(key);
      if (code) desk.append(chip(code));
      dropTarget(desk, key);
      cells.push(desk);
    }
  }
  ui.desks.replaceChildren(...cells);
  const seated = new Set(state.seats.values());
  ui.tray.replaceChildren(...setup.students.filter((s) => !seated.has(s.code)).map((s) => chip(s.code)));
  ui.rows.value = String(state.rows);
  ui.columns.value = String(state.columns);
  status();
}

function resize() {
  const rows = Math.min(20, Math.max(1, Number(ui.rows.value) || 1));
  const columns = Math.min(20, Math.max(1, Number(ui.columns.value) || 1));
  for (const key of [...state.seats.keys()]) {
    const [row, column] = key.split(",").map(Number);
    if (row >= rows || column >= columns) state.seats.delete(key); // back to the tray
  }
  state.rows = rows;
  state.columns = columns;
  state.changed = true;
  render();
}

async function save() {
  ui.error.hidden = true;
  const seats = [...state.seats].map(([key, student]) => {
    const [row, column] = key.split(",").map(Number);
    return { student, row, column };
  });
  try {
    await api("PUT", `/api/v1/classrooms/${encodeURIComponent(chart.classroom)}/seating-chart?wave=${chart.wave}`,
      { json: { rows: state.rows, columns: state.columns, seats } });
    state.stored = true;
    state.changed = false;
    status();
  } catch (error) {
    ui.error.textContent = error.message;
    ui.error.hidden = false;
  }
}

ui.rows.addEventListener("change", resize);
ui.columns.addEventListener("change", resize);
$("[data-save]").addEventListener("click", save);
dropTarget(ui.tray, null);
render();
document.body.dataset.seating = "ready";
