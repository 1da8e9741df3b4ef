// The lesson clock of a live session and the presence of each student, kept in localStorage so
// that a reload (online or offline) or a closed tab goes on where it was. Seconds on the clock
// count only while it runs (pauses are left out): that is the observed time of the lesson.

export class LessonClock {
  constructor(key, now = () => Date.now()) {
    this.key = key;
    this.now = now;
    const saved = JSON.parse(localStorage.getItem(key) || "null");
    this.state = saved ? saved.state : "idle"; // idle | running | paused | ended
    this.accumulated = saved ? saved.accumulated : 0; // seconds before the current run
    this.since = saved ? saved.since : null; // epoch ms when the current run started
    this.sampling = saved ? saved.sampling : { method: "continuous", interval: null };
    this.presence = saved ? saved.presence : {}; // code -> {present, visible, since}
  }

  save() {
    localStorage.setItem(this.key, JSON.stringify({
      state: this.state, accumulated: this.accumulated, since: this.since,
      sampling: this.sampling, presence: this.presence,
    }));
  }

  seconds() {
    const running = this.state === "running" ? (this.now() - this.since) / 1000 : 0;
    return Math.max(0, this.accumulated + running);
  }

  start() {
    if (this.state === "running" || this.state === "ended") return false;
    this.state = "running";
    this.since = this.now();
    this.save();
    return true;
  }

  pause() {
    if (this.state !== "running") return false;
    this.accumulated = this.seconds();
    this.state = "paused";
    this.since = null;
    this.save();
    return true;
  }

  end() {
    if (this.state === "ended" || this.state === "idle") return false;
    this.accumulated = this.seconds();
    this.state = "ended";
    this.since = null;
    this.save();
    return true;
  }

  presenceOf(code) {
    return this.presence[code] || { present: true, visible: true, since: null };
  }

  setPresence(code, present, visible, since) {
    this.presence[code] = { present, visible, since };
    this.save();
  }
}

export function formatClock(seconds) {
  const whole = Math.floor(seconds);
  const minutes = Math.floor(whole / 60);
  const rest = String(whole % 60).padStart(2, "0");
  return `${minutes}:${rest}`;
}
