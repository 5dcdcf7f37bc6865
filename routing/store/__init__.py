"""What must be kept and followed up: referrals (R11), callbacks (R4). SQLite by default."""

from routing.store.sqlite import Callback, SqliteStore, StoreError, open_store

__all__ = ["Callback", "SqliteStore", "StoreError", "open_store"]
