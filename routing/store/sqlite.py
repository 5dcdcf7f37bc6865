"""The SQLite store: one file, mode 0600 (R12: it holds callers' full numbers for callbacks).

WAL mode lets the CLI (`routing referral set`, `routing callbacks done`) write while the
service reads; every change is one transaction, so a crash loses nothing that was confirmed.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from routing.store import schema
from routing.store.base import Callback, Cursor, Store, StoreError

__all__ = ["Callback", "SqliteStore", "StoreError"]


class SqliteStore(Store):
    ordered_scan_hint = "INDEXED BY calls_report"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.name = f"store {path}"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Create the file 0600 before SQLite opens it: it never exists world-readable.
            fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
            os.close(fd)
            self._db = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            current = self._revision()
            if schema.check_revision(current):
                fresh = not self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
                schema.upgrade(f"sqlite:///{path}", current=current, fresh=fresh, name=self.name)
        except schema.NewerStore as exc:
            raise StoreError(f"cannot open the store {path}: {exc}") from exc
        except Exception as exc:  # the drivers' own errors (sqlite3, SQLAlchemy's, Alembic's) become one kind
            raise StoreError(f"cannot open the store {path}: {exc}") from exc

    def _revision(self) -> str | None:
        """The store's Alembic revision; None for an empty store or one made before migrations."""
        if not self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone():
            return None
        row = self._db.execute("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0]) if row else None

    def _json_text(self, column: str, key: str) -> str:
        return f"json_extract({column}, '$.{key}')"

    def _json_number(self, column: str, key: str) -> str:
        return f"json_extract({column}, '$.{key}')"

    def _whole_seconds(self, column: str) -> str:
        return f"CAST({column} + 0.5 AS INTEGER)"

    def close(self) -> None:
        # Under the lock: a worker thread (the follow-up round) may be in a transaction, and
        # closing a connection under it crashes the interpreter (seen in CI, SQLite).
        with self._lock:
            self._db.close()

    def _run(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.name}: {exc}") from exc

    def _exec(self, tx: sqlite3.Connection, sql: str, params: Sequence[object] = ()) -> Cursor:
        return tx.execute(sql, params)

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
            raise StoreError(f"{self.name}: {exc}") from exc
