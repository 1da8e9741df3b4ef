// Never lose a keystroke: every change is written to IndexedDB first, then sent to the server
// by a queue that retries until the server has it. Shared by video coding and live coding.
//
// A change is one request: PUT /api/v1/events/{client_id} (a revision of an event) or
// DELETE /api/v1/events/{client_id}?revision=N, or PUT /api/v1/presence/{client_id}. The server
// stores each once however often it is sent (201 first, 200 for an identical retry), so the
// queue may resend anything whose answer it did not see.

import { csrfToken } from "./api.js";

const DB_VERSION = 1;

function request(idbRequest) {
  return new Promise((resolve, reject) => {
    idbRequest.onsuccess = () => resolve(idbRequest.result);
    idbRequest.onerror = () => reject(idbRequest.error);
  });
}

function done(transaction) {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class EventStore {
  // IndexedDB per user: "events" (the newest local version of each event) and "outbox"
  // (changes not yet confirmed by the server, in the order they were made).
  static async open(name) {
    const opening = indexedDB.open(name, DB_VERSION);
    opening.onupgradeneeded = () => {
      const db = opening.result;
      if (!db.objectStoreNames.contains("events")) {
        db.createObjectStore("events", { keyPath: "client_id" }).createIndex("lesson", "lesson_id");
      }
      if (!db.objectStoreNames.contains("outbox")) {
        db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
      }
    };
    return new EventStore(await request(opening));
  }

  constructor(db) { this.db = db; }

  async lessonEvents(lessonId) {
    const tx = this.db.transaction("events", "readonly");
    return request(tx.objectStore("events").index("lesson").getAll(lessonId));
  }

  // Write the event's new local version and its change to the outbox in one transaction.
  async record(event, change) {
    const tx = this.db.transaction(["events", "outbox"], "readwrite");
    if (event) tx.objectStore("events").put(event);
    tx.objectStore("outbox").add({ ...change, queued_at: Date.now() });
    await done(tx);
  }

  async outbox() {
    const tx = this.db.transaction("outbox", "readonly");
    return request(tx.objectStore("outbox").getAll());
  }

  async confirm(seq, clientId, revision) {
    const tx = this.db.transaction(["events", "outbox"], "readwrite");
    tx.objectStore("outbox").delete(seq);
    if (clientId) {
      const events = tx.objectStore("events");
      const stored = await request(events.get(clientId));
      if (stored && stored.revision <= revision) {
        stored.saved_revision = Math.max(stored.saved_revision || 0, revision);
        events.put(stored);
      }
    }
    await done(tx);
  }

  async merge(serverEvents) {
    // The server's version wins where it is at least as new as the local one.
    const tx = this.db.transaction("events", "readwrite");
    const events = tx.objectStore("events");
    for (const remote of serverEvents) {
      const local = await request(events.get(remote.client_id));
      if (!local || local.revision <= remote.revision) {
        events.put({ ...remote, saved_revision: remote.revision });
      }
    }
    await done(tx);
  }
}

export class SendQueue {
  // Sends the outbox in order, one change at a time; retries network failures and server
  // errors with a growing pause; a refused change (4xx) is set aside and reported.
  constructor(store, { onChange = () => {}, onSaved = () => {}, onRefused = () => {} } = {}) {
    this.store = store;
    this.onChange = onChange;
    this.onSaved = onSaved;
    this.onRefused = onRefused;
    this.running = false;
    this.delay = 250;
    this.timer = null;
    window.addEventListener("online", () => this.kick());
  }

  async pending() { return (await this.store.outbox()).length; }

  kick() {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    if (!this.running) this.run();
  }

  async send(change) {
    const headers = { "X-CSRF-Token": csrfToken() };
    const options = { method: change.method, credentials: "same-origin", headers };
    if (change.body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(change.body);
    }
    return fetch(change.url, options);
  }

  async run() {
    this.running = true;
    try {
      for (;;) {
        const [change] = await this.store.outbox();
        if (!change) { this.delay = 250; break; }
        let response;
        try {
          response = await this.send(change);
        } catch (error) {
          this.retryLater();
          return;
        }
        if (response.ok) {
          await this.store.confirm(change.seq, change.client_id, change.revision);
          this.onSaved(change);
          this.delay = 250;
          this.onChange();
        } else if (response.status >= 500 || response.status === 401 || response.status === 429) {
          this.retryLater();
          return;
        } else {
          let detail = `the server answered ${response.status}`;
          try { detail = (await response.json()).detail || detail; } catch (error) { /* keep */ }
          await this.store.confirm(change.seq, null, 0);
          this.onRefused(change, response.status, detail);
          this.onChange();
        }
      }
    } finally {
      this.running = false;
    }
  }

  retryLater() {
    this.running = false;
    this.onChange();
    this.timer = setTimeout(() => { this.timer = null; this.kick(); }, this.delay);
    this.delay = Math.min(this.delay * 2, 5000);
  }
}
