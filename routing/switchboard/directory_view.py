"""What the switchboard's directory shows of a person or unit (#13, R10, R11, R15): phone
state as Asterisk reports it, referral with reason and return, mobile number (the switchboard
always gives it, R15), cover position; for a unit whether its telephone hours are open now
(R7, R9), the hours in words and its duty phone (R8). Pure: the adapters bring the states
and referrals."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from routing.config.schema import Person, Unit
from routing.policy import spoken_swedish
from routing.policy.directory import Directory
from routing.policy.hours import OpenState, open_state
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


def person_entry(
    directory: Directory, person: Person, states: Mapping[str, str], referrals: RoutingState, now: datetime
) -> dict[str, Any]:
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


def search(
    directory: Directory, query: str, states: Mapping[str, str], referrals: RoutingState, now: datetime
) -> list[dict[str, Any]]:
    """Units and people whose name, id, unit, extension or mobile number contains `query`
    (case-insensitive; digits match numbers whatever their spacing); at most MAX_HITS."""
    words = query.casefold().split()
    digits = _digits(query)
    hits: list[dict[str, Any]] = []
    for unit in directory.units.values():
        text = f"{unit.id} {unit.name} {unit.number}".casefold()
        if all(word in text for word in words):
            hits.append(unit_entry(directory, unit, now))
    for person in directory.people.values():
        own_unit = directory.units.get(person.unit)
        text = f"{person.id} {person.name} {person.unit} {own_unit.name if own_unit else ''} {person.extension}"
        text = text.casefold()
        mobile = person.mobile or ""
        numbers = (
            f"{person.extension} {_digits(mobile)} {_digits(spoken_swedish.national_number(mobile)) if mobile else ''}"
        )
        if all(word in text for word in words) or (digits and len(digits) >= 3 and digits in numbers):
            hits.append(person_entry(directory, person, states, referrals, now))
        if len(hits) >= MAX_HITS:
            break
    return hits[:MAX_HITS]
