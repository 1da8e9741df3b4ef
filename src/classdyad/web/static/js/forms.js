// Forms that talk to the JSON API: <form data-api="/api/v1/..." data-method="POST">.

import { api } from "./api.js";

export function showError(form, error) {
  const box = form.querySelector(".form-error");
  if (!box) return;
  box.textContent = error ? error.message : "";
  box.hidden = !error;
}

function parseCategories(text) {
  return text.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
    const [subtype, valence, hotkey, ...label] = line.split(",").map((part) => part.trim());
    const category = { subtype, valence };
    if (hotkey) category.hotkey = hotkey;
    if (label.join(",")) category.label = label.join(", ");
    return category;
  });
}

export function formBody(form) {
  const body = {};
  const path = {};
  for (const field of form.elements) {
    if (!field.name || field.type === "submit" || field.type === "file") continue;
    if ("path" in field.dataset) { path[field.name] = field.value; continue; }
    if (field.type === "checkbox") { body[field.name] = field.checked; continue; }
    const value = field.value.trim();
    if (value === "") continue;
    if ("list" in field.dataset) body[field.name] = value.split(",").map((v) => v.trim()).filter(Boolean);
    else if ("categories" in field.dataset) body[field.name] = parseCategories(value);
    else if (field.type === "number" || "number" in field.dataset) body[field.name] = Number(value);
    else body[field.name] = value;
  }
  return { body, path };
}

export function fillPath(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(values[name] ?? ""));
}

export function bindApiForm(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(form, null);
    const { body, path } = formBody(form);
    const url = fillPath(form.dataset.api, path);
    try {
      await api(form.dataset.method || "POST", url, { json: body });
      const done = form.querySelector(".form-done");
      if (done && form.dataset.done) {
        done.textContent = form.dataset.done;
        done.hidden = false;
        form.reset();
      } else {
        window.location.reload();
      }
    } catch (error) {
      showError(form, error);
    }
  });
}

export function bindUploadForm(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(form, null);
    const file = form.querySelector('input[type="file"]').files[0];
    if (!file) return;
    const url = `${form.dataset.upload}?filename=${encodeURIComponent(file.name)}`;
    try {
      await api("POST", url, { body: file, headers: { "Content-Type": "application/octet-stream" } });
      window.location.reload();
    } catch (error) {
      showError(form, error);
    }
  });
}
