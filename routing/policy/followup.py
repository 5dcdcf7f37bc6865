"""R4 follow-up: a callback must be made as soon as possible; one left open longer than the
configured number of working hours is a policy violation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from routing.policy.directory import Directory
from routing.policy.hours import working_seconds_between


@dataclass(frozen=True)
class OpenCallback:
    id: int
    target: str
    requested_at: datetime


@dataclass(frozen=True)
class Overdue:
    id: int
    target: str
    working_hours_open: float


def overdue_callbacks(directory: Directory, callbacks: Iterable[OpenCallback], now: datetime) -> list[Overdue]:
    limit_h = directory.config.follow_up.callback_within
    found = []
    for callback in callbacks:
        open_h = working_seconds_between(directory.calendar, directory.working_hours, callback.requested_at, now) / 3600
        if open_h > limit_h:
            found.append(Overdue(callback.id, callback.target, round(open_h, 2)))
    return found
