// The switchboard console (#14): login, the queue, the operator's call, the directory,
// referrals on behalf (R11) and callbacks (R4), kept live by the API's stream. Keyboard first:
// every action has a key (KEYS below, and shown on the page).

import { ApiError, Offline, SESSION_ENDED, Unauthorized, openStream, request, setCsrf } from "./api.js";
import * as render from "./render.js";
import * as words from "./words.js";

const $ = (id) => document.getElementById(id);
const SEARCH_DELAY_MS = 120;
const RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000, 5000];

const state = {
  me: null, // the operator's id while logged in
  calls: [],
  callsAt: 0, // performance.now() when `calls` arrived (their times count on from there)
  callsVersion: 0,
  known: new Map(), // call_id → {place, operator, to} last seen (what to announce)
  transfers: new Map(), // channel → {timeout, at, to}: the countdowns of this page's transfers
  hits: [],
  selected: -1,
  searchSeq: 0,
  callbacks: [],
  stream: null,
  reconnects: 0,
  reconnectTimer: null,
};

// -- the session -----------------------------------------------------------------------------

async function start() {
  try {
    startSession(await request("GET", "/api/me"));
  } catch (error) {
    showLogin(error instanceof Offline ? "Växeltjänsten svarar inte. Försök igen om en stund." : "");
  }
}

function startSession(me) {
  setCsrf(me.csrf);
  state.me = me.operator;
  $("who").textContent = `${me.name} (${me.operator})`;
  $("who-box").hidden = false;
  $("login-view").hidden = true;
  $("console-view").hidden = false;
  connect();
  loadCallbacks();
  $("search").focus();
}

function showLogin(message) {
  $("console-view").hidden = true;
  $("who-box").hidden = true;
  $("login-view").hidden = false;
  $("login-message").textContent = message;
  $("login-password").value = "";
  $("login-operator").focus();
}

// Logout, a session that ended, or a service restarted (its sessions are gone): nothing of the
// calls, callers or searches stays in the page (R12).
function endSession(message) {
  if (state.stream) state.stream.close();
  clearTimeout(state.reconnectTimer);
  Object.assign(state, {
    me: null,
    calls: [],
    callsVersion: state.callsVersion + 1,
    known: new Map(),
    transfers: new Map(),
    hits: [],
    selected: -1,
    searchSeq: state.searchSeq + 1,
    callbacks: [],
    stream: null,
    reconnects: 0,
    reconnectTimer: null,
  });
  setCsrf("");
  for (const id of ["queue-list", "current", "hits", "callbacks"]) $(id).replaceChildren();
  for (const id of ["who", "message", "announce", "hits-summary", "queue-count", "callbacks-count", "confirm-text", "referral-person", "referral-message"]) {
    $(id).textContent = "";
  }
  $("search").value = "";
  $("referral-until").value = "";
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  $("connection").hidden = true;
  $("console-view").classList.remove("stale");
  showLogin(message);
}

async function logIn(event) {
  event.preventDefault();
  const operator = $("login-operator").value.trim();
  const password = $("login-password").value;
  $("login-message").textContent = "";
  try {
    const me = await request("POST", "/api/login", { operator, password });
    $("login-password").value = "";
    startSession(me);
  } catch (error) {
    $("login-password").value = "";
    $("login-message").textContent =
      error instanceof Offline
        ? "Växeltjänsten svarar inte."
        : error.status === 429
          ? "För många felaktiga lösenord: vänta fem minuter."
          : error.status === 401
            ? "Okänt användar-id eller fel lösenord."
            : "Inloggningen misslyckades: kontakta administratören.";
    $("login-password").focus();
  }
}

async function logOut() {
  if (state.stream) state.stream.close(); // closed by the page: its 4001 is not a surprise
  state.stream = null;
  try {
    await request("POST", "/api/logout");
  } catch {
    // logged out here whatever the service says: the page is cleared
  }
  endSession("Du har loggat ut.");
}

