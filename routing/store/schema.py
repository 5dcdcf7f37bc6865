"""The store's schema version and its upgrade in place (#12): Alembic over both stores.

A store is opened with its own driver (sqlite3, psycopg); only when its Alembic revision is not
this release's head are Alembic and SQLAlchemy imported and the revisions in `migrations/`
applied, in one transaction (all or none). A store from a newer release is refused with what
to do, never "downgraded" by guessing.
"""

from __future__ import annotations

import threading
from pathlib import Path

import structlog

from routing.calllog.events import LogId

log = structlog.get_logger("routing.store")

MIGRATIONS = Path(__file__).parent / "migrations"
REVISIONS = (
    "0001",
    "0002",
    "0003",
    "0004",
    "0005",
)  # in order; tests/unit/store/test_schema.py checks them against migrations/
HEAD = REVISIONS[-1]
# Alembic keeps the running migration in module globals (alembic.op, alembic.context): one at a
# time per process. Processes (instances, CLI commands) are kept apart by the database's locks.
_ONE_AT_A_TIME = threading.Lock()


class NewerStore(Exception):
    """The store was upgraded by a newer release than this one."""


def check_revision(current: str | None) -> bool:
    """True if the store needs an upgrade; NewerStore if it is past this release."""
    if current == HEAD:
        return False
    if current is not None and current not in REVISIONS:
        raise NewerStore(
            f"the store's schema is at revision {current}, which this release of routing does not know"
            f" (its newest is {HEAD}): it was upgraded by a newer release; run that release"
        )
    return True


def upgrade(sqlalchemy_url: str, *, current: str | None, fresh: bool, name: str) -> None:
    """Apply every revision after `current` to the store at `sqlalchemy_url` (all or none);
    `fresh`: the store has no tables yet (its creation is not an upgrade, nothing is logged)."""
    import sqlalchemy
    from alembic import command
    from alembic.config import Config

    engine = sqlalchemy.create_engine(sqlalchemy_url, poolclass=sqlalchemy.pool.NullPool)
    if engine.dialect.name == "sqlite":
        # SQLite's default deferred BEGIN lets two processes both read "not upgraded" and then
        # deadlock on the write: take the write lock first (SQLAlchemy's documented recipe).
        @sqlalchemy.event.listens_for(engine, "connect")
        def _no_driver_transactions(dbapi_connection: object, _record: object) -> None:
            dbapi_connection.isolation_level = None  # type: ignore[attr-defined]

        @sqlalchemy.event.listens_for(engine, "begin")
        def _begin_immediate(connection: sqlalchemy.Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with _ONE_AT_A_TIME, engine.connect() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, HEAD)
    finally:
        engine.dispose()
    if not fresh:
        log.info(LogId.STORE_UPGRADED, store=name, from_revision=current or "release 0.1.0", to_revision=HEAD)
