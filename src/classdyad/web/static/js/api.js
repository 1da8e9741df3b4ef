// The JSON API, called with the session cookie and the CSRF token of the page.

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

export class ApiError extends Error {
  constructor(status, body) {
    super(ApiError.message(status, body));
    this.status = status;
    this.body = body;
  }

  static message(status, body) {
    if (body && typeof body.detail === "string") return body.detail;
    if (body && Array.isArray(body.problems) && body.problems.length) {
      return `${body.problems.length} problem(s) found; nothing was written`;
    }
    return `the server answered ${status}`;
  }
}

export async function api(method, url, { json, body, headers = {} } = {}) {
  const options = { method, credentials: "same-origin", headers: { ...headers } };
  if (method !== "GET" && method !== "HEAD") options.headers["X-CSRF-Token"] = csrfToken();
  if (json !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(json);
  } else if (body !== undefined) {
    options.body = body;
  }
  const response = await fetch(url, options);
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("application/json") ? await response.json() : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}
