// Swedish for what the API says in English: the operators read Swedish. A phrase this table
// does not know is shown as the service wrote it, never dropped.

export const PLACES = {
  waiting: "Väntar",
  returned: "Återfall",
  held: "Parkerad",
  offered: "Din telefon ringer",
  talking: "Pågår",
  transferring: "Kopplas",
};

export const PHONE_STATES = {
  "free": "ledig",
  "in a call": "i samtal",
  "busy": "upptagen",
  "ringing": "ringer",
  "ringing, in a call": "ringer, i samtal",
  "on hold": "parkerad",
  "not registered": "ej registrerad",
  "unknown device": "okänd enhet",
  "unknown": "okänt läge",
};

export const REASONS = {
  lunch: "lunch",
  meeting: "möte",
  errand: "tjänsteärende",
  sick: "sjuk",
  vacation: "semester",
  course: "kurs",
  parental_leave: "föräldraledig",
  other: "annat",
};

const RETURN_WHY = {
  "no answer": "svarar inte",
  "busy": "upptaget",
  "unregistered": "ej registrerad",
  "not reachable": "nås inte",
  "operator did not answer": "telefonisten svarade inte",
};

// How calling a callback back ended (routing/service/callback_call.py CallbackOutcome).
const CALLBACK_OUTCOMES = {
  answered: "den som bad om samtal svarade: klar",
  employee_no_answer: "din telefon svarade inte, ingen ringdes upp",
  employee_hung_up: "du lade på medan den andra telefonen ringde",
  busy: "upptaget hos den som bad om samtal",
  no_answer: "den som bad om samtal svarade inte",
  unavailable: "numret nås inte",
  failed: "samtalet kunde inte kopplas upp",
};

export function callbackOutcome(outcome) {
  return CALLBACK_OUTCOMES[outcome] ?? outcome;
}

export function phoneState(state) {
  return PHONE_STATES[state] ?? state;
}

export function reason(value) {
  return REASONS[value] ?? value;
}

export function returnWhy(why) {
  return RETURN_WHY[why] ?? why;
}

// "operator eva" (a call the operator's phone did not take) → "telefonist eva".
export function returnedFrom(from) {
  return (from ?? "").replace(/^operator /, "telefonist ");
}

// The call's history as routing/service/call_router.py writes it.
const HISTORY = [
  [/^(.*): no answer after (\d+) signals?$/, (m) => `${m[1]}: inget svar efter ${m[2]} signaler`],
  [/^(.*): busy$/, (m) => `${m[1]}: upptaget`],
  [/^(.*): not reachable$/, (m) => `${m[1]}: nås inte`],
  [
    /^(.*): referral heard \(([a-z_]+)(?:, back ([^)]+))?\)$/,
    (m) => `${m[1]}: hänvisning hörd (${reason(m[2])}${m[3] ? ", tillbaka " + when(m[3]) : ""})`,
  ],
  [/^the switchboard's queue: nobody answered within (\S+) s$/, (m) => `växelns kö: ingen svarade inom ${m[1]} s`],
];

export function historyLine(line) {
  for (const [pattern, say] of HISTORY) {
    const m = pattern.exec(line);
    if (m) return say(m);
  }
  return line;
}

// An ISO date or time ("2026-12-03", "2026-12-01T13:00:00+01:00") as the operator reads it.
export function when(iso) {
  const date = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(iso);
  if (!date) return iso;
  const day = `${Number(date[3])}/${Number(date[2])}`;
  return date[4] ? `${day} kl. ${date[4]}.${date[5]}` : day;
}

// Seconds as "0:42", "12:05", "1:02:03".
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

// Minutes as "25 min", "3 h 10 min", "2 d 4 h".
export function age(minutes) {
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}
