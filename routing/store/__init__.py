"""What must be kept and followed up: referrals (R11), callbacks (R4), call records (R19, R20).
SQLite by default; PostgreSQL for a store shared by several instances."""

from __future__ import annotations

from pathlib import Path

from routing.store.base import Callback, Store, StoreError
from routing.store.sqlite import SqliteStore

__all__ = ["Callback", "SqliteStore", "Store", "StoreError", "open_store"]


def open_store(url: str) -> Store:
    """`sqlite:///var/lib/routing/routing.db` (an absolute path after the three slashes) or
    `postgresql://user@host/db` (the password from ~/.pgpass or PGPASSWORD, never the YAML)."""
    if url.startswith("sqlite:///"):
        return SqliteStore(Path("/" + url[len("sqlite:///") :].lstrip("/")))
    if url.startswith(("postgresql://", "postgres://")):
        from routing.store.postgres import PostgresStore

        return PostgresStore(url)
    raise StoreError(f"a store url is sqlite:///PATH or postgresql://…, not '{url.split(':')[0]}'")
