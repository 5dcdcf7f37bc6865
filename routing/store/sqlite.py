"""The SQLite store: one file, mode 0600 (R12: it holds callers' full numbers for callbacks).

WAL mode lets the CLI (`routing referral set`, `routing callbacks done`) write while the
service reads; every change is one transaction, so a crash loses nothing that was confirmed.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from routing.policy.referral import Reason, Referral
from routing.policy.state import RoutingState

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS referrals (
    person TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    until_moment TEXT,          -- ISO-8601 with offset, or NULL
    until_date TEXT,            -- YYYY-MM-DD, or NULL
    set_at TEXT NOT NULL,
    set_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS callbacks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT NOT NULL,
    caller TEXT NOT NULL,       -- the full number: the one place it is kept (R12)
    target TEXT NOT NULL,       -- the person or unit the caller wanted
    requested_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'done')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    last_outcome TEXT,
    done_at TEXT,
    done_by TEXT,
    overdue_at TEXT             -- when it was reported overdue (R4), once
);
CREATE INDEX IF NOT EXISTS callbacks_open ON callbacks (status, requested_at);
-- Every call event the service logs (the same facts as the JSON log), outside numbers hashed.
CREATE TABLE IF NOT EXISTS call_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    call_id TEXT,
    event TEXT NOT NULL,
    fields TEXT NOT NULL        -- JSON
);
CREATE INDEX IF NOT EXISTS call_events_at ON call_events (at);
CREATE INDEX IF NOT EXISTS call_events_call ON call_events (call_id);
-- One row a call, filled in from its events: what reports count.
CREATE TABLE IF NOT EXISTS calls (
    call_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    called TEXT,
    target_kind TEXT,
    target TEXT,
    unit TEXT,
    caller_hash TEXT,           -- HMAC of the caller's number with this installation's key; NULL if hidden
    internal INTEGER,
    hours TEXT,
    answered_by TEXT,
    answered_step TEXT,
    answered_rings INTEGER,
    outcome TEXT,
    wait_s REAL,
    duration_s REAL,
    ended_at TEXT,
    lost INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS calls_started ON calls (started_at);
"""


class StoreError(Exception):
    """The store cannot be opened or used. Stable log id: store.error."""

    log_id = "store.error"


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


