"""How a call that happened is measured against R1/R2, for the reports and the audit: did the
caller get an answer within the ring limit, and did the person (or unit) called answer."""

from __future__ import annotations

from routing.policy.steps import Outcome, StepKind

WITHIN_MARGIN_S = 1.0  # timer jitter: an answer this close to the limit is within it


def within_ring_limit_s(ring_limit_s: float) -> float:
    """R1/R2: the longest wait for an answer that still counts as within the ring limit."""
    return ring_limit_s + WITHIN_MARGIN_S


def answered_within_ring_limit(outcome: Outcome, wait_s: float | None, ring_limit_s: float) -> bool:
    """R1/R2: the caller got an R2 answer (person, cover, referral, voicemail, callback) no
    later than the ring limit after the call began (the store counts the same in SQL:
    Store.tally_between, given within_ring_limit_s)."""
    return outcome.is_r2_answer and wait_s is not None and wait_s <= within_ring_limit_s(ring_limit_s)


def answered_personally(outcome: Outcome, answered_step: str | None) -> bool:
    """R2's best answer: the person called, or a member of the unit called, took the call."""
    return outcome is Outcome.ANSWERED and answered_step in (StepKind.PERSON, StepKind.UNIT)