// Any request answered 401: the session ended (idle, too long, or the service restarted).
function failed(error, what) {
  if (error instanceof Unauthorized) {
    endSession("Sessionen har upphört. Logga in igen.");
  } else if (error instanceof Offline) {
    say(`${what}: växeltjänsten svarar inte.`);
  } else {
    say(`${what}: ${swedishError(error)}`);
  }
}

function swedishError(error) {
  const detail = error.body?.error ? ` (${error.body.error})` : "";
  switch (error.status) {
    case 400:
      return `ogiltig uppgift${detail}`;
    case 404:
      return `samtalet eller personen finns inte längre${detail}`;
    case 409:
      return `går inte nu${detail}`;
    case 503:
      return `Asterisk eller databasen nås inte just nu${detail}`;
    default:
      return `fel ${error.status}${detail}`;
  }
}

// Both may name a caller: an answer that arrives after logout says nothing (R12).
function say(text) {
  if (state.me) $("message").textContent = text;
}

function announce(text) {
  // Cleared first so the same words twice are read twice.
  $("announce").textContent = "";
  requestAnimationFrame(() => {
    if (state.me) $("announce").textContent = text;
  });
}

// -- the live stream -------------------------------------------------------------------------

function connect() {
  state.stream = openStream(onMessage, onStreamClosed);
}

function onMessage(message) {
  if (!state.me) return;
  if (message.type === "hello") {
    state.reconnects = 0;
    $("connection").hidden = true;
    $("console-view").classList.remove("stale");
    loadCalls();
  } else if (message.type === "calls") {
    state.callsVersion += 1;
    showCalls(message.calls);
  } else if (message.type === "phone_state") {
    phoneStateChanged(message);
  } else if (message.type === "referral") {
    // The stream says who and why, not until when: the hit is asked for again (rare).
    if (state.hits.some((hit) => hit.kind === "person" && hit.id === message.person)) search();
  } else if (message.type === "callback") {
    say(`Återuppringning ${message.id}: ${words.callbackOutcome(message.outcome)}.`);
    loadCallbacks();
  }
}

// 4001 says the session ended (4002: the page fell behind, and reconnects): the page asks whether
// the session stands before it logs out, in case a proxy or an older service said 4001 for both.
function onStreamClosed(code) {
  state.stream = null;
  if (!state.me) return;
  $("connection").textContent = "Förbindelsen med växeltjänsten bröts: återansluter …";
  $("connection").hidden = false;
  $("console-view").classList.add("stale");
  if (code === SESSION_ENDED) reconnect(code);
  else scheduleReconnect();
}

function scheduleReconnect() {
  const delay = RECONNECT_DELAYS_MS[Math.min(state.reconnects, RECONNECT_DELAYS_MS.length - 1)];
  state.reconnects += 1;
  state.reconnectTimer = setTimeout(() => reconnect(), delay);
}

// Is the session still there? A restarted service has none: back to login. One that cannot be
// reached yet: try again.
async function reconnect(code) {
  if (!state.me) return;
  try {
    const me = await request("GET", "/api/me");
    if (!state.me) return; // logged out meanwhile
    setCsrf(me.csrf);
    connect();
  } catch (error) {
    if (!state.me) return;
    if (error instanceof Unauthorized) {
      endSession(
        code === SESSION_ENDED
          ? "Sessionen har upphört. Logga in igen."
          : "Växeltjänsten har startats om eller sessionen har upphört. Logga in igen.",
      );
    } else {
      scheduleReconnect();
    }
  }
}

async function loadCalls() {
  const version = state.callsVersion;
  try {
    const answer = await request("GET", "/api/calls");
    if (version === state.callsVersion && state.me) showCalls(answer.calls); // not older than the stream's
  } catch (error) {
    if (error instanceof ApiError && error.status === 503) say("Kön betjänas inte just nu (Asterisk/ARI).");
    else failed(error, "Kön");
  }
}

// -- the queue and the operator's call ------------------------------------------------------

function mine(call) {
  return call.operator === state.me && (call.place === "offered" || call.place === "talking");
}

