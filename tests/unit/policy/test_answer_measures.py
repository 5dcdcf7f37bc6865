"""R1/R2 as the reports measure them: an answer within the ring limit, answered personally."""

from __future__ import annotations

import pytest

from routing.policy.answer_measures import WITHIN_MARGIN_S, answered_personally, answered_within_ring_limit
from routing.policy.steps import Outcome


@pytest.mark.parametrize("outcome", [o for o in Outcome if o.is_r2_answer])
def test_r2_every_answer_within_the_limit_counts(outcome: Outcome) -> None:
    assert answered_within_ring_limit(outcome, 30.0 + WITHIN_MARGIN_S, 30.0)
    assert not answered_within_ring_limit(outcome, 31.5, 30.0)
    assert not answered_within_ring_limit(outcome, None, 30.0)


@pytest.mark.parametrize("outcome", [Outcome.ABANDONED, Outcome.FAILED, Outcome.FAILSAFE])
def test_r2_no_answer_never_counts_however_short_the_wait(outcome: Outcome) -> None:
    assert not outcome.is_r2_answer
    assert not answered_within_ring_limit(outcome, 0.0, 30.0)


def test_r2_answered_personally_is_the_person_or_the_unit_not_the_cover() -> None:
    assert answered_personally(Outcome.ANSWERED, "person")
    assert answered_personally(Outcome.ANSWERED, "unit")
    assert not answered_personally(Outcome.ANSWERED, "duty_phone")
    assert not answered_personally(Outcome.COVER, "cover")
    assert not answered_personally(Outcome.VOICEMAIL, None)
