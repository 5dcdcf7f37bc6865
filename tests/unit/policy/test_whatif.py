"""#16: a changed plan walked against what a call was seen to do. What was seen decides; what
nobody saw is unknown, never guessed (R1 ring limits, R2 answers)."""

from __future__ import annotations

from dataclasses import replace

from routing.policy.call import Call
from routing.policy.planner import Plan, plan_call
from routing.policy.state import RoutingState
from routing.policy.steps import Outcome, Ring
from routing.policy.whatif import Observed, RingSeen, describe_plan, predict
from tests.unit.policy import builders

AT = builders.at("2026-12-01 10:15")


def anna_plan(ring_s: float = 30.0, **changes: object) -> Plan:
    """Call to Anna (5001): ring her, then her cover Erik, then her voicemail…"""
    plan = plan_call(builders.directory(), RoutingState(), Call("5001", builders.EXTERNAL, False, AT))
    first = plan.steps[0]
    assert isinstance(first, Ring)
    return replace(plan, steps=(replace(first, timeout_s=ring_s), *plan.steps[1:]))


def test_r1_a_person_who_answered_after_12_s_answers_if_rung_at_least_12_s() -> None:
    seen = Observed({"soc1": RingSeen(answered_after_s=12.0)}, outcome=Outcome.ANSWERED, wait_s=12.0, duration_s=90)
    assert predict(anna_plan(20), seen).outcome is Outcome.ANSWERED
    assert predict(anna_plan(20), seen).wait_s == 12.0
    shorter = predict(anna_plan(10), seen)  # she is not rung long enough: Erik's turn, never rung then
    assert shorter.outcome is None and shorter.unknown is not None and "soc2" in shorter.unknown


def test_r1_r2_no_answer_in_30_s_is_no_answer_in_20_and_the_cover_answers_as_seen() -> None:
    seen = Observed(
        {"soc1": RingSeen(no_answer_after_s=30.0), "soc2": RingSeen(answered_after_s=4.0)},
        outcome=Outcome.COVER,
        wait_s=34.0,
        duration_s=120,
    )
    faster = predict(anna_plan(20), seen)
    assert (faster.outcome, faster.wait_s, faster.answered_step) == (Outcome.COVER, 24.0, "cover")
    longer = predict(anna_plan(40), seen)  # rung longer than she was ever seen to ring
    assert longer.outcome is None and "longer" in (longer.unknown or "")


def test_a_caller_who_hung_up_is_lost_unless_answered_before() -> None:
    seen = Observed({"soc1": RingSeen(no_answer_after_s=25.0)}, outcome=Outcome.ABANDONED, duration_s=25.0)
    assert predict(anna_plan(20), seen).outcome is None  # Erik would ring: he never rang, unknown
    gave_up = Observed({"soc1": RingSeen(no_answer_after_s=25.0)}, outcome=Outcome.ABANDONED, duration_s=15.0)
    assert predict(anna_plan(20), gave_up).outcome is Outcome.ABANDONED


def test_r2_a_caller_answered_later_than_they_were_seen_to_wait_is_unknown() -> None:
    """The caller was answered after 40 s (by a voicemail, say); a plan that would answer them
    only after 55 s cannot say whether they would have held on."""
    seen = Observed(
        {"soc1": RingSeen(no_answer_after_s=30.0), "soc2": RingSeen(answered_after_s=25.0)},
        outcome=Outcome.VOICEMAIL,
        wait_s=40.0,
        duration_s=200,
    )
    late = predict(anna_plan(30), seen)
    assert late.outcome is None and "seen to wait 40 s" in (late.unknown or "")


def test_the_plan_as_it_went_predicts_its_own_outcome_and_reads_in_a_few_words() -> None:
    seen = Observed(
        {"soc1": RingSeen(no_answer_after_s=30.0), "soc2": RingSeen(answered_after_s=25.0)},
        outcome=Outcome.COVER,
        wait_s=55.0,
        duration_s=200,
    )
    assert predict(anna_plan(30), seen).outcome is Outcome.COVER
    assert describe_plan(anna_plan(30)).startswith("ring person soc1 30 s → ring cover soc2 30 s → voicemail")