// Calls another operator is answering or talking to are theirs: not in this queue.
function inQueue(call) {
  return !((call.place === "offered" || call.place === "talking") && call.operator !== state.me) && !mine(call);
}

function showCalls(calls) {
  const now = performance.now();
  announceChanges(calls);
  state.calls = calls;
  state.callsAt = now;
  for (const channel of state.transfers.keys()) {
    if (!calls.some((c) => c.id === channel && c.place === "transferring")) state.transfers.delete(channel);
  }
  renderQueue();
  renderCurrent();
}

function announceChanges(calls) {
  const known = new Map();
  const now = new Set(calls.map((c) => c.call_id));
  for (const [callId, before] of state.known) {
    // A call this operator put through left the queue: its target answered, or the caller hung
    // up (the stream does not say which).
    if (before.place === "transferring" && before.operator === state.me && !now.has(callId)) {
      say(`Samtalet till ${before.to} har lämnat kön: ${before.to} svarade, eller den som ringde lade på.`);
    }
  }
  for (const call of calls) {
    const before = state.known.get(call.call_id)?.place;
    if (before !== call.place) {
      if (call.place === "waiting" && before === undefined) {
        announce(`Nytt samtal från ${render.callerText(call)} till ${call.called_label}.`);
      } else if (call.place === "returned") {
        const why = call.returned ? `${words.returnedFrom(call.returned.from)}: ${words.returnWhy(call.returned.why)}` : "";
        announce(`Återfall: ${render.callerText(call)}, ${why}.`);
      }
    }
    known.set(call.call_id, { place: call.place, operator: call.operator, to: call.transfer_to });
  }
  state.known = known;
}

function renderQueue() {
  const list = $("queue-list");
  const focused = document.activeElement?.closest?.("#queue-list [data-channel]")?.dataset.channel;
  const shown = state.calls.filter(inQueue);
  list.replaceChildren(
    ...shown.map((call) => render.callRow(call, state.me, state.callsAt, state.transfers.get(call.id))),
  );
  const waiting = shown.filter((c) => c.place === "waiting" || c.place === "returned").length;
  $("queue-count").textContent = `(${waiting} väntar)`;
  $("queue-empty").hidden = shown.length > 0;
  if (focused) {
    const again = list.querySelector(`[data-channel="${CSS.escape(focused)}"] button`);
    (again ?? $("queue-heading")).focus();
  }
}

function renderCurrent() {
  const call = state.calls.find(mine);
  const shown = $("current").firstElementChild;
  if (call?.place === "talking" && shown?.dataset.callId === call.call_id && shown.classList.contains("place-offered")) {
    say(`Kopplat: du talar med ${render.callerText(call)}.`); // the operator's phone answered
  }
  const box = $("current");
  if (call) box.replaceChildren(render.currentCall(call, state.callsAt));
  else box.replaceChildren(render.el("p", { class: "empty", text: "Inget pågående samtal." }));
  const talking = call?.place === "talking";
  for (const id of ["act-transfer", "act-voicemail", "act-mobile", "act-hold"]) $(id).disabled = !talking;
  $("act-hangup").disabled = !call;
}

function nextCall() {
  return state.calls.find(
    (c) => c.place === "returned" || c.place === "waiting" || (c.place === "held" && c.operator === state.me),
  );
}

async function answer(call) {
  if (!call) {
    say("Inget samtal väntar.");
    return;
  }
  try {
    await request("POST", `/api/calls/${encodeURIComponent(call.id)}/answer`);
    say(`Din telefon ringer: samtal från ${render.callerText(call)} till ${call.called_label}.`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) say(`Samtalet är inte längre ditt att ta (${error.body.error}).`);
    else if (error instanceof ApiError && error.status === 404) say("Samtalet finns inte längre: den som ringde har lagt på.");
    else failed(error, "Svara");
  }
}

function talkingCall() {
  const call = state.calls.find((c) => mine(c) && c.place === "talking");
  if (!call) say("Du har inget pågående samtal.");
  return call;
}

