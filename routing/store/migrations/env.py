"""Alembic's environment for the store: always given a connection by `routing.store.schema`
(no alembic.ini, no URL here: the store's URL may hold a password and is never written down)."""

from __future__ import annotations

from alembic import context

ADVISORY_LOCK = 7270001  # the same key the release before migrations took while creating its tables


def run_migrations_online() -> None:
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=False)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Instances starting together: one upgrades, the others wait and find it done
            # (Alembic reads the store's revision after this lock, inside the transaction).
            context.execute(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})")
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("the store's migrations run online only, from routing.store.schema.upgrade")
run_migrations_online()
