"""What every store keeps, in SQL both SQLite and PostgreSQL speak: referrals (R11), callbacks
(R4, the one place a caller's full number is kept), call records for reports (numbers hashed,
R12), and the installation's key for that hashing (shared by every instance of one site).

A backend gives a connection-level transaction and the dialect's few differences; every query
is written once, with `?` placeholders.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from routing.calllog.events import (
    CALL_EVENTS,
    CallAnswered,
    CallEnd,
    CallEvent,
    CallPrivate,
    CallStart,
    MobileForward,
    OutboundBlocked,
    PolicyViolation,
    PromptNotPlayed,
    RecordedEvent,
    SwitchboardAnswered,
    SwitchboardConnected,
    SwitchboardPutThrough,
    SwitchboardQueued,
    SwitchboardTransfer,
)
from routing.policy.calendar_referral import CalendarEntry, SyncedCalendar
from routing.policy.referral import Reason, Referral
from routing.policy.state import RoutingState
from routing.policy.steps import Outcome
from routing.policy.switchboard_queue import OPERATOR_DID_NOT_ANSWER
from routing.store.tally import NOBODY, Measure, Tally, answer_key, who

# The tables are made and changed by the migrations in routing/store/migrations/ (#12).
# The seconds a report counts of a call: an abandoned caller's time before hanging up (a call
# without its call.end counts as abandoned), else the wait for an answer. One expression, so
# one pass over the calls gives both; SQLite's report index (migration 0002) holds it exactly.
SECONDS_COUNTED = "CASE WHEN outcome IS NULL OR outcome = 'abandoned' THEN duration_s ELSE wait_s END"
CALLBACK_COLUMNS = (
    "id, call_id, caller, target, requested_at, status, attempts, last_attempt_at, last_outcome, done_at, done_by,"
    " overdue_at"
)


class StoreError(Exception):
    """The store cannot be opened or used. Stable log id: store.error."""

    log_id = "store.error"


class CallRecord(NamedTuple):
    """One call as the store keeps it for reports (a row of `calls`; the caller hashed, R12)."""

    call_id: str
    started_at: str  # ISO-8601 UTC
    called: str | None
    target_kind: str | None
    target: str | None
    unit: str | None
    caller_hash: str | None
    internal: bool
    hours: str | None
    answered_by: str | None
    answered_step: str | None
    answered_rings: int | None
    outcome: Outcome | None  # None: no call.end yet (in progress, or lost before one)
    wait_s: float | None
    duration_s: float | None
    ended_at: str | None
    lost: bool


CALL_COLUMNS = ", ".join(CallRecord._fields)


class StoredEvent(NamedTuple):
    at: str  # ISO-8601 UTC
    call_id: str | None
    event: CallEvent


def call_start(events: Iterable[StoredEvent]) -> CallStart | None:
    """The call.start among a call's stored events (Store.call_events), if it is stored."""
    return next((e.event for e in events if isinstance(e.event, CallStart)), None)


@dataclass(frozen=True)
class Instance:
    id: str
    host: str
    pid: int
    seen_at: datetime


@dataclass(frozen=True)
class OpenCall:
    call_id: str
    instance: str
    channel: str
    started_at: datetime