def open_store(url: str) -> SqliteStore:
    """`sqlite:///var/lib/routing/routing.db` (an absolute path after the three slashes)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise StoreError(f"this release keeps its store in SQLite (sqlite:///PATH), not '{url.split(':')[0]}'")
    return SqliteStore(Path("/" + url[len(prefix) :].lstrip("/")))


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Create the file 0600 before SQLite opens it: it never exists world-readable.
            fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
            os.close(fd)
            self._db = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._add_missing_columns()
            self._db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the store {path}: {exc}") from exc

    def _add_missing_columns(self) -> None:
        """Stores made by an earlier release get the columns added since (nothing is lost)."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(callbacks)")}
        if "overdue_at" not in columns:
            self._db.execute("ALTER TABLE callbacks ADD COLUMN overdue_at TEXT")

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One change, all or nothing (also when the caller is cancelled or interrupted)."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            committed = False
            try:
                yield self._db
                self._db.execute("COMMIT")
                committed = True
            finally:
                if not committed:
                    self._db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            raise StoreError(f"store {self.path}: {exc}") from exc

    # -- referrals (R11) --------------------------------------------------------------------

    def set_referral(self, referral: Referral, *, at: datetime, by: str) -> None:
        until_moment = referral.until.isoformat() if isinstance(referral.until, datetime) else None
        until_date = (
            referral.until.isoformat()
            if isinstance(referral.until, date) and not isinstance(referral.until, datetime)
            else None
        )
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO referrals (person, reason, until_moment, until_date, set_at, set_by)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (referral.person, referral.reason.value, until_moment, until_date, at.isoformat(), by),
            )

    def clear_referral(self, person: str) -> bool:
        with self._transaction() as db:
            return db.execute("DELETE FROM referrals WHERE person = ?", (person,)).rowcount > 0

    def referrals(self) -> list[Referral]:
        try:
            rows = self._db.execute("SELECT person, reason, until_moment, until_date FROM referrals").fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"store {self.path}: {exc}") from exc
        found = []
        for person, reason, until_moment, until_date in rows:
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

    # -- callbacks (R4) ---------------------------------------------------------------------

    def add_callback(self, *, call_id: str, caller: str, target: str, at: datetime) -> int:
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO callbacks (call_id, caller, target, requested_at, status) VALUES (?, ?, ?, ?, 'open')",
                (call_id, caller, target, at.isoformat()),
            )
            return int(cursor.lastrowid or 0)

    def callbacks(self, *, only_open: bool = False) -> list[Callback]:
        query = "SELECT * FROM callbacks" + (" WHERE status = 'open'" if only_open else "") + " ORDER BY id"
        try:
            rows = self._db.execute(query).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"store {self.path}: {exc}") from exc
        return [self._callback(row) for row in rows]

    def callback(self, callback_id: int) -> Callback | None:
        row = self._db.execute("SELECT * FROM callbacks WHERE id = ?", (callback_id,)).fetchone()
        return self._callback(row) if row else None

    def record_attempt(self, callback_id: int, *, at: datetime, outcome: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE callbacks SET attempts = attempts + 1, last_attempt_at = ?, last_outcome = ? WHERE id = ?",
                (at.isoformat(), outcome, callback_id),
            )

    # -- call records (R19/R20 follow-up; numbers hashed, R12) ------------------------------------

    def record_event(self, *, at: str, call_id: str | None, event: str, fields: dict[str, object]) -> None:
        """Keep one call event; a call.start/answered/end also fills in the call's row."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO call_events (at, call_id, event, fields) VALUES (?, ?, ?, ?)",
                (at, call_id, event, json.dumps(fields, ensure_ascii=False, default=str)),
            )
            if call_id is None:
                return
            if event == "call.start":
                db.execute(
                    "INSERT OR IGNORE INTO calls (call_id, started_at, called, target_kind, target, unit,"
                    " caller_hash, internal, hours) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        call_id,
                        at,
                        fields.get("called"),
                        fields.get("target_kind"),
                        fields.get("target"),
                        fields.get("unit"),
                        fields.get("caller"),
                        1 if fields.get("internal") else 0,
                        fields.get("hours"),
                    ),
                )
            elif event == "call.answered":
                db.execute(
                    "UPDATE calls SET answered_by = ?, answered_step = ?, answered_rings = ? WHERE call_id = ?",
                    (fields.get("by"), fields.get("step"), fields.get("rings"), call_id),
                )
            elif event == "call.end":
                db.execute(
                    "UPDATE calls SET outcome = ?, wait_s = ?, duration_s = ?, ended_at = ?, lost = ?"
                    " WHERE call_id = ?",
                    (
                        fields.get("outcome"),
                        fields.get("wait_s"),
                        fields.get("duration_s"),
                        at,
                        1 if fields.get("lost") else 0,
                        call_id,
                    ),
                )

    def calls_between(self, start: datetime, end: datetime) -> list[dict[str, object]]:
        cursor = self._db.execute(
            "SELECT * FROM calls WHERE started_at >= ? AND started_at < ? ORDER BY started_at",
            (start.astimezone(UTC).isoformat(), end.astimezone(UTC).isoformat()),
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def events_between(self, start: datetime, end: datetime, *names: str) -> list[dict[str, object]]:
        query = "SELECT at, call_id, event, fields FROM call_events WHERE at >= ? AND at < ?"
        params: list[str] = [start.astimezone(UTC).isoformat(), end.astimezone(UTC).isoformat()]
        if names:
            query += f" AND event IN ({', '.join('?' for _ in names)})"
            params += names
        rows = self._db.execute(query + " ORDER BY id", params).fetchall()
        return [{"at": at, "call_id": cid, "event": ev, **json.loads(f)} for at, cid, ev, f in rows]

    def prune(self, before: datetime) -> int:
        """Delete call records older than `before` (retention); callbacks are kept until done."""
        cut = before.astimezone(UTC).isoformat()
        with self._transaction() as db:
            gone = db.execute("DELETE FROM call_events WHERE at < ?", (cut,)).rowcount
            db.execute("DELETE FROM calls WHERE started_at < ?", (cut,))
        return int(gone)

    def installation_key(self) -> bytes:
        """This installation's secret for hashing numbers (R12): made once, kept beside the
        store file (mode 0600), never logged."""
        key_path = self.path.with_name(self.path.name + ".key")
        try:
            return bytes.fromhex(key_path.read_text(encoding="ascii").strip())
        except FileNotFoundError:
            key = secrets.token_bytes(32)
            fd = os.open(key_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(key.hex())
            return key
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot read the installation key {key_path}: {exc}") from exc

    def mark_overdue(self, callback_id: int, *, at: datetime) -> bool:
        """Record that the callback was reported overdue; False if it was already."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE callbacks SET overdue_at = ? WHERE id = ? AND overdue_at IS NULL AND status = 'open'",
                (at.isoformat(), callback_id),
            )
            return cursor.rowcount > 0

    def mark_done(self, callback_id: int, *, at: datetime, by: str) -> bool:
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE callbacks SET status = 'done', done_at = ?, done_by = ? WHERE id = ? AND status = 'open'",
                (at.isoformat(), by, callback_id),
            )
            return cursor.rowcount > 0

    @staticmethod
    def _callback(row: tuple[object, ...]) -> Callback:
        (cid, call_id, caller, target, requested, status, attempts, last_at, last_outcome, done_at, done_by) = row[:11]
        overdue_at = row[11] if len(row) > 11 else None
        return Callback(
            int(str(cid)),
            str(call_id),
            str(caller),
            str(target),
            datetime.fromisoformat(str(requested)),
            str(status),
            int(str(attempts)),
            _moment(str(last_at)) if last_at else None,
            str(last_outcome) if last_outcome else None,
            _moment(str(done_at)) if done_at else None,
            str(done_by) if done_by else None,
            _moment(str(overdue_at)) if overdue_at else None,
        )
