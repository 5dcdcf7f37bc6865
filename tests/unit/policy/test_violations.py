"""What breaches the policy in a call that happened: R1 an over-long ring, R3 no answer at all."""

from __future__ import annotations

import pytest

from routing.policy.flow import Ending
from routing.policy.steps import Finish, Outcome, Ring, StepKind
from routing.policy.violations import R1_MARGIN_S, Violation, overlong_ring, unanswered

RING = Ring(StepKind.PERSON, "soc1", ("PJSIP/5001",), 30.0, ("R1",), "Anna")


def test_r1_a_ring_within_the_limit_and_its_margin_is_no_breach() -> None:
    assert overlong_ring(RING, 30.0) is None
    assert overlong_ring(RING, 30.0 + R1_MARGIN_S) is None


def test_r1_a_ring_past_the_limit_is_a_breach_naming_what_rang_and_how_long() -> None:
    assert overlong_ring(RING, 35.0) == Violation("R1", "soc1 rang 35.0 s, limit 30 s")


@pytest.mark.parametrize("outcome", [o for o in Outcome if o is not Outcome.FAILED])
def test_r3_only_a_failed_call_is_a_breach(outcome: Outcome) -> None:
    assert unanswered(Finish(outcome, None, None), Ending.HANGUP) is None


def test_r3_failed_calls_say_why() -> None:
    failed = Finish(Outcome.FAILED, None, None)
    assert unanswered(failed, Ending.CUT_OFF) == Violation("R3", "the call was cut off: Asterisk restarted")
    assert unanswered(failed, None) == Violation("R3", "every step failed: the dialplan fail-safe answered")