@dataclass(frozen=True)
class Callback:
    id: int
    call_id: str
    caller: str
    target: str
    requested_at: datetime
    status: str
    attempts: int
    last_attempt_at: datetime | None
    last_outcome: str | None
    done_at: datetime | None
    done_by: str | None
    overdue_at: datetime | None = None


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    @property
    def description(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchone(self) -> Any: ...

    def fetchmany(self, size: int) -> list[Any]: ...


def _call_record(row: Sequence[Any]) -> CallRecord:
    (call_id, started, called, kind, target, unit, caller, internal, hours, by, step, rings, outcome, wait, duration,
     ended, lost) = row  # fmt: skip
    return CallRecord(
        str(call_id),
        str(started),
        called,
        kind,
        target,
        unit,
        caller,
        bool(internal),
        hours,
        by,
        step,
        int(rings) if rings is not None else None,
        Outcome(outcome) if outcome else None,
        float(wait) if wait is not None else None,
        float(duration) if duration is not None else None,
        ended,
        bool(lost),
    )


def _moment(text: object) -> datetime | None:
    return datetime.fromisoformat(str(text)) if text else None


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _utc_fixed(moment: datetime) -> str:
    """UTC with microseconds always written: such texts compare as their moments do."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), zone)


def _entry_json(entry: CalendarEntry) -> dict[str, object]:
    return {
        "start": entry.start.isoformat(),
        "end": entry.end.isoformat(),
        "reason": entry.reason.value,
        "private": entry.private,
        "all_day": entry.all_day,
    }


def _entry_of_json(data: dict[str, Any]) -> CalendarEntry:
    read = date.fromisoformat if data["all_day"] else datetime.fromisoformat
    return CalendarEntry(read(data["start"]), read(data["end"]), Reason(data["reason"]), bool(data["private"]))


class Store:
    """The queries; a backend supplies `_run` (outside a transaction), `_transaction` and `close`.

    One connection, used from the event loop and from worker threads (a call's referrals are
    read, and its callback written, in a thread, so no call waits on the store's I/O): each
    query and each transaction holds the store's lock, so they never interleave."""

    name = "store"
    io_off_loop = False  # True: each query is a network round trip; the service asks from a thread
    # SQLite: how to make a report's pass over many calls read them in their groups' order (an
    # index, migration 0002) instead of sorting them; PostgreSQL hash-aggregates and needs none.
    ordered_scan_hint = ""
    ORDERED_SCAN_FROM = 100_000  # calls in the period; below it the time index and a sort are quicker

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def _run(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        raise NotImplementedError

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        raise NotImplementedError
        yield  # pragma: no cover

    def _exec(self, tx: Any, sql: str, params: Sequence[object] = ()) -> Cursor:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _json_text(self, column: str, key: str) -> str:
        """SQL for one field of a JSON column, as text (the dialects differ here)."""
        raise NotImplementedError

    def _json_number(self, column: str, key: str) -> str:
        """SQL for one numeric field of a JSON column, as a number."""
        raise NotImplementedError

    def _whole_seconds(self, column: str) -> str:
        """SQL rounding a non-negative number of seconds half up, alike in both dialects (SQLite's
        ROUND rounds half away from zero, PostgreSQL's half to even; CAST truncates in one, rounds
        in the other). SQLite's report index (migration 0002) holds this expression for wait_s."""
        raise NotImplementedError

    @contextlib.contextmanager
    def _locked(self) -> Iterator[Any]:
        """A transaction under the store's lock (see the class)."""
        with self._lock, self._transaction() as tx:
            yield tx

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        try:
            with self._lock:
                return self._run(sql, params).fetchall()
        except Exception as exc:  # the driver's own errors (sqlite3, psycopg) become one kind
            raise StoreError(f"{self.name}: {exc}") from exc

    def _stream(self, sql: str, params: Sequence[object] = (), batch: int = 10_000) -> Iterator[Any]:
        """The rows of a query a batch at a time (a report's groups: never all of them in Python
        at once), under the store's lock until the last."""
        try:
            with self._lock:
                cursor = self._run(sql, params)
                while rows := cursor.fetchmany(batch):
                    yield from rows
        except Exception as exc:  # the driver's own errors (sqlite3, psycopg) become one kind
            raise StoreError(f"{self.name}: {exc}") from exc

    # -- referrals (R11) --------------------------------------------------------------------------

    def set_referral(self, referral: Referral, *, at: datetime, by: str) -> None:
        until = referral.until
        until_moment = until.isoformat() if isinstance(until, datetime) else None
        until_date = until.isoformat() if isinstance(until, date) and not isinstance(until, datetime) else None
        with self._locked() as tx:
            self._exec(
                tx,
                "INSERT INTO referrals (person, reason, until_moment, until_date, set_at, set_by)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (person) DO UPDATE SET reason = excluded.reason,"
                " until_moment = excluded.until_moment, until_date = excluded.until_date,"
                " set_at = excluded.set_at, set_by = excluded.set_by",
                (referral.person, referral.reason.value, until_moment, until_date, at.isoformat(), by),
            )

    def clear_referral(self, person: str) -> bool:
        with self._locked() as tx:
            return self._exec(tx, "DELETE FROM referrals WHERE person = ?", (person,)).rowcount > 0

    def referrals(self) -> list[Referral]:
        found = []
        for person, reason, until_moment, until_date in self._read(
            "SELECT person, reason, until_moment, until_date FROM referrals ORDER BY person"
        ):
            until: datetime | date | None = (
                datetime.fromisoformat(until_moment)
                if until_moment
                else date.fromisoformat(until_date)
                if until_date
                else None
            )
            found.append(Referral(person, Reason(reason), until))
        return found

    def snapshot(self) -> RoutingState:
        """ReferralSource: the referrals as they stand, for one call's plan."""
        return RoutingState({r.person: r for r in self.referrals()})

    def referral_setters(self) -> dict[str, str]:
        """Who set each stored referral (phone:5001, cli, operator:<id>): its source, for display."""
        return {str(person): str(by) for person, by in self._read("SELECT person, set_by FROM referrals")}

    # -- people's calendars (#15) -------------------------------------------------------------------

    def save_calendar(self, person: str, calendar: SyncedCalendar) -> None:
        """The last good sync of `person`'s calendar (what its events mean, never a subject: R12)."""
        entries = json.dumps([_entry_json(e) for e in calendar.entries])
        with self._locked() as tx:
            self._exec(
                tx,
                "INSERT INTO calendar_sync (person, entries, synced_at) VALUES (?, ?, ?)"
                " ON CONFLICT (person) DO UPDATE SET entries = excluded.entries, synced_at = excluded.synced_at",
                (person, entries, _utc(calendar.synced_at)),
            )

    def calendars(self) -> dict[str, SyncedCalendar]:
        found = {}
        for person, entries, synced_at in self._read("SELECT person, entries, synced_at FROM calendar_sync"):
            found[str(person)] = SyncedCalendar(
                tuple(_entry_of_json(e) for e in json.loads(entries)), datetime.fromisoformat(str(synced_at))
            )
        return found

    def forget_calendar(self, person: str) -> None:
        """`person` has no calendar any more (the config changed), or its events are too old to use."""
        with self._locked() as tx:
            self._exec(tx, "DELETE FROM calendar_sync WHERE person = ?", (person,))

    # -- the configs calls were planned under (#16) ----------------------------------------------

    def save_config_version(self, config_hash: str, text: str, *, at: datetime) -> bool:
        """Keep a config's text by its hash (once: the first load's time stays). True if new."""
        with self._locked() as tx:
            cursor = self._exec(
                tx,
                "INSERT INTO config_versions (hash, loaded_at, text) VALUES (?, ?, ?) ON CONFLICT (hash) DO NOTHING",
                (config_hash, _utc(at), text),
            )
            return bool(cursor.rowcount)

    def config_version(self, config_hash: str) -> str | None:
        """The text of the config with this hash, if a service loaded it with this store."""
        rows = self._read("SELECT text FROM config_versions WHERE hash = ?", (config_hash,))
        return str(rows[0][0]) if rows else None

    def call_events(self, call_id: str) -> list[StoredEvent]:
        """Every stored event of one call, in the order logged, read back typed."""
        rows = self._read(
            "SELECT at, call_id, event, fields FROM call_events WHERE call_id = ? ORDER BY id", (call_id,)
        )
        return [
            StoredEvent(str(at), str(cid), CALL_EVENTS[ev].from_fields(json.loads(f)))
            for at, cid, ev, f in rows
            if ev in CALL_EVENTS
        ]

    # -- callbacks (R4) ---------------------------------------------------------------------------

    def add_callback(self, *, call_id: str, caller: str, target: str, at: datetime) -> int:
        with self._locked() as tx:
            row = self._exec(
                tx,
                "INSERT INTO callbacks (call_id, caller, target, requested_at, status)"
                " VALUES (?, ?, ?, ?, 'open') RETURNING id",
                (call_id, caller, target, at.isoformat()),
            ).fetchone()
            return int(row[0])

    def callbacks(self, *, only_open: bool = False) -> list[Callback]:
        where = " WHERE status = 'open'" if only_open else ""
        return [self._callback(r) for r in self._read(f"SELECT {CALLBACK_COLUMNS} FROM callbacks{where} ORDER BY id")]

    def callback(self, callback_id: int) -> Callback | None:
        rows = self._read(f"SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE id = ?", (callback_id,))
        return self._callback(rows[0]) if rows else None

    def record_attempt(self, callback_id: int, *, at: datetime, outcome: str) -> None:
        with self._locked() as tx:
            self._exec(
                tx,
                "UPDATE callbacks SET attempts = attempts + 1, last_attempt_at = ?, last_outcome = ? WHERE id = ?",
                (at.isoformat(), outcome, callback_id),
            )

    def mark_done(self, callback_id: int, *, at: datetime, by: str) -> bool:
        with self._locked() as tx:
            return (
                self._exec(
                    tx,
                    "UPDATE callbacks SET status = 'done', done_at = ?, done_by = ? WHERE id = ? AND status = 'open'",
                    (at.isoformat(), by, callback_id),
                ).rowcount
                > 0
            )

    def mark_overdue(self, callback_id: int, *, at: datetime) -> bool:
        """Record that the callback was reported overdue; False if it was already."""
        with self._locked() as tx:
            return (
                self._exec(
                    tx,
                    "UPDATE callbacks SET overdue_at = ? WHERE id = ? AND overdue_at IS NULL AND status = 'open'",
                    (at.isoformat(), callback_id),
                ).rowcount
                > 0
            )

    @staticmethod
    def _callback(row: Sequence[object]) -> Callback:
        cid, call_id, caller, target, requested, status, attempts, last_at, last_outcome, done_at, done_by, late = row
        return Callback(
            int(str(cid)),
            str(call_id),
            str(caller),
            str(target),
            datetime.fromisoformat(str(requested)),
            str(status),
            int(str(attempts)),
            _moment(last_at),
            str(last_outcome) if last_outcome else None,
            _moment(done_at),
            str(done_by) if done_by else None,
            _moment(late),
        )

    # -- call records (R19/R20 follow-up; numbers hashed, R12) ------------------------------------

    def record_event(self, *, at: str, call_id: str | None, event: str, fields: dict[str, object]) -> None:
        """Keep one call event; call.start/answered/end also fill in the call's row."""
        self.record_events([RecordedEvent(at, call_id, event, fields)])

    def record_events(self, events: Sequence[RecordedEvent]) -> None:
        """Keep call events in one transaction (all or none), in order."""
        with self._locked() as tx:
            for recorded in events:
                self._record(tx, recorded)

    def _record(self, tx: Any, recorded: RecordedEvent) -> None:
        at, call_id, event, fields = recorded
        self._exec(
            tx,
            "INSERT INTO call_events (at, call_id, event, fields) VALUES (?, ?, ?, ?)",
            (at, call_id, event, json.dumps(fields, ensure_ascii=False, default=str)),
        )
        if call_id is None:
            return
        if event == CallStart.NAME:
            start = CallStart.from_fields(fields)
            if start.instance and start.channel:
                self._exec(
                    tx,
                    "INSERT INTO open_calls (call_id, instance, channel, started_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (call_id) DO NOTHING",
                    (call_id, start.instance, start.channel, at),
                )
            self._exec(
                tx,
                "INSERT INTO calls (call_id, started_at, called, target_kind, target, unit, caller_hash,"
                " internal, hours) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (call_id) DO NOTHING",
                (
                    call_id,
                    at,
                    start.called,
                    start.target_kind,
                    start.target,
                    start.unit,
                    start.caller,  # hashed by the recorder
                    1 if start.internal else 0,
                    start.hours,
                ),
            )
        elif event == CallAnswered.NAME:
            answered = CallAnswered.from_fields(fields)
            self._exec(
                tx,
                "UPDATE calls SET answered_by = ?, answered_step = ?, answered_rings = ? WHERE call_id = ?",
                (answered.by, answered.step, answered.rings, call_id),
            )
        elif event == CallEnd.NAME:
            end = CallEnd.from_fields(fields)
            self._exec(tx, "DELETE FROM open_calls WHERE call_id = ?", (call_id,))
            self._exec(
                tx,
                "UPDATE calls SET outcome = ?, wait_s = ?, duration_s = ?, ended_at = ?, lost = ? WHERE call_id = ?",
                (str(end.outcome or "") or None, end.wait_s, end.duration_s, at, 1 if end.lost else 0, call_id),
            )

    def calls_between(self, start: datetime, end: datetime) -> list[CallRecord]:
        rows = self._read(
            f"SELECT {CALL_COLUMNS} FROM calls WHERE started_at >= ? AND started_at < ? ORDER BY started_at",
            (_utc(start), _utc(end)),
        )
        return [_call_record(row) for row in rows]

    def events_between(self, start: datetime, end: datetime, *kinds: type[CallEvent]) -> list[StoredEvent]:
        """The stored events of `kinds` (every recorded kind if none is named), read back typed."""
        query = "SELECT at, call_id, event, fields FROM call_events WHERE at >= ? AND at < ?"
        params: list[object] = [_utc(start), _utc(end)]
        if kinds:
            query += f" AND event IN ({', '.join('?' for _ in kinds)})"
            params += [kind.NAME for kind in kinds]
        rows = self._read(query + " ORDER BY id", params)
        return [
            StoredEvent(str(at), str(cid) if cid is not None else None, CALL_EVENTS[ev].from_fields(json.loads(f)))
            for at, cid, ev, f in rows
            if ev in CALL_EVENTS
        ]

    def tally_between(self, start: datetime, end: datetime, *, within_s: float, zone: ZoneInfo) -> Tally:
        """The report's counts over the raw calls begun in [start, end) and the counted events of
        that period, aggregated in the database (#12): what comes back is one row per group,
        never one per call. `within_s`: an R2 answer this soon is within the ring limit (R1/R2);
        `zone`: the local hours of the day."""
        lo, hi = _utc(start), _utc(end)
        tally = Tally()
        r2 = {outcome.value for outcome in Outcome if outcome.is_r2_answer}
        hint = ""
        if self.ordered_scan_hint:
            (held,) = self._read("SELECT COUNT(*) FROM calls WHERE started_at >= ? AND started_at < ?", (lo, hi))[0]
            hint = self.ordered_scan_hint if int(held) >= self.ORDERED_SCAN_FROM else ""
        # One pass gives the calls, their waits and how long abandoned callers waited.
        seconds_of = self._whole_seconds(f"({SECONDS_COUNTED})")
        for unit, kind, target, outcome, step, seconds, n, within in self._stream(
            f"SELECT unit, target_kind, target, outcome, answered_step, {seconds_of}, COUNT(*),"
            f" SUM(CASE WHEN wait_s <= ? THEN 1 ELSE 0 END) FROM calls {hint}"
            " WHERE started_at >= ? AND started_at < ?"
            f" GROUP BY unit, target_kind, target, outcome, answered_step, {seconds_of}",
            (within_s, lo, hi),
        ):
            scope = who(unit, kind, target)
            tally.count(scope, Measure.ANSWER, answer_key(outcome, step), int(n))
            if seconds is None:
                continue
            if outcome in r2:
                tally.count(scope, Measure.WAIT, int(seconds), int(n))
                tally.count(scope, Measure.WITHIN, "", int(within))
            elif outcome in (None, Outcome.ABANDONED.value):
                tally.count(scope, Measure.ABANDONED_AFTER, int(seconds), int(n))
        for utc_hour, quarter, n in self._read(
            "SELECT substr(started_at, 1, 14), CAST(substr(started_at, 15, 2) AS INTEGER) / 15, COUNT(*)"
            " FROM calls WHERE started_at >= ? AND started_at < ? GROUP BY 1, 2",
            (lo, hi),
        ):
            # Quarter hours: every time zone's offset is a whole number of them.
            began = datetime.fromisoformat(f"{utc_hour}00+00:00") + timedelta(minutes=15 * int(quarter))
            tally.count(NOBODY, Measure.HOUR, began.astimezone(zone).hour, int(n))
        self._tally_events(tally, lo, hi)
        return tally

    def _tally_events(self, tally: Tally, lo: str, hi: str) -> None:
        """The counted events of [lo, hi): a policy violation or an unplayed message counts for
        its call's unit and target if the call began in the period (else for everyone only); a
        mobile forward for its person, a private call or a blocked premium-rate number for the
        caller's extension. Only the fields counted are read, back through the typed events."""
        rule = self._json_text("e.fields", "rule")
        for unit, kind, target, name, rule_value, n in self._read(
            f"SELECT c.unit, c.target_kind, c.target, e.event, {rule}, COUNT(*) FROM call_events e"
            " LEFT JOIN calls c ON c.call_id = e.call_id AND c.started_at >= ? AND c.started_at < ?"
            " WHERE e.event IN (?, ?) AND e.at >= ? AND e.at < ? GROUP BY 1, 2, 3, 4, 5",
            (lo, hi, PolicyViolation.NAME, PromptNotPlayed.NAME, lo, hi),
        ):
            scope = who(unit, kind, target)
            if name == PolicyViolation.NAME:
                violation = PolicyViolation.from_fields({"rule": rule_value})
                tally.count(scope, Measure.VIOLATION, violation.rule, int(n))
            else:
                tally.count(scope, Measure.NOT_PLAYED, "", int(n))
        keys = ("person", "extension", "rule", "reason", "premium_rate")
        extracted = ", ".join(self._json_text("fields", key) for key in keys)
        for name, *values, n in self._read(
            f"SELECT event, {extracted}, COUNT(*) FROM call_events"
            " WHERE event IN (?, ?, ?) AND at >= ? AND at < ? GROUP BY 1, 2, 3, 4, 5, 6",
            (MobileForward.NAME, CallPrivate.NAME, OutboundBlocked.NAME, lo, hi),
        ):
            fields: dict[str, object] = {k: v for k, v in zip(keys, values, strict=True) if v is not None}
            if "premium_rate" in fields:  # JSON true: 1 from SQLite, 'true' from PostgreSQL
                fields["premium_rate"] = fields["premium_rate"] in (1, "1", "true", True)
            event = CALL_EVENTS[str(name)].from_fields(fields)
            if isinstance(event, MobileForward):
                tally.count(("", "person", event.person), Measure.MOBILE_FORWARD, "", int(n))
            elif isinstance(event, CallPrivate):
                tally.count(("", "extension", event.extension), Measure.PRIVATE, "", int(n))
            elif isinstance(event, OutboundBlocked) and event.premium_rate:
                tally.count(("", "extension", event.extension), Measure.PREMIUM_BLOCKED, "", int(n))
        self._tally_switchboard(tally, lo, hi)

    def _tally_switchboard(self, tally: Tally, lo: str, hi: str) -> None:
        """The switchboard's figures (#13 item 10), for the call's unit and target if it began in
        the period (else for everyone only): calls an operator talked to, the queue wait before an
        operator first took a call, transfers, återfall, and calls put through after one."""
        place, why = self._json_text("e.fields", "place"), self._json_text("e.fields", "why")
        after_return = f"CASE WHEN COALESCE({self._json_number('e.fields', 'returns')}, 0) > 0 THEN 1 ELSE 0 END"
        wait = self._whole_seconds(self._json_number("e.fields", "queue_wait_s"))
        names = (
            SwitchboardConnected.NAME,
            SwitchboardAnswered.NAME,
            SwitchboardTransfer.NAME,
            SwitchboardQueued.NAME,
            SwitchboardPutThrough.NAME,
        )
        for unit, kind, target, name, place_value, why_value, returned, seconds, n, calls in self._read(
            f"SELECT c.unit, c.target_kind, c.target, e.event, {place}, {why}, {after_return}, {wait}, COUNT(*),"
            " COUNT(DISTINCT e.call_id) FROM call_events e"
            " LEFT JOIN calls c ON c.call_id = e.call_id AND c.started_at >= ? AND c.started_at < ?"
            f" WHERE e.event IN ({', '.join('?' for _ in names)}) AND e.at >= ? AND e.at < ?"
            " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8",
            (lo, hi, *names, lo, hi),
        ):
            scope = who(unit, kind, target)
            if name == SwitchboardConnected.NAME:
                tally.count(scope, Measure.SB_ANSWERED, "", int(calls))
            elif name == SwitchboardAnswered.NAME and place_value == "waiting" and seconds is not None:
                tally.count(scope, Measure.SB_QUEUE_WAIT, int(seconds), int(n))
            elif name == SwitchboardTransfer.NAME:
                tally.count(scope, Measure.SB_TRANSFER, "", int(n))
            elif name == SwitchboardQueued.NAME and place_value == "returned" and why_value != OPERATOR_DID_NOT_ANSWER:
                tally.count(scope, Measure.SB_RECALL, "", int(n))
            elif name == SwitchboardPutThrough.NAME and returned:
                tally.count(scope, Measure.SB_RECALL_PUT_THROUGH, "", int(n))

    # -- daily totals: a report's figures beyond the calls' retention (#12, R12, R19, R20) --------

    def raw_kept_from(self) -> date | None:
        """The first local day whose raw calls are all still held (None: none were ever pruned);
        the days before it are in the daily totals."""
        rows = self._read("SELECT value FROM meta WHERE key = 'raw_kept_from'")
        return date.fromisoformat(str(rows[0][0])) if rows else None

    def daily_totals(self, first: date, last: date) -> Tally:
        """The counts kept for the local days first … last (both included)."""
        tally = Tally()
        for unit, kind, target, measure, key, n in self._read(
            "SELECT unit, target_kind, target, measure, key, SUM(n) FROM daily_totals"
            " WHERE day >= ? AND day <= ? GROUP BY 1, 2, 3, 4, 5",
            (first.isoformat(), last.isoformat()),
        ):
            tally.count((unit, kind, target), Measure(measure), key, int(n))
        return tally

    def roll_up_and_prune(
        self, keep_from: date, *, zone: ZoneInfo, within_s: float, totals_from: date | None = None
    ) -> tuple[list[date], int]:
        """Retention (R12) that keeps the report's figures: every local day before `keep_from`
        still held raw is added up into the daily totals and its calls and events deleted, one
        day per transaction (both or neither: a count is never lost nor kept twice); then daily
        totals before `totals_from` are deleted. Returns the days rolled up and the events deleted."""
        rolled: list[date] = []
        deleted = 0
        cut = _utc(_midnight(keep_from, zone))
        rows = self._read(
            "SELECT MIN(started_at) FROM calls WHERE started_at < ? UNION ALL"
            " SELECT MIN(at) FROM call_events WHERE at < ?",
            (cut, cut),
        )
        oldest = [datetime.fromisoformat(str(row[0])) for row in rows if row[0] is not None]
        day = min(oldest).astimezone(zone).date() if oldest else keep_from
        while day < keep_from:
            start, end = _midnight(day, zone), _midnight(day + timedelta(days=1), zone)
            with self._locked() as tx:
                tally = self.tally_between(start, end, within_s=within_s, zone=zone)
                for (unit, kind, target, measure, key), n in tally.items():
                    self._exec(
                        tx,
                        "INSERT INTO daily_totals (day, unit, target_kind, target, measure, key, n)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (day, unit, target_kind, target, measure, key)"
                        " DO UPDATE SET n = daily_totals.n + excluded.n",
                        (day.isoformat(), unit, kind, target, measure.value, key, n),
                    )
                hi = _utc(end)
                deleted += self._exec(tx, "DELETE FROM call_events WHERE at < ?", (hi,)).rowcount
                self._exec(tx, "DELETE FROM calls WHERE started_at < ?", (hi,))
                self._exec(tx, "DELETE FROM open_calls WHERE started_at < ?", (hi,))
                self._exec(
                    tx,
                    "INSERT INTO meta (key, value) VALUES ('raw_kept_from', ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    ((day + timedelta(days=1)).isoformat(),),
                )
                if tally:
                    rolled.append(day)
            day += timedelta(days=1)
        if totals_from is not None:
            with self._locked() as tx:
                self._exec(tx, "DELETE FROM daily_totals WHERE day < ?", (totals_from.isoformat(),))
        return rolled, int(deleted)

    # -- service instances and the calls they route (a killed one's calls get their call.end) ---

    def heartbeat(self, instance: str, *, host: str, pid: int, at: datetime) -> None:
        """The instance is alive at `at` (registers it the first time)."""
        with self._locked() as tx:
            self._exec(
                tx,
                "INSERT INTO instances (id, host, pid, seen_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
                (instance, host, pid, _utc(at)),
            )

    def remove_instance(self, instance: str) -> None:
        with self._locked() as tx:
            self._exec(tx, "DELETE FROM instances WHERE id = ?", (instance,))

    def instances(self) -> list[Instance]:
        rows = self._read("SELECT id, host, pid, seen_at FROM instances ORDER BY id")
        return [Instance(str(i), str(h), int(p), datetime.fromisoformat(str(s))) for i, h, p, s in rows]

    def open_call_owners(self) -> set[str]:
        """Every instance with a call in progress (one that stopped cleanly has none)."""
        return {str(row[0]) for row in self._read("SELECT DISTINCT instance FROM open_calls")}

    def open_calls(self, instance: str) -> list[OpenCall]:
        rows = self._read(
            "SELECT call_id, instance, channel, started_at FROM open_calls WHERE instance = ? ORDER BY started_at",
            (instance,),
        )
        return [OpenCall(str(c), str(i), str(ch), datetime.fromisoformat(str(s))) for c, i, ch, s in rows]

    def claim_call(self, call_id: str, *, from_instance: str, to_instance: str) -> bool:
        """Take over a call another instance left open; False if someone else did first."""
        with self._locked() as tx:
            taken = self._exec(
                tx,
                "UPDATE open_calls SET instance = ? WHERE call_id = ? AND instance = ?",
                (to_instance, call_id, from_instance),
            ).rowcount
        return bool(taken)

    def hold_lease(self, name: str, holder: str, *, at: datetime, for_s: float) -> str:
        """Take or renew the lease `name` for `holder` until `at` + `for_s`, if it is free, has
        run out, or is `holder`'s already: returns who holds it now (`holder`, or the instance
        that does). One statement: two instances asking at once cannot both get it."""
        with self._locked() as tx:
            self._exec(
                tx,
                "INSERT INTO leases (name, holder, until) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE"
                " SET holder = excluded.holder, until = excluded.until"
                " WHERE leases.holder = excluded.holder OR leases.until < ?",
                (name, holder, _utc_fixed(at + timedelta(seconds=for_s)), _utc_fixed(at)),
            )
            row = self._exec(tx, "SELECT holder FROM leases WHERE name = ?", (name,)).fetchone()
        return str(row[0])

    def lease_holder(self, name: str) -> str | None:
        """Who holds the lease `name`, if anyone does (it may have run out)."""
        rows = self._read("SELECT holder FROM leases WHERE name = ?", (name,))
        return str(rows[0][0]) if rows else None

    def take_lease(self, name: str, holder: str, *, from_holder: str, at: datetime, for_s: float) -> str:
        """Take the lease `name` from `from_holder`, known to be gone (its process no longer
        exists), before it runs out: returns who holds it now."""
        with self._locked() as tx:
            self._exec(
                tx,
                "UPDATE leases SET holder = ?, until = ? WHERE name = ? AND holder = ?",
                (holder, _utc_fixed(at + timedelta(seconds=for_s)), name, from_holder),
            )
            row = self._exec(tx, "SELECT holder FROM leases WHERE name = ?", (name,)).fetchone()
        return str(row[0]) if row is not None else ""

    def release_lease(self, name: str, holder: str) -> None:
        """A clean stop: the lease is free for another instance at once."""
        with self._locked() as tx:
            self._exec(tx, "DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    def call_owner(self, call_id: str) -> tuple[bool, str | None]:
        """Whether the call's start is stored, and which instance has it in progress (None: it
        has ended, or its start is not stored)."""
        started = bool(self._read("SELECT 1 FROM calls WHERE call_id = ?", (call_id,)))
        rows = self._read("SELECT instance FROM open_calls WHERE call_id = ?", (call_id,))
        return started, (str(rows[0][0]) if rows else None)

    def installation_key(self) -> bytes:
        """The installation's secret for hashing numbers (R12): made once, kept in the store so
        every instance of a site hashes alike; never logged."""
        return bytes.fromhex(self._site_secret("installation_key"))

    def agi_token(self) -> str:
        """The secret Asterisk sends with every FastAGI request (#11: only Asterisk may speak to
        the service): made once, shared by every instance of a site, written to AstDB over
        AMI; never logged."""
        return self._site_secret("agi_token")

    def _site_secret(self, key: str) -> str:
        with self._locked() as tx:
            self._exec(
                tx,
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (key, secrets.token_hex(32)),
            )
            row = self._exec(tx, "SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0])
