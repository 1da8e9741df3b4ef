// Wires every page: API forms, uploads, the import page, login and logout.

import { api } from "./api.js";
import { bindApiForm, bindUploadForm, showError } from "./forms.js";
import { bindImportForm } from "./importer.js";

function bindLogin(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(form, null);
    try {
      await api("POST", "/api/v1/auth/login", {
        json: { username: form.elements.username.value, password: form.elements.password.value },
      });
      const next = form.dataset.next;
      window.location.assign(next && next.startsWith("/") && !next.startsWith("//") ? next : "/");
    } catch (error) {
      showError(form, error);
    }
  });
}

function bindExport(form) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams({ level: form.elements.level.value });
    if (form.elements.include_names.checked) params.set("include_names", "true");
    window.location.assign(`/api/v1/exports/${form.elements.format.value}?${params}`);
  });
}

function start() {
  document.querySelectorAll("form[data-login]").forEach(bindLogin);
  document.querySelectorAll("form[data-api]").forEach(bindApiForm);
  document.querySelectorAll("form[data-upload]").forEach(bindUploadForm);
  document.querySelectorAll("form[data-import]").forEach(bindImportForm);
  document.querySelectorAll("form[data-export]").forEach(bindExport);
  document.querySelectorAll("button[data-delete]").forEach((button) => {
    button.addEventListener("click", async () => {
      await api("DELETE", button.dataset.delete);
      window.location.reload();
    });
  });
  document.querySelectorAll("button[data-logout]").forEach((button) => {
    button.addEventListener("click", async () => {
      try { await api("POST", "/api/v1/auth/logout"); } finally { window.location.assign("/login"); }
    });
  });
  document.body.dataset.ready = "true";
}

start();
