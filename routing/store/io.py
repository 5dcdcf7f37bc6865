"""Store I/O from the event loop (#12 item 8): nothing slow on the loop while a call waits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def store_io(store: object, operation: Callable[[], T]) -> T:
    """Run one store operation for the event loop: in a worker thread when the store is a network
    round trip away (PostgreSQL, `io_off_loop`: it must not hold up the loop that answers every
    other call), else at once (a local SQLite query takes microseconds, less than a hand-over).
    `store`: a Store, or what stands in for one (a referral source in the tests)."""
    if getattr(store, "io_off_loop", False):
        return await asyncio.to_thread(operation)
    return operation()
