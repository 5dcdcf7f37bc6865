"""AMI events as plain values, and an optional recorder of every event with its arrival time
(`AmiClient(..., recorder=AmiRecorder())`): for a tool that looks back at what Asterisk did
(the e2e tests, a diagnosis) or waits for an event to come."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


def headers_of(message: Mapping[str, Any]) -> dict[str, str]:
    """A message's headers as strings: panoramisk gives a repeated header as a list, joined
    here with newlines so every value is one string."""
    return {
        str(key): "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)
        for key, value in message.items()
    }


@dataclass(frozen=True)
class AmiEvent:
    """One AMI event; `at` is the recorder's clock (time.monotonic()) when it arrived."""

    at: float
    name: str
    headers: Mapping[str, str]

    @classmethod
    def of(cls, message: Mapping[str, Any], at: float) -> AmiEvent:
        headers = headers_of(message)
        return cls(at, headers.get("Event", ""), headers)

    def __getitem__(self, key: str) -> str:
        """The header `key` (as Asterisk spells it), "" if the event has none."""
        return self.headers.get(key, "")

    def __repr__(self) -> str:
        keys = ("Channel", "DestChannel", "Application", "AppData", "DialStatus", "Digit", "Variable", "Value")
        shown = " ".join(f"{k}={self[k]!r}" for k in keys if self[k])
        return f"<{self.name} @{self.at:.3f} {shown}>"


EventPredicate = Callable[[AmiEvent], bool]


class AmiRecorder:
    """Every event of a client's session, in arrival order, each with its arrival time.

    `limit` keeps only the newest that many (None: all, for a session of bounded length
    such as a test); `clock` stamps the arrivals."""

    def __init__(self, *, limit: int | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1")
        self._events: deque[AmiEvent] = deque(maxlen=limit)
        self._count = 0  # every event recorded, also those the limit dropped
        self._clock = clock
        self._changed = asyncio.Event()

    def record(self, message: Mapping[str, Any]) -> None:
        self._events.append(AmiEvent.of(message, self._clock()))
        self._count += 1
        self._changed.set()

    @property
    def events(self) -> list[AmiEvent]:
        """The events kept, oldest first (a copy)."""
        return list(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def select(self, predicate: EventPredicate, *, since: float = 0.0) -> list[AmiEvent]:
        """The events kept that arrived at `since` or later and match."""
        return [e for e in self._events if e.at >= since and predicate(e)]

    def recent(self, count: int) -> list[AmiEvent]:
        """The newest `count` events, oldest first."""
        start = max(0, len(self._events) - count)
        return list(itertools.islice(self._events, start, None))

    def _since(self, seen: int) -> list[AmiEvent]:
        """The events recorded after the first `seen` (those still kept)."""
        new = min(self._count - seen, len(self._events))
        return self.recent(new) if new > 0 else []

    async def wait_for(self, predicate: EventPredicate, timeout_s: float, *, since: float = 0.0) -> AmiEvent | None:
        """The first event kept that arrived at `since` or later and matches, waiting up to
        `timeout_s` for it to come; None if none came."""
        deadline = time.monotonic() + timeout_s
        seen = 0
        candidates = self.events
        while True:
            for found in candidates:
                if found.at >= since and predicate(found):
                    return found
            seen = self._count
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
            candidates = self._since(seen)
