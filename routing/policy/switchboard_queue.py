"""The switchboard's queue (#13): who waits, in which order, who has which call. A pure state
machine like `flow.Flow`: every move is in `_MOVES`, anything else is a QueueError the adapter
reports to the operator (nothing happens silently). Times are the adapter's monotonic seconds.

    waiting ──claim──▶ offered ──operator's phone answers──▶ talking ──transfer──▶ transferring
       ▲                  │ not answered                       │ hold               │ not answered,
       │                  ▼                                    ▼                    ▼ busy, unregistered
       └──────────── returned ◀───────── recall (hold_recall_s) held ◀──────── returned (återfall)

R1: a caller who waits (unanswered, ringing) longer than the queue's timeout is handed on to the
switchboard's own chain (`overdue`). R2/R3: an answered caller who comes back (returned) waits
at the top of the queue; a held caller comes back to the operator who held them after
`hold_recall_s` (`recalls_due`), and no caller is ever dropped by a move here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

OPERATOR_DID_NOT_ANSWER = "operator did not answer"  # why a call came back that no transfer sent away


class Place(StrEnum):
    WAITING = "waiting"  # in the queue, not yet answered by anyone
    OFFERED = "offered"  # an operator took it: their phone rings
    TALKING = "talking"  # connected to an operator
    TRANSFERRING = "transferring"  # ringing the target it was put through to
    HELD = "held"  # on hold, with music; recalled to its operator
    RETURNED = "returned"  # back from a transfer or an operator's phone that did not answer


class QueueError(Exception):
    """A move the call's place does not allow (taken by another operator, gone, …).
    `status` is the HTTP answer the API gives: 404 gone, 409 conflict."""

    log_id = "switchboard.refused"

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


_MOVES: dict[str, frozenset[Place]] = {
    "claim": frozenset({Place.WAITING, Place.RETURNED, Place.HELD}),
    "release": frozenset({Place.OFFERED}),
    "connected": frozenset({Place.OFFERED}),
    "unanswered": frozenset({Place.OFFERED}),
    "transfer": frozenset({Place.TALKING}),
    "hold": frozenset({Place.TALKING}),
    "returned": frozenset({Place.TRANSFERRING}),
    "unhold": frozenset({Place.HELD}),
}


@dataclass
class Waiting:
    """One caller the switchboard has. `history` is what happened before, in words for the
    operator ("5001 Anna Lindqvist: no answer after 5 signals"); `caller` their number (R12:
    shown to logged-in operators only)."""

    channel: str  # ARI channel id (the caller's UNIQUEID)
    name: str  # the caller's channel name (for AMI)
    call_id: str
    caller: str | None
    called: str
    since: float  # entered the switchboard
    history: list[str] = field(default_factory=list)
    place: Place = Place.WAITING
    place_since: float = 0.0
    operator: str | None = None  # who has it (offered, talking, held), or held it last
    answered: bool = False  # an operator has talked to this caller (the caller had an R2 answer)
    returned_from: str | None = None  # the target label of the last return
    returned_why: str | None = None  # no answer | busy | unregistered | operator did not answer
    returned_person: str | None = None  # whose referral, cover and mobile to show
    transfer_to: str | None = None
    transfer_person: str | None = None
    recall_at: float | None = None
    returns: int = 0  # how often it came back (återfall), for the report (#13 item 10)


class SwitchboardQueue:
    def __init__(self, timeout_s: float, hold_recall_s: float) -> None:
        self.timeout_s = timeout_s
        self.hold_recall_s = hold_recall_s
        self._calls: dict[str, Waiting] = {}

    def __len__(self) -> int:
        return len(self._calls)

    def get(self, channel: str) -> Waiting | None:
        return self._calls.get(channel)

    def calls(self) -> list[Waiting]:
        """Returned calls first (återfall: back at the top, the longest-returned first), then the
        waiting ones oldest first, then the rest (held, offered, talking, transferring)."""
        rank = {Place.RETURNED: 0, Place.WAITING: 1}

        def key(w: Waiting) -> tuple[int, float]:
            first = rank.get(w.place, 2)
            return first, (w.place_since if first == 0 else w.since)

        return sorted(self._calls.values(), key=key)

    def add(self, waiting: Waiting, now: float) -> Waiting:
        """A caller enters the queue; one the queue has already (a resync) keeps its place."""
        known = self._calls.get(waiting.channel)
        if known is not None:
            return known
        waiting.place_since = now
        self._calls[waiting.channel] = waiting
        return waiting

    def remove(self, channel: str) -> Waiting | None:
        return self._calls.pop(channel, None)

    def _move(self, channel: str, move: str, now: float, place: Place) -> Waiting:
        waiting = self._calls.get(channel)
        if waiting is None:
            raise QueueError("the call is gone (the caller hung up, or it was put through)", 404)
        if waiting.place not in _MOVES[move]:
            who = f" by {waiting.operator}" if waiting.operator else ""
            raise QueueError(f"cannot {move}: the call is {waiting.place.value}{who}")
        waiting.place = place
        waiting.place_since = now
        return waiting

    def claim(self, channel: str, operator: str, now: float) -> Waiting:
        """An operator answers: of two at once, the first has it, the second a QueueError (the
        event loop runs one at a time, so there is no tie). A held call is the holder's."""
        waiting = self._calls.get(channel)
        if waiting is not None and waiting.place is Place.HELD and waiting.operator not in (None, operator):
            raise QueueError(f"the call is on hold by {waiting.operator}")
        waiting = self._move(channel, "claim", now, Place.OFFERED)
        waiting.operator = operator
        waiting.recall_at = None
        return waiting

    def release(self, channel: str, place: Place, operator: str | None, now: float) -> Waiting:
        """A claim undone because Asterisk could not carry it out (the request failed, not the
        caller): the call is back where it was, with who had it, and can be taken again."""
        waiting = self._move(channel, "release", now, place)
        waiting.operator = operator
        if place is Place.HELD:
            waiting.recall_at = now + self.hold_recall_s
        return waiting

    def connected(self, channel: str, now: float) -> Waiting:
        waiting = self._move(channel, "connected", now, Place.TALKING)
        waiting.answered = True
        return waiting

    def unanswered(self, channel: str, now: float) -> Waiting:
        """The operator's phone did not answer: the call is back at the top, marked."""
        waiting = self._move(channel, "unanswered", now, Place.RETURNED)
        waiting.returned_from = f"operator {waiting.operator}"
        waiting.returned_why = OPERATOR_DID_NOT_ANSWER
        waiting.returned_person = None
        return waiting

    def transfer(self, channel: str, operator: str, label: str, person: str | None, now: float) -> Waiting:
        waiting = self._calls.get(channel)
        if waiting is not None and waiting.place is Place.TALKING and waiting.operator != operator:
            raise QueueError(f"the call is {waiting.operator}'s")
        waiting = self._move(channel, "transfer", now, Place.TRANSFERRING)
        waiting.transfer_to, waiting.transfer_person = label, person
        return waiting

    def hold(self, channel: str, operator: str, now: float) -> Waiting:
        waiting = self._calls.get(channel)
        if waiting is not None and waiting.place is Place.TALKING and waiting.operator != operator:
            raise QueueError(f"the call is {waiting.operator}'s")
        waiting = self._move(channel, "hold", now, Place.HELD)
        waiting.recall_at = now + self.hold_recall_s
        return waiting

    def returned(self, channel: str, why: str, now: float) -> Waiting:
        """Återfall: the target did not answer (why: no answer, busy, unregistered)."""
        waiting = self._move(channel, "returned", now, Place.RETURNED)
        waiting.returned_from = waiting.transfer_to
        waiting.returned_why = why
        waiting.returned_person = waiting.transfer_person
        waiting.returns += 1
        return waiting

    def unhold(self, channel: str, why: str, now: float) -> Waiting:
        """A held caller who cannot be recalled to their operator (no longer an operator, say):
        back at the top of the queue for anyone, and under the queue's timeout again (R1)."""
        waiting = self._move(channel, "unhold", now, Place.RETURNED)
        waiting.returned_from = f"operator {waiting.operator}"
        waiting.returned_why = why
        waiting.returned_person = None
        waiting.recall_at = None
        return waiting

    def overdue(self, now: float) -> list[Waiting]:
        """R1: callers that have waited in the queue unanswered past its timeout; and callers
        back in it (returned) that nobody took within the timeout either."""
        return [
            w
            for w in self._calls.values()
            if (w.place is Place.WAITING and now - w.since >= self.timeout_s)
            or (w.place is Place.RETURNED and now - w.place_since >= self.timeout_s)
        ]

    def recalls_due(self, now: float) -> list[Waiting]:
        """Held callers whose hold has lasted `hold_recall_s`: back to the operator who held them."""
        return [
            w for w in self._calls.values() if w.place is Place.HELD and w.recall_at is not None and now >= w.recall_at
        ]
