"""Keeps call events in the store as they are logged: reports never parse log files (R19, R20).

A structlog processor placed before the masking one: it sees each event once, stores it with
every outside number replaced by an HMAC under the installation's key (R12: the same caller
can be counted, never read back), and passes the event on unchanged to be masked and written.

Inside the service the write waits until the event loop is next free: the FastAGI request that
logged the event has sent Asterisk its answer by then, so no call waits for the store, and the
events logged meanwhile go in one transaction. A store behind a network round trip
(PostgreSQL, `io_off_loop`) is written from a worker thread, one batch at a time and in order,
so the event loop never waits for the server either (#12). A store that fails keeps the events in memory
(up to MAX_PENDING) and is tried again every RETRY_S seconds; the JSON log has them all along.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

import structlog

from routing.calllog.events import RECORDED, LogId, RecordedEvent
from routing.calllog.masking import NUMBER_FIELDS
from routing.store.base import Store, StoreError

_NOT_STORED = {"event", "level", "timestamp", "call_id", "logger"}
MAX_PENDING = 10_000  # events kept while the store fails (a day's calls for a large municipality)
RETRY_S = 2.0
log = structlog.get_logger("routing.store")


def hash_number(key: bytes, number: str) -> str:
    return "h:" + hmac.new(key, number.encode(), hashlib.sha256).hexdigest()[:20]


class EventRecorder:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._key = store.installation_key()
        self._pending: list[RecordedEvent] = []
        self._scheduled: asyncio.Handle | None = None
        self._writing = False  # a batch is being written in a worker thread
        self._pending_lock = threading.Lock()  # _pending, between the loop and a writing thread
        self._write_lock = threading.Lock()  # one batch at a time: batches are stored in order
        self._failing = False
        self.dropped = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    def __call__(self, _logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        name = event.get("event")
        if name not in RECORDED:
            return event
        fields = {k: v for k, v in event.items() if k not in _NOT_STORED}
        for key in NUMBER_FIELDS.intersection(fields):
            value = fields[key]
            if isinstance(value, str) and value:
                fields[key] = hash_number(self._key, value)
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self._pending_lock:
            self._pending.append(RecordedEvent(at, event.get("call_id"), str(name), fields))
            if len(self._pending) > MAX_PENDING:
                del self._pending[0]
                self.dropped += 1
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # No event loop (a command, a test): written now; a failure is noted on the line.
            error = self._write()
            if error is not None:
                event["store_error"] = error
            return event
        if self._scheduled is None and not self._writing:
            self._scheduled = loop.call_soon(self._flush_later)
        return event

    def flush(self) -> bool:
        """Write every pending event now (at a clean stop). False if the store failed."""
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        return self._write() is None

    def _flush_later(self) -> None:
        self._scheduled = None
        if not self._store.io_off_loop:
            self._written(self._write())
            return
        self._writing = True
        writing = asyncio.get_running_loop().run_in_executor(None, self._write)
        writing.add_done_callback(self._written_in_thread)

    def _written_in_thread(self, writing: asyncio.Future[str | None]) -> None:
        self._writing = False
        error = writing.result() if not writing.cancelled() else "the write was cancelled"
        self._written(error)
        if error is None and self._pending and self._scheduled is None:
            # Logged while the batch was being written.
            self._scheduled = asyncio.get_running_loop().call_soon(self._flush_later)

    def _written(self, error: str | None) -> None:
        if error is None:
            return
        if not self._failing:
            log.error(
                StoreError.log_id,
                error=error,
                pending=len(self._pending),
                what=f"call events kept in memory and written when the store works again (tried every {RETRY_S:g} s)",
            )
        self._failing = True
        self._scheduled = asyncio.get_running_loop().call_later(RETRY_S, self._flush_later)

    def _write(self) -> str | None:
        """Write the pending events in one transaction; the error if the store failed."""
        with self._write_lock:
            with self._pending_lock:
                if not self._pending:
                    return None
                batch, self._pending = self._pending, []
            try:
                self._store.record_events(batch)
            except StoreError as exc:
                with self._pending_lock:
                    kept = batch + self._pending
                    overflow = max(0, len(kept) - MAX_PENDING)
                    self.dropped += overflow
                    self._pending = kept[overflow:]
                return str(exc)
        if self._failing:
            self._failing = False
            log.warning(LogId.STORE_RECOVERED, written=len(batch), dropped=self.dropped)
        return None
