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

from routing.store.base import SCHEMA, SCHEMA_VERSION, Callback, Cursor, Store, StoreError

__all__ = ["Callback", "SqliteStore", "StoreError"]


class SqliteStore(Store):
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
            self._db.executescript(SCHEMA.format(autoid="INTEGER PRIMARY KEY AUTOINCREMENT"))
            self._add_missing_columns()
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO NOTHING",
                (str(SCHEMA_VERSION),),
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
