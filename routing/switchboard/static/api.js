// The switchboard's API (README, "The switchboard's API") and its live stream. Every change
// carries the session's CSRF token; the session itself is an HttpOnly cookie the page never sees.

export class Unauthorized extends Error {}
export class Offline extends Error {}
export class ApiError extends Error {
  constructor(status, body) {
    super(body.error ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

let csrf = "";

export function setCsrf(token) {
  csrf = token ?? "";
}

// One request. 401 (no session, or it ended) is Unauthorized, except at login where it means
// a wrong password; a service that cannot be reached is Offline.
export async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new Offline("the service cannot be reached");
  }
  let data = {};
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { error: text.slice(0, 200) };
    }
  }
  if (response.status === 401 && path !== "/api/login") throw new Unauthorized(data.error ?? "log in");
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const SESSION_ENDED = 4001; // the stream's close code at logout or when the session ends

// The live stream: `onMessage(message)` for each message; `onClose(code)` once when it closes
// (SESSION_ENDED, or anything else: the service went away).
export function openStream(onMessage, onClose) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/api/stream`);
  let closed = false;
  const close = (code) => {
    if (!closed) {
      closed = true;
      onClose(code);
    }
  };
  socket.addEventListener("message", (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    onMessage(message);
  });
  socket.addEventListener("close", (event) => close(event.code));
  socket.addEventListener("error", () => close(1006));
  return {
    close() {
      closed = true; // the page closes it on purpose: no onClose
      socket.close(1000);
    },
  };
}