// Put through to the selected hit: its person, unit or number; its mailbox; or a person's
// mobile (R15: the service asks for a confirmation first, the operator gives it here).
async function transfer(how = {}) {
  const call = talkingCall();
  const hit = state.hits[state.selected];
  if (!call) return;
  if (!hit) {
    say("Välj först vem samtalet ska kopplas till (F4 och pilarna).");
    $("search").focus();
    return;
  }
  if (how.mobile && !(hit.kind === "person" && hit.mobile)) {
    say("Den valda träffen har inget mobilnummer.");
    return;
  }
  const body = { to: hit.kind === "person" ? hit.id : hit.number, ...how };
  const path = `/api/calls/${encodeURIComponent(call.id)}/transfer`;
  try {
    let put;
    try {
      put = await request("POST", path, body);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 409 && error.body.needs_confirmation)) throw error;
      if (!(await confirmed(error.body))) {
        say("Inte kopplat.");
        return;
      }
      put = await request("POST", path, { ...body, confirm: true });
    }
    if (put.kind === "voicemail") {
      say(`Kopplat till röstbrevlådan: ${put.to}.`);
    } else if (put.ringing.length) {
      state.transfers.set(call.id, { timeout: put.timeout_s, at: performance.now(), to: put.to });
      say(`Kopplar till ${put.to}: ringer i högst ${Math.round(put.timeout_s)} s.${put.mobile_cost ? " Mobilsamtal (kostnad)." : ""}`);
    } else {
      say(`${put.to} kan inte ta samtalet nu: det kommer tillbaka i kön.`);
    }
    renderQueue();
  } catch (error) {
    if (error instanceof ApiError && error.status === 409 && error.body.rule) {
      say(`Kopplas inte (${error.body.rule}): ${error.body.error}`);
    } else {
      failed(error, "Koppla");
    }
  }
}

function confirmed(refusal) {
  const dialog = $("confirm-dialog");
  $("confirm-text").textContent =
    `Samtal kopplas till mobil bara i undantagsfall (${refusal.rule}). Servicen säger: ${refusal.error}. Koppla ändå?`;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.showModal();
    $("confirm-no").focus();
  });
}

async function onCall(action, what) {
  const call = state.calls.find(mine);
  if (!call) {
    say("Du har inget pågående samtal.");
    return;
  }
  try {
    await request("POST", `/api/calls/${encodeURIComponent(call.id)}/${action}`);
    say(what);
  } catch (error) {
    failed(error, action === "hold" ? "Parkera" : "Lägg på");
  }
}

// -- the directory ---------------------------------------------------------------------------

let searchTimer = null;

function searchSoon() {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(search, SEARCH_DELAY_MS);
}

async function search() {
  const query = $("search").value.trim();
  const seq = ++state.searchSeq;
  if (!query) {
    showHits([], query);
    return;
  }
  try {
    const answer = await request("GET", `/api/directory?q=${encodeURIComponent(query)}`);
    if (seq !== state.searchSeq || !state.me) return; // a later search (or a logout) came first
    const hits = answer.hits;
    // A number nobody in the directory has: an outside number to put the call through to.
    if (!hits.length && /^\+?[\d\s-]{3,}$/.test(query)) hits.push({ kind: "number", number: query.replaceAll(/[\s-]/g, "") });
    showHits(hits, query);
  } catch (error) {
    failed(error, "Sök");
  }
}

function showHits(hits, query) {
  const previous = state.hits[state.selected];
  state.hits = hits;
  const again = previous ? hits.findIndex((h) => h.kind === previous.kind && h.id === previous.id && h.number === previous.number) : -1;
  state.selected = again >= 0 ? again : hits.length ? 0 : -1;
  renderHits();
  $("hits-summary").textContent = query ? (hits.length === 1 ? "1 träff" : hits.length ? `${hits.length} träffar` : "Inga träffar") : "";
}

