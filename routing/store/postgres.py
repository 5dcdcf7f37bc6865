"""The PostgreSQL store, for sites that outgrow one machine: several service instances (one per
Asterisk server, or two for failover) share referrals, callbacks and call records."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from routing.store import schema
from routing.store.base import Cursor, Store, StoreError


class PostgresStore(Store):
    io_off_loop = True  # a round trip to the server: never on the event loop while a call waits

    def __init__(self, url: str) -> None:
        super().__init__()
        # The URL may hold a password; what is shown is the host and database only (R12).
        self.name = "store " + url.split("@")[-1].split("?")[0]
        try:
            import psycopg  # only sites with a shared store need the driver
        except ImportError as exc:  # a clear word instead of a traceback (#17 item 4)
            raise StoreError(
                f"cannot open the {self.name}: the PostgreSQL driver is not installed; "
                "install it into the service's environment with the package's postgresql extra "
                "(from the checkout: pip install '.[postgresql]'), or pip install 'psycopg[binary]'"
            ) from exc

        self._psycopg = psycopg
        try:
            self._db = psycopg.connect(url, autocommit=True, connect_timeout=5)
            current = self._revision()
            if schema.check_revision(current):
                # Alembic takes the advisory lock instances starting together wait on.
                found = self._db.execute("SELECT to_regclass('meta')").fetchone()
                fresh = found is None or found[0] is None
                target = "postgresql+psycopg://" + url.split("://", 1)[1]
                schema.upgrade(target, current=current, fresh=fresh, name=self.name)
        except schema.NewerStore as exc:
            raise StoreError(f"cannot open the {self.name}: {exc}") from exc
        except Exception as exc:  # psycopg's, SQLAlchemy's and Alembic's errors become one kind
            raise StoreError(f"cannot open the {self.name}: {exc}") from exc

    def _revision(self) -> str | None:
        """The store's Alembic revision; None for an empty store or one made before migrations."""
        found = self._db.execute("SELECT to_regclass('alembic_version')").fetchone()
        if found is None or found[0] is None:
            return None
        row = self._db.execute("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0]) if row else None

    def _json_text(self, column: str, key: str) -> str:
        return f"({column}::json ->> '{key}')"

    def _json_number(self, column: str, key: str) -> str:
        return f"CAST(({column}::json ->> '{key}') AS DOUBLE PRECISION)"

    def _whole_seconds(self, column: str) -> str:
        return f"FLOOR({column} + 0.5)"

    def close(self) -> None:
        # Under the lock: a worker thread (the follow-up round) may be in a transaction, and
        # closing a connection under it crashes the interpreter (seen in CI, SQLite).
        with self._lock:
            self._db.close()

    def _run(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        try:
            cursor: Cursor = self._db.execute(sql.replace("?", "%s"), params)
            return cursor
        except self._psycopg.Error as exc:
            raise StoreError(f"{self.name}: {exc}") from exc

    def _exec(self, tx: Any, sql: str, params: Sequence[object] = ()) -> Cursor:
        cursor: Cursor = self._db.execute(sql.replace("?", "%s"), params)
        return cursor

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        try:
            with self._db.transaction() as tx:
                yield tx
        except self._psycopg.Error as exc:
            raise StoreError(f"{self.name}: {exc}") from exc
