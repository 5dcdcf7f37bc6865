"""Keeps call events in the store as they are logged: reports never parse log files (R19, R20).

A structlog processor placed before the masking one: it sees each event once, stores it with
every outside number replaced by an HMAC under the installation's key (R12: the same caller
can be counted, never read back), and passes the event on unchanged to be masked and written.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

from routing.masking import NUMBER_FIELDS
from routing.store.base import Store, StoreError

RECORDED = frozenset(
    {
        "call.start",
        "call.step",
        "call.referral",
        "call.answered",
        "call.no_answer",
        "call.busy",
        "call.unavailable",
        "call.end",
        "mobile.forward",
        "callback.requested",
        "callback.attempt",
        "policy.violation",
        "outbound.dial",
        "outbound.blocked",
        "call.private",
    }
)
_NOT_STORED = {"event", "level", "timestamp", "call_id", "logger"}


def hash_number(key: bytes, number: str) -> str:
    return "h:" + hmac.new(key, number.encode(), hashlib.sha256).hexdigest()[:20]


class EventRecorder:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._key = store.installation_key()

    def __call__(self, _logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        name = event.get("event")
        if name not in RECORDED:
            return event
        fields = {k: v for k, v in event.items() if k not in _NOT_STORED}
        for key in NUMBER_FIELDS.intersection(fields):
            value = fields[key]
            if isinstance(value, str) and value:
                fields[key] = hash_number(self._key, value)
        try:
            self._store.record_event(
                at=datetime.now(UTC).isoformat(timespec="milliseconds"),
                call_id=event.get("call_id"),
                event=str(name),
                fields=fields,
            )
        except StoreError as exc:
            # Logging must go on: the line says the store missed it (store.error in a field).
            event["store_error"] = str(exc)
        return event
