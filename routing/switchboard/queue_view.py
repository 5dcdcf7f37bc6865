"""What the switchboard's API shows of a call in its queue (#13): who waits, for whom, how
long, what happened before, and after an återfall where it came back from and that person's
referral, cover and mobile number (R15). Pure: the adapter brings the queue, the clock and the
phone states. Callers' numbers are in it (R12: served to logged-in operators only)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from routing.policy.directory import Directory
from routing.policy.state import RoutingState
from routing.policy.switchboard_queue import Waiting
from routing.switchboard.directory_view import person_entry


def called_label(directory: Directory, called: str) -> str:
    """The number the caller dialled, as the operator says it."""
    person = directory.by_extension.get(called)
    if person is not None:
        return directory.label(person.id)
    unit = directory.by_number.get(called)
    if unit is not None:
        return directory.label(unit.id)
    board = directory.config.switchboard
    if called == board.extension:
        return f"{board.name} ({board.extension})"
    return directory.label(called)


def call_entry(
    waiting: Waiting,
    monotonic_now: float,
    directory: Directory,
    states: Mapping[str, str],
    referrals: RoutingState,
    now: datetime,
) -> dict[str, Any]:
    returned_person = directory.people.get(waiting.returned_person or "")
    return {
        "id": waiting.channel,
        "call_id": waiting.call_id,
        "caller": waiting.caller,
        "called": waiting.called,
        "called_label": called_label(directory, waiting.called),
        "place": waiting.place.value,
        "waited_s": round(monotonic_now - waiting.since, 1),
        "in_place_s": round(monotonic_now - waiting.place_since, 1),
        "operator": waiting.operator,
        "answered": waiting.answered,
        "history": list(waiting.history),
        "returned": (
            {
                "from": waiting.returned_from,
                "why": waiting.returned_why,
                "person": person_entry(directory, returned_person, states, referrals, now) if returned_person else None,
            }
            if waiting.returned_why is not None
            else None
        ),
        "returns": waiting.returns,
        "transfer_to": waiting.transfer_to,
        "recall_in_s": (
            round(max(0.0, waiting.recall_at - monotonic_now), 1) if waiting.recall_at is not None else None
        ),
    }
