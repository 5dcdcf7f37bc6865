"""Working hours and telephone hours (R6–R9), read on the local wall clock.

Everything here is pure: the caller passes the moment of the call (an aware datetime) and
the calendar. Times are compared on the wall clock of the configured IANA zone, so a range
such as 07:30–16:30 means the same thing on both sides of a daylight-saving switch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from routing.config.hours import TimeRange, WeekSchedule


@dataclass(frozen=True)
class Calendar:
    """Which dates are closed or have special hours; holidays are resolved when the config loads."""

    zone: ZoneInfo
    holidays: Mapping[date, str] = field(default_factory=dict)
    closed_days: frozenset[date] = frozenset()
    special_hours: Mapping[date, tuple[TimeRange, ...]] = field(default_factory=dict)

    def local(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            raise ValueError("the moment of a call must carry its time zone")
        return at.astimezone(self.zone)

    def day_ranges(self, schedule: WeekSchedule, day: date) -> tuple[TimeRange, ...]:
        """The open ranges of one date: special hours beat closed days beat holidays."""
        if day in self.special_hours:
            return self.special_hours[day]
        if day in self.closed_days or day in self.holidays:
            return ()
        return schedule.days[day.weekday()]

    def is_open(self, schedule: WeekSchedule, at: datetime) -> bool:
        local = self.local(at)
        minute = local.hour * 60 + local.minute
        return any(r.contains(minute) for r in self.day_ranges(schedule, local.date()))

    def why_closed(self, day: date) -> str | None:
        if day in self.closed_days:
            return "closed day"
        if day in self.holidays:
            return f"holiday: {self.holidays[day]}"
        return None


def working_seconds_between(calendar: Calendar, schedule: WeekSchedule, start: datetime, end: datetime) -> float:
    """Seconds of open hours between two moments, on the local wall clock (R4 follow-up:
    "called back within four working hours" does not count nights and weekends)."""
    if end <= start:
        return 0.0
    first, last = calendar.local(start), calendar.local(end)
    total = 0.0
    day = first.date()
    while day <= last.date():
        for span in calendar.day_ranges(schedule, day):
            lo = datetime.combine(day, datetime.min.time(), calendar.zone) + timedelta(minutes=span.start)
            hi = datetime.combine(day, datetime.min.time(), calendar.zone) + timedelta(minutes=span.end)
            overlap = (min(hi, last) - max(lo, first)).total_seconds()
            total += max(0.0, overlap)
        day += timedelta(days=1)
    return total


class OpenState(StrEnum):
    """Where a call stands against the hours of the unit it is for (R6–R9)."""

    OPEN = "open"  # inside telephone hours: ring
    PHONE_HOURS_CLOSED = "phone_hours_closed"  # working hours, outside telephone hours: R8 duty phone
    CLOSED = "closed"  # outside working hours: announcement, then voicemail or callback


def open_state(
    calendar: Calendar,
    working_hours: WeekSchedule,
    phone_hours: WeekSchedule | None,
    at: datetime,
    *,
    internal: bool,
) -> OpenState:
    """R6 phone hours follow working hours unless a unit sets its own; R7 internal calls ring."""
    if internal:
        return OpenState.OPEN
    if not calendar.is_open(working_hours, at):
        return OpenState.CLOSED
    if phone_hours is not None and not calendar.is_open(phone_hours, at):
        return OpenState.PHONE_HOURS_CLOSED
    return OpenState.OPEN
