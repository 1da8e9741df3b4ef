// The import page: check a file (dry run), show every located problem, then import it.

import { api } from "./api.js";
import { showError } from "./forms.js";

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  if (className) td.className = className;
  row.append(td);
}

function table(headers, rows, id) {
  const element = document.createElement("table");
  element.id = id;
  const head = element.createTHead().insertRow();
  for (const header of headers) {
    const th = document.createElement("th");
    th.textContent = header;
    head.append(th);
  }
  const tbody = element.createTBody();
  for (const values of rows) {
    const row = tbody.insertRow();
    values.forEach(([text, className]) => cell(row, text, className));
  }
  return element;
}

export function renderResult(target, result) {
  target.replaceChildren();
  const heading = document.createElement("h2");
  if (result.ok) {
    heading.textContent = result.dry_run
      ? `${result.source}: no problems found (nothing written yet)`
      : `${result.source}: imported`;
    target.append(heading);
    const names = [...new Set([...Object.keys(result.added), ...Object.keys(result.already_stored)])];
    target.append(table(["table", result.dry_run ? "would add" : "added", "already stored"],
      names.map((n) => [[n], [String(result.added[n] ?? 0), "num"], [String(result.already_stored[n] ?? 0), "num"]]),
      "import-summary"));
  } else {
    heading.textContent = `${result.source}: ${result.problems.length} problem(s) found; nothing was written`;
    heading.className = "bad";
    target.append(heading);
    target.append(table(["row", "column", "value", "what to fix"],
      result.problems.map((p) => [[p.row == null ? "" : String(p.row), "num"], [p.column], [p.value], [p.message]]),
      "import-problems"));
  }
}

export function bindImportForm(form) {
  const target = document.getElementById("import-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(form, null);
    const mode = event.submitter ? event.submitter.value : "check";
    const file = form.querySelector('input[type="file"]').files[0];
    if (!file) return;
    const kind = form.elements.kind.value;
    const url = `/api/v1/imports/${kind}?filename=${encodeURIComponent(file.name)}&dry_run=${mode !== "import"}`;
    try {
      renderResult(target, await api("POST", url, { body: file, headers: { "Content-Type": "application/octet-stream" } }));
    } catch (error) {
      if (error.body && Array.isArray(error.body.problems)) renderResult(target, error.body);
      else showError(form, error);
    }
  });
}
