"""What a report counts, as the store adds it up (#12): counts by who and what, additive, so a
period's figures are the sum of its days' daily totals and of its raw calls, and neither
costs more than the groups it holds (never a row per call in Python).

Who is the call's `unit`, `target_kind` and `target` as stored with it (`''` for none), or
for events that name someone else: (`''`, `person`, the person) and (`''`, `extension`, the
caller's extension). The report maps them onto its rows with the config of the day.
No caller numbers are ever part of a tally (R12).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable
from enum import StrEnum
from typing import NamedTuple


class Measure(StrEnum):
    ANSWER = "answer"  # key: "<outcome>/<answered step>"; outcome '' = no call.end stored
    WAIT = "wait"  # key: whole seconds, rounded; R2 answers only
    WITHIN = "within"  # R2 answer within the ring limit (as it was when counted)
    ABANDONED_AFTER = "abandoned_after"  # key: whole seconds the caller waited before hanging up
    VIOLATION = "violation"  # key: the rule
    NOT_PLAYED = "not_played"
    MOBILE_FORWARD = "mobile_forward"  # who: ('', 'person', person)
    PRIVATE = "private"  # who: ('', 'extension', extension)
    PREMIUM_BLOCKED = "premium_blocked"  # who: ('', 'extension', extension)
    HOUR = "hour"  # key: the local hour of day the call began; who: all ''
    # The switchboard's queue (#13 item 10); who: the call's unit and target, as for violations.
    SB_ANSWERED = "sb_answered"  # calls an operator talked to (distinct calls with switchboard.connected)
    SB_QUEUE_WAIT = "sb_queue_wait"  # key: whole seconds in the queue before an operator first took the call
    SB_TRANSFER = "sb_transfer"  # calls put through (switchboard.transfer)
    SB_RECALL = "sb_recall"  # återfall: back from a transfer nobody answered
    SB_RECALL_PUT_THROUGH = "sb_recall_put_through"  # put through and answered after an återfall


class TallyKey(NamedTuple):
    unit: str
    target_kind: str
    target: str
    measure: Measure
    key: str


NOBODY = ("", "", "")  # counted for the whole municipality only


class Tally(Counter[TallyKey]):
    def count(self, who: tuple[str, str, str], measure: Measure, key: object = "", n: int = 1) -> None:
        if n:
            self[TallyKey(*who, measure, str(key))] += n

    def of(self, measure: Measure) -> Iterable[tuple[TallyKey, int]]:
        return ((k, n) for k, n in self.items() if k.measure is measure)


def who(unit: object, target_kind: object, target: object) -> tuple[str, str, str]:
    # Interned: a report's groups repeat the same few thousand names hundreds of times each.
    return (sys.intern(str(unit or "")), sys.intern(str(target_kind or "")), sys.intern(str(target or "")))


def answer_key(outcome: object, step: object) -> str:
    return f"{outcome or ''}/{step or ''}"


def split_answer_key(key: str) -> tuple[str, str]:
    outcome, _, step = key.partition("/")
    return outcome, step
