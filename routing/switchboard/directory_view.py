"""What the switchboard's directory shows of a person or unit (#13, R10, R11, R15): phone
state as Asterisk reports it, referral with reason and return, mobile number (the switchboard
always gives it, R15), cover position; for a unit whether its telephone hours are open now
(R7, R9), the hours in words and its duty phone (R8). Pure: the adapters bring the states
and referrals."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from routing.config.schema import Person, Unit
from routing.policy import spoken_swedish
from routing.policy.calendar_referral import SyncedCalendar, calendar_referral, upcoming
from routing.policy.directory import Directory
from routing.policy.hours import OpenState, open_state
from routing.policy.referral import Referral
from routing.policy.state import RoutingState

# Asterisk's device states, as the operators read them.
STATE_WORDS = {
    "NOT_INUSE": "free",
    "INUSE": "in a call",
    "BUSY": "busy",
    "RINGING": "ringing",
    "RINGINUSE": "ringing, in a call",
    "ONHOLD": "on hold",
    "UNAVAILABLE": "not registered",
    "INVALID": "unknown device",
    "UNKNOWN": "unknown",
}
MAX_HITS = 50


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def calendar_view(person: str, synced: SyncedCalendar, referral: Referral | None, now: datetime) -> dict[str, Any]:
    """What the directory says of a person's calendar (#15): when it was last read, whether the
    referral in force is the calendar's (one set by hand beats it, R11), and a referral event
    starting within the hour (a private one as "busy", never its subject, R12)."""
    from_calendar = calendar_referral(person, synced.entries, now)
    soon = upcoming(synced.entries, now)
    return {
        "synced_at": synced.synced_at.isoformat(),
        "in_force": referral is not None and referral == from_calendar,
        "soon": (
            {
                "reason": "busy" if soon.private else soon.reason.value,
                "starts_at": soon.starts_at.isoformat(),
                "minutes": soon.minutes,
            }
            if soon is not None
            else None
        ),
    }


def person_entry(
    directory: Directory,
    person: Person,
    states: Mapping[str, str],
    referrals: RoutingState,
    now: datetime,
    calendar: SyncedCalendar | None = None,
) -> dict[str, Any]:
    """`calendar`: the person's calendar as last read, if they have one (#15)."""
    referral = referrals.referral(person.id, now)
    unit = directory.units.get(person.unit)
    until = referral.until if referral else None
    return {
        "kind": "person",
        "id": person.id,
        "name": person.name,
        "unit": person.unit,
        "unit_name": unit.name if unit else None,
        "extension": person.extension,
        "phone_state": STATE_WORDS.get(states.get(person.device, "UNKNOWN"), "unknown"),
        "referral": (
            {
                "reason": referral.reason.value,
                "until": until.isoformat() if isinstance(until, datetime | date) else None,
                "back": spoken_swedish.back_at(until, now) if until is not None else None,
            }
            if referral
            else None
        ),
        "mobile": spoken_swedish.national_number(person.mobile) if person.mobile else None,
        "cover": person.cover,
        "calendar": calendar_view(person.id, calendar, referral, now) if calendar is not None else None,
    }


def unit_entry(directory: Directory, unit: Unit, now: datetime) -> dict[str, Any]:
    hours = directory.phone_hours.get(unit.id) or directory.working_hours
    state = open_state(
        directory.calendar, directory.working_hours, directory.phone_hours.get(unit.id), now, internal=False
    )
    return {
        "kind": "unit",
        "id": unit.id,
        "name": unit.name,
        "number": unit.number,
        "open_now": state is OpenState.OPEN,
        "hours": spoken_swedish.weekly_hours(hours),
        "duty_phone": unit.duty_phone,
        "members": len(directory.members.get(unit.id, ())),
    }


class _Column:
    """One string per row, joined in one text so that a search runs at the speed of str.find
    over the whole directory instead of a Python loop over its rows."""

    def __init__(self, rows: list[str]) -> None:
        self.rows = rows
        self.text = "\n".join(rows)  # no row holds a newline: a match never spans two rows
        self.starts: list[int] = []
        offset = 0
        for row in rows:
            self.starts.append(offset)
            offset += len(row) + 1

    def matching(self, words: list[str], limit: int) -> list[int]:
        """The first `limit` rows (in order) that contain every one of `words`."""
        if not words:
            return list(range(min(limit, len(self.rows))))
        rare = min(words, key=self.text.count)  # the rarest word gives the fewest candidates to check
        found: list[int] = []
        position = self.text.find(rare)
        while position >= 0 and len(found) < limit:
            row = bisect_right(self.starts, position) - 1
            if all(word in self.rows[row] for word in words):
                found.append(row)
            next_row = self.starts[row + 1] if row + 1 < len(self.starts) else len(self.text)
            position = self.text.find(rare, next_row)
        return found


class DirectoryIndex:
    """The directory's searchable text, made once per config (a reload makes a new directory,
    and so a new index): a keystroke then costs a scan of one prepared text instead of 20,000
    strings built anew on the event loop where calls are answered (bench/directory_search.py,
    docs/benchmarks.md)."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self._units = list(directory.units.values())
        self._unit_text = _Column([f"{u.id} {u.name} {u.number}".casefold() for u in self._units])
        self._people = list(directory.people.values())
        texts, numbers = [], []
        by_device: dict[str, tuple[str, ...]] = {}
        for person in self._people:
            own_unit = directory.units.get(person.unit)
            text = f"{person.id} {person.name} {person.unit} {own_unit.name if own_unit else ''} {person.extension}"
            texts.append(text.casefold().replace("\n", " "))
            mobile = person.mobile or ""
            national = _digits(spoken_swedish.national_number(mobile)) if mobile else ""
            numbers.append(f"{person.extension} {_digits(mobile)} {national}")
            by_device[person.device] = (*by_device.get(person.device, ()), person.id)
        self._person_text = _Column(texts)
        self._person_numbers = _Column(numbers)
        self.by_device: Mapping[str, tuple[str, ...]] = by_device  # a device → the ids of the people it rings

    def search(
        self,
        query: str,
        states: Mapping[str, str],
        referrals: RoutingState,
        now: datetime,
        calendars: Mapping[str, SyncedCalendar] | None = None,
    ) -> list[dict[str, Any]]:
        """Units and people whose name, id, unit, extension or mobile number contains `query`
        (case-insensitive; 3+ digits match numbers whatever their spacing); at most MAX_HITS,
        units first, each in the config's order."""
        words = query.casefold().split()
        digits = _digits(query)
        units = self._unit_text.matching(words, MAX_HITS)
        left = MAX_HITS - len(units)
        people = set(self._person_text.matching(words, left))
        if len(digits) >= 3:
            people |= set(self._person_numbers.matching([digits], left))
        return [unit_entry(self.directory, self._units[row], now) for row in units] + [
            person_entry(self.directory, person, states, referrals, now, (calendars or {}).get(person.id))
            for person in (self._people[row] for row in sorted(people)[:left])
        ]
