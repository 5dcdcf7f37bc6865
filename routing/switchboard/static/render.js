// What the page shows of a call, a directory hit and a callback: DOM nodes built with
// textContent only (no HTML from data ever reaches innerHTML).

import * as words from "./words.js";

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// A time that counts on its own: the page's ticker rewrites every `.tick` each half second
// from the value the service sent and when it arrived (performance.now()).
export function tick(seconds, receivedAt, { down = false, label = "" } = {}) {
  const node = el("span", {
    "class": "tick",
    "data-seconds": seconds,
    "data-at": receivedAt,
    "data-down": down ? "1" : null,
    "aria-label": label || null,
  });
  node.textContent = words.duration(seconds);
  return node;
}

export function updateTicks(root, now) {
  for (const node of root.querySelectorAll(".tick")) {
    const elapsed = (now - Number(node.dataset.at)) / 1000;
    const base = Number(node.dataset.seconds);
    node.textContent = words.duration(node.dataset.down ? Math.max(0, base - elapsed) : base + elapsed);
  }
}

export function callerText(call) {
  return call.caller || "Dolt nummer";
}

// The person a returned call came back from: referral, cover and mobile (R11, R15).
function personFacts(person) {
  if (!person) return [];
  const facts = [`${person.name}: ${words.phoneState(person.phone_state)}`];
  if (person.referral) facts.push(referralText(person.referral));
  if (person.cover) facts.push(`passning ${person.cover}`);
  if (person.mobile) facts.push(`mobil ${person.mobile}`);
  return facts;
}

// A referral event in the person's calendar within the hour (#15); a private one only as busy.
function soonText(soon) {
  const what = soon.reason === "busy" ? "upptagen" : words.reason(soon.reason);
  return `om ${soon.minutes} min: ${what} (kalendern)`;
}

export function referralText(referral) {
  const back = referral.back ? `, tillbaka ${referral.back}` : "";
  return `hänvisning: ${words.reason(referral.reason)}${back}`;
}

function history(call) {
  if (!call.history.length) return null;
  return el(
    "ul",
    { "class": "history", "aria-label": "Tidigare i samtalet" },
    call.history.map((line) => el("li", { text: words.historyLine(line) })),
  );
}

// `transfer`: {timeout, at} when this page put the call through (its countdown to the ring limit).
function placeLine(call, me, receivedAt, transfer) {
  const parts = [];
  if (call.place === "transferring") {
    parts.push(`Kopplas till ${call.transfer_to ?? "?"}`);
    if (call.operator && call.operator !== me) parts.push(`av ${call.operator}`);
    if (transfer) {
      const left = transfer.timeout - (performance.now() - transfer.at) / 1000;
      parts.push(" · ", tick(left, performance.now(), { down: true }), " kvar av ringtiden");
    } else {
      parts.push(" · ringt ", tick(call.in_place_s, receivedAt));
    }
  } else if (call.place === "held") {
    parts.push(`Parkerad av ${call.operator ?? "?"}`);
    if (call.recall_in_s !== null) parts.push(" · tillbaka om ", tick(call.recall_in_s, receivedAt, { down: true }));
  } else if (call.place === "returned" && call.returned) {
    parts.push(`Tillbaka från ${words.returnedFrom(call.returned.from)}: ${words.returnWhy(call.returned.why)}`);
    const facts = personFacts(call.returned.person);
    if (facts.length) parts.push(" · ", facts.join(" · "));
  } else if (call.place === "offered" || call.place === "talking") {
    parts.push(`${words.PLACES[call.place]} (${call.operator})`);
  }
  return parts.length ? el("p", { class: "place-line" }, parts) : null;
}

export function callRow(call, me, receivedAt, transfer) {
  const answerable =
    call.place === "waiting" || call.place === "returned" || (call.place === "held" && call.operator === me);
  const summary = `${words.PLACES[call.place] ?? call.place}: ${callerText(call)} till ${call.called_label}`;
  return el(
    "li",
    {
      "class": `call place-${call.place}`,
      "data-call-id": call.call_id,
      "data-channel": call.id,
      "aria-label": summary,
    },
    el(
      "div",
      { class: "call-head" },
      el("span", { class: `badge badge-${call.place}`, text: words.PLACES[call.place] ?? call.place }),
      el(
        "span",
        { class: "call-who" },
        el("span", { class: "caller", text: callerText(call) }),
        el("span", { "class": "arrow", "aria-hidden": "true", "text": "→" }),
        el("span", { class: "called", text: call.called_label }),
        call.returns > 1 ? el("span", { class: "returns", text: `${call.returns} återfall` }) : null,
      ),
      el("span", { class: "waited" }, el("span", { class: "visually-hidden", text: "väntat " }), tick(call.waited_s, receivedAt)),
      answerable ? el("button", { "type": "button", "class": "answer", "data-action": "answer", "text": "Svara" }) : null,
    ),
    placeLine(call, me, receivedAt, transfer),
    history(call),
  );
}