function renderHits() {
  const input = $("search");
  $("hits").replaceChildren(...state.hits.map((hit, i) => render.hitOption(hit, i, i === state.selected)));
  input.setAttribute("aria-expanded", state.hits.length ? "true" : "false");
  if (state.selected >= 0) {
    input.setAttribute("aria-activedescendant", `hit-${state.selected}`);
    $(`hit-${state.selected}`).scrollIntoView({ block: "nearest" });
  } else {
    input.removeAttribute("aria-activedescendant");
  }
}

function select(index) {
  if (!state.hits.length) return;
  state.selected = Math.max(0, Math.min(state.hits.length - 1, index));
  renderHits();
}

function phoneStateChanged(message) {
  let changed = false;
  for (const hit of state.hits) {
    if (hit.kind === "person" && message.people.includes(hit.id)) {
      hit.phone_state = message.state;
      changed = true;
    }
  }
  if (changed) renderHits();
  for (const call of state.calls) {
    const person = call.returned?.person;
    if (person && message.people.includes(person.id)) person.phone_state = message.state;
  }
  renderQueue();
}

// -- referrals on behalf (R11) ---------------------------------------------------------------

function openReferral() {
  const hit = state.hits[state.selected];
  if (!hit || hit.kind !== "person") {
    say("Välj först en person i katalogen (F4 och pilarna).");
    return;
  }
  const dialog = $("referral-dialog");
  dialog.dataset.person = hit.id;
  $("referral-person").textContent = hit.referral
    ? `${hit.name}: nu ${render.referralText(hit.referral)}`
    : `${hit.name}: ingen hänvisning nu`;
  $("referral-reason").value = hit.referral?.reason ?? "meeting";
  $("referral-until").value = hit.referral?.until ? untilField(hit.referral.until) : "";
  $("referral-message").textContent = "";
  $("referral-clear").disabled = !hit.referral;
  dialog.showModal();
  $("referral-reason").focus();
}

// What the service sent as the return ("2026-12-01T13:00:00+01:00" or "2026-12-03") as the field takes it.
function untilField(iso) {
  const m = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}))?/.exec(iso);
  return m ? (m[2] ?? m[1]) : "";
}

async function submitReferral(event) {
  event.preventDefault();
  const dialog = $("referral-dialog");
  const action = event.submitter?.value ?? "set";
  if (action === "cancel") {
    dialog.close();
    return;
  }
  const person = dialog.dataset.person;
  const path = `/api/referrals/${encodeURIComponent(person)}`;
  try {
    if (action === "clear") {
      await request("DELETE", path);
      say("Hänvisningen är borttagen: samtal rings fram igen.");
    } else {
      const until = $("referral-until").value.trim();
      await request("PUT", path, { reason: $("referral-reason").value, ...(until ? { until } : {}) });
      say("Hänvisningen är sparad.");
    }
    dialog.close();
    search();
    $("search").focus();
  } catch (error) {
    if (error instanceof ApiError && error.status === 400) {
      $("referral-message").textContent = `Ogiltig orsak eller tid (${error.body.error}).`;
    } else {
      dialog.close();
      failed(error, "Hänvisning");
    }
  }
}

// -- callbacks (R4) -------------------------------------------------------------------------

async function loadCallbacks() {
  try {
    const answer = await request("GET", "/api/callbacks?open=1");
    if (!state.me) return;
    state.callbacks = answer.callbacks;
    renderCallbacks();
  } catch (error) {
    failed(error, "Återuppringningar");
  }
}

function renderCallbacks() {
  const list = $("callbacks");
  list.replaceChildren(...state.callbacks.map((cb) => render.callbackItem(cb)));
  const overdue = state.callbacks.filter((cb) => cb.overdue).length;
  $("callbacks-count").textContent = state.callbacks.length
    ? `(${state.callbacks.length} öppna${overdue ? `, ${overdue} försenade` : ""})`
    : "";
  $("callbacks-empty").hidden = state.callbacks.length > 0;
}

