"""The hours syntax of the config (day keys, time ranges, `closed`) and the weekly schedules it
describes, parsed once; and the holiday table a country code names. Pure: the policy reads
these types to decide, the config only checks and builds them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True, order=True)
class TimeRange:
    """A half-open range of minutes after midnight: start <= minute < end."""

    start: int
    end: int

    def contains(self, minute: int) -> bool:
        return self.start <= minute < self.end

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_time_range(text: str) -> TimeRange:
    """Parse "HH:MM-HH:MM" (end may be 24:00); raise ValueError with an admin's message."""
    match = _RANGE.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a time range: write it as HH:MM-HH:MM, e.g. 07:30-16:30")
    sh, sm, eh, em = (int(g) for g in match.groups())
    for hour, minute, label in ((sh, sm, "start"), (eh, em, "end")):
        if minute > 59 or hour > 24 or (hour == 24 and minute != 0):
            raise ValueError(f"'{text}': {label} time {hour:02d}:{minute:02d} does not exist")
    if sh == 24:
        raise ValueError(f"'{text}': a range cannot start at 24:00")
    start, end = sh * 60 + sm, eh * 60 + em
    if end <= start:
        raise ValueError(f"'{text}': the end must come after the start (ranges do not cross midnight)")
    return TimeRange(start, end)


def parse_day_hours(value: object) -> tuple[TimeRange, ...]:
    """A day's hours: "HH:MM-HH:MM", a list of such ranges, or "closed"."""
    if isinstance(value, str):
        if value.strip().lower() == "closed":
            return ()
        return (parse_time_range(value),)
    if isinstance(value, list | tuple):
        ranges = sorted(parse_time_range(str(item)) for item in value)
        for before, after in pairwise(ranges):
            if after.start < before.end:
                raise ValueError(f"ranges {before} and {after} overlap")
        return tuple(ranges)
    raise ValueError("hours must be a range like 07:30-16:30, a list of ranges, or closed")


def parse_day_key(key: str) -> tuple[int, ...]:
    """A weekday key: "mon" … "sun" or a range such as "mon-thu"; returns weekday numbers."""
    text = key.strip().lower()
    if text in DAY_NAMES:
        return (DAY_NAMES.index(text),)
    first, sep, last = text.partition("-")
    if sep and first in DAY_NAMES and last in DAY_NAMES:
        a, b = DAY_NAMES.index(first), DAY_NAMES.index(last)
        if a >= b:
            raise ValueError(f"'{key}': a day range runs forward within one week, e.g. mon-fri")
        return tuple(range(a, b + 1))
    raise ValueError(f"'{key}' is not a day: use mon, tue, wed, thu, fri, sat, sun or a range like mon-fri")


@dataclass(frozen=True)
class WeekSchedule:
    """Open ranges for each weekday, Monday first."""

    days: tuple[tuple[TimeRange, ...], ...] = ((),) * 7

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> WeekSchedule:
        """Build from {day key: hours}; raise ValueError naming the first day given twice."""
        days: list[tuple[TimeRange, ...] | None] = [None] * 7
        for key, value in mapping.items():
            hours = parse_day_hours(value)
            for day in parse_day_key(key):
                if days[day] is not None:
                    raise ValueError(f"{DAY_NAMES[day]} is given twice (in '{key}' and before)")
                days[day] = hours
        return cls(tuple(d or () for d in days))

    def is_open(self, weekday: int, minute: int) -> bool:
        return any(r.contains(minute) for r in self.days[weekday])

    def __str__(self) -> str:
        return ", ".join(f"{DAY_NAMES[i]} {' '.join(str(r) for r in rs)}" for i, rs in enumerate(self.days) if rs)


def holiday_calendar(country: str | None, categories: Iterable[str]) -> Mapping[date, str]:
    """Public holidays from the `holidays` package, for any year asked; Sundays are left to
    the weekly hours. Raises ValueError for an unknown country or category."""
    if country is None:
        return {}
    import holidays  # heavy import, only needed when a country is set

    kwargs: dict[str, Any] = {"categories": tuple(categories)}
    if country.upper() == "SE":
        # The Swedish calendar can count every Sunday as a holiday (some releases of the
        # package do so by default); Sundays belong to the weekly hours, so ask for real
        # holidays only.
        kwargs["include_sundays"] = False
        kwargs["language"] = "sv"  # names as Swedish admins know them: Midsommarafton …
    try:
        table: Mapping[date, str] = holidays.country_holidays(country.upper(), **kwargs)
    except NotImplementedError as exc:
        raise ValueError(f"no holiday calendar for country '{country}'") from exc
    return table