export function currentCall(call, receivedAt) {
  return el(
    "div",
    { "class": `current-card place-${call.place}`, "data-call-id": call.call_id },
    el(
      "p",
      { class: "current-state" },
      el("span", { class: `badge badge-${call.place}`, text: words.PLACES[call.place] ?? call.place }),
      " ",
      tick(call.in_place_s, receivedAt),
      el("span", { class: "muted", text: " · väntade " }),
      tick(call.waited_s, receivedAt),
    ),
    el("p", { class: "current-caller", text: callerText(call) }),
    el("p", { class: "current-called" }, "Ringde ", el("strong", { text: call.called_label })),
    call.returned
      ? el(
          "p",
          { class: "place-line" },
          `Tillbaka från ${words.returnedFrom(call.returned.from)}: ${words.returnWhy(call.returned.why)}`,
          personFacts(call.returned.person).length ? " · " + personFacts(call.returned.person).join(" · ") : "",
        )
      : null,
    history(call),
  );
}

export function hitOption(hit, index, selected) {
  const id = `hit-${index}`;
  const option = el("li", {
    "id": id,
    "role": "option",
    "class": `hit hit-${hit.kind}`,
    "aria-selected": selected ? "true" : "false",
    "data-index": index,
    "data-id": hit.id ?? null,
  });
  if (hit.kind === "person") {
    option.append(
      el(
        "div",
        { class: "hit-head" },
        el("strong", { text: hit.name }),
        el("span", { class: "muted", text: ` ${hit.unit_name ?? hit.unit} · ${hit.extension}` }),
        el("span", { "class": `state state-${hit.phone_state.replaceAll(/[^a-z]+/g, "-")}`, "data-field": "phone_state", "text": words.phoneState(hit.phone_state) }),
      ),
      el(
        "div",
        { class: "hit-body" },
        hit.referral ? el("span", { class: "referral", text: referralText(hit.referral) }) : null,
        hit.referral && hit.calendar?.in_force ? el("span", { class: "muted", text: " (kalendern)" }) : null,
        hit.referral ? " · " : null,
        hit.calendar?.soon ? el("span", { class: "soon", text: soonText(hit.calendar.soon) }) : null,
        hit.calendar?.soon ? " · " : null,
        `passning ${hit.cover ?? "–"}`,
        " · ",
        el("span", { class: "mobile", text: `mobil ${hit.mobile ?? "–"}` }),
      ),
    );
  } else if (hit.kind === "unit") {
    option.append(
      el(
        "div",
        { class: "hit-head" },
        el("strong", { text: hit.name }),
        el("span", { class: "muted", text: ` enhet · ${hit.number}` }),
        el("span", {
          class: `state ${hit.open_now ? "state-open" : "state-closed"}`,
          text: hit.open_now ? "telefontid öppen nu" : "telefontid stängd nu",
        }),
      ),
      el(
        "div",
        { class: "hit-body" },
        `telefontid ${hit.hours} · jourtelefon ${hit.duty_phone ?? "–"} · ${hit.members} medarbetare`,
      ),
    );
  } else {
    option.append(el("div", { class: "hit-head" }, el("strong", { text: hit.number }), el("span", { class: "muted", text: " nummer utanför katalogen" })));
  }
  return option;
}

export function callbackItem(callback) {
  return el(
    "li",
    { "class": `callback${callback.overdue ? " overdue" : ""}`, "data-callback-id": callback.id },
    el(
      "div",
      { class: "callback-head" },
      callback.overdue ? el("span", { class: "badge badge-overdue", text: "Försenad" }) : null,
      el("span", { class: "caller", text: callback.caller || "Dolt nummer" }),
      el("span", { class: "muted", text: ` för ${callback.target} · väntat ${words.age(callback.age_minutes)}` }),
      callback.attempts ? el("span", { class: "muted", text: ` · ${callback.attempts} försök` }) : null,
    ),
    el(
      "div",
      { class: "callback-actions" },
      el("button", { "type": "button", "data-action": "call", "text": "Ring upp" }),
      el("button", { "type": "button", "data-action": "done", "text": "Klar" }),
    ),
  );
}