async function onCallback(event) {
  const button = event.target.closest("button[data-action]");
  const item = event.target.closest("[data-callback-id]");
  if (!button || !item) return;
  const id = item.dataset.callbackId;
  try {
    if (button.dataset.action === "done") {
      await request("POST", `/api/callbacks/${encodeURIComponent(id)}/done`);
      say(`Återuppringning ${id} är markerad som klar.`);
    } else {
      await request("POST", `/api/callbacks/${encodeURIComponent(id)}/call`);
      say(`Din telefon ringer: svara, så rings den som bad om att bli uppringd (återuppringning ${id}).`);
    }
  } catch (error) {
    failed(error, "Återuppringning");
  }
  await loadCallbacks();
  $("callbacks-heading").focus();
}

// -- the keyboard ----------------------------------------------------------------------------

// One table: the keys the page answers to (the same as the list on the page).
const KEYS = [
  { key: "F2", run: () => answer(nextCall()) },
  {
    key: "F4",
    run: () => {
      $("search").focus();
      $("search").select();
    },
  },
  { key: "F8", run: () => onCall("hold", "Samtalet är parkerat.") },
  { key: "F9", run: () => transfer() },
  { key: "F9", shift: true, run: () => transfer({ voicemail: true }) },
  { code: "KeyM", alt: true, run: () => transfer({ mobile: true }) },
  { code: "KeyL", alt: true, run: () => onCall("hangup", "Samtalet är avslutat.") },
  { code: "KeyH", alt: true, run: openReferral },
  { code: "KeyK", alt: true, run: () => $("queue-heading").focus() },
  { code: "KeyU", alt: true, run: () => loadCallbacks().then(() => $("callbacks-heading").focus()) },
];

function onKey(event) {
  if (!state.me || document.querySelector("dialog[open]")) return;
  const found = KEYS.find(
    (k) =>
      (k.key ? event.key === k.key : event.code === k.code) &&
      Boolean(k.shift) === event.shiftKey &&
      Boolean(k.alt) === event.altKey &&
      !event.ctrlKey &&
      !event.metaKey,
  );
  if (!found) return;
  event.preventDefault();
  found.run();
}

function onSearchKey(event) {
  if (event.key === "ArrowDown") select(state.selected + 1);
  else if (event.key === "ArrowUp") select(state.selected - 1);
  else if (event.key === "Enter") transfer();
  else return;
  event.preventDefault();
}

// -- wiring ----------------------------------------------------------------------------------

function wire() {
  $("login-form").addEventListener("submit", logIn);
  $("logout").addEventListener("click", logOut);
  document.addEventListener("keydown", onKey);
  $("search").addEventListener("input", searchSoon);
  $("search").addEventListener("keydown", onSearchKey);
  $("hits").addEventListener("click", (event) => {
    const option = event.target.closest("[role=option]");
    if (option) select(Number(option.dataset.index));
  });
  $("queue-list").addEventListener("click", (event) => {
    const row = event.target.closest("[data-channel]");
    if (event.target.closest("button[data-action=answer]") && row) {
      answer(state.calls.find((c) => c.id === row.dataset.channel));
    }
  });
  $("act-answer").addEventListener("click", () => answer(nextCall()));
  $("act-transfer").addEventListener("click", () => transfer());
  $("act-voicemail").addEventListener("click", () => transfer({ voicemail: true }));
  $("act-mobile").addEventListener("click", () => transfer({ mobile: true }));
  $("act-hold").addEventListener("click", () => onCall("hold", "Samtalet är parkerat."));
  $("act-hangup").addEventListener("click", () => onCall("hangup", "Samtalet är avslutat."));
  $("act-referral").addEventListener("click", openReferral);
  $("referral-form").addEventListener("submit", submitReferral);
  $("callbacks").addEventListener("click", onCallback);
  $("callbacks-refresh").addEventListener("click", loadCallbacks);
  $("referral-reason").replaceChildren(
    ...Object.entries(words.REASONS).map(([value, label]) => render.el("option", { value, text: label })),
  );
  setInterval(() => render.updateTicks(document, performance.now()), 500);
  renderCurrent();
}

wire();
start();
