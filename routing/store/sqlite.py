"""The SQLite store: one file, mode 0600 (R12: it holds callers' full numbers for callbacks).

WAL mode lets the CLI (`routing referral set`, `routing callbacks done`) write while the
service reads; every change is one transaction, so a crash loses nothing that was confirmed.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
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
