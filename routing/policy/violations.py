"""What counts as a breach of the policy in a call that happened: the service logs each as
`policy.violation` with its rule, and the reports count them (R1, R3; R4's overdue callbacks
are followup.py's)."""

from __future__ import annotations

from dataclasses import dataclass

from routing.policy.flow import Ending
from routing.policy.steps import Finish, Outcome, Ring

R1_MARGIN_S = 2.0  # Asterisk's timers and the report's own jitter: a ring this much longer is a breach


@dataclass(frozen=True)
class Violation:
    rule: str
    detail: str


def overlong_ring(step: Ring, rang_s: float) -> Violation | None:
    """R1: a ringing step that rang measurably longer than its limit."""
    if rang_s > step.timeout_s + R1_MARGIN_S:
        return Violation("R1", f"{step.target} rang {rang_s:.1f} s, limit {step.timeout_s:g} s")
    return None


def unanswered(finish: Finish, how: Ending | None) -> Violation | None:
    """R3: a call that ended without any answer although the caller stayed: every step failed,
    or Asterisk lost the call (`how` CUT_OFF). A caller who hung up first (abandoned) and a call
    the fail-safe finished are not breaches the service can see."""
    if finish.outcome is not Outcome.FAILED:
        return None
    if how is Ending.CUT_OFF:
        return Violation("R3", "the call was cut off: Asterisk restarted")
    return Violation("R3", "every step failed: the dialplan fail-safe answered")
