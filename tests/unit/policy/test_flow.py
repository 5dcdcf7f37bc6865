"""The flow state machine: events in, next step out, and how each call ends (R2–R4, R11)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from routing.policy.call import Event, EventKind
from routing.policy.flow import Ending, Flow, FlowError
from routing.policy.planner import Plan
from routing.policy.referral import Reason, Referral
from routing.policy.spoken_swedish import CALLBACK_CONFIRMATION
from routing.policy.steps import CallbackOffer, Finish, Message, Outcome, Queue, Ring, StepKind, Voicemail
from tests.unit.policy.builders import at, plan

START = at("2026-12-01 10:15")


def ev(kind: EventKind, seconds: float, digit: str | None = None) -> Event:
    return Event(kind, START + timedelta(seconds=seconds), digit)


def started(p: Plan | None = None) -> Flow:
    flow = Flow(p or plan("5001"))
    flow.start()
    return flow


def test_r2_person_answers() -> None:
    flow = started()
    assert flow.feed(ev(EventKind.RINGING, 0.2)) is flow.step  # ringing changes nothing
    end = flow.feed(ev(EventKind.ANSWERED, 12))
    assert end == Finish(Outcome.ANSWERED, "soc1", 12.0)
    assert flow.finished


@pytest.mark.parametrize("kind", [EventKind.NO_ANSWER, EventKind.BUSY, EventKind.UNAVAILABLE, EventKind.FAILED])
def test_r2_no_answer_busy_unavailable_go_to_the_cover(kind: EventKind) -> None:
    flow = started()
    step = flow.feed(ev(kind, 30))
    assert isinstance(step, Ring) and step.kind is StepKind.COVER
    assert flow.feed(ev(EventKind.ANSWERED, 40)) == Finish(Outcome.COVER, "soc2", 40.0)


def test_r2_voicemail_answers_and_wait_is_counted_from_its_start() -> None:
    flow = started()
    flow.feed(ev(EventKind.NO_ANSWER, 30))
    step = flow.feed(ev(EventKind.NO_ANSWER, 60))
    assert isinstance(step, Voicemail) and step.mailbox == "5001@default"
    assert flow.feed(ev(EventKind.COMPLETED, 95)) == Finish(Outcome.VOICEMAIL, "5001@default", 60.0)


def test_r3_failed_mailbox_is_no_answer_and_the_chain_goes_on() -> None:
    flow = started()
    flow.feed(ev(EventKind.NO_ANSWER, 30))
    flow.feed(ev(EventKind.NO_ANSWER, 60))
    step = flow.feed(ev(EventKind.FAILED, 60.1))
    assert isinstance(step, CallbackOffer)
    assert flow.reached is None and flow.answered_at is None


def test_r4_callback_accepted_is_confirmed_then_ends_as_callback() -> None:
    flow = started()
    for t in (30, 60):
        flow.feed(ev(EventKind.NO_ANSWER, t))
    flow.feed(ev(EventKind.FAILED, 61))  # mailbox missing
    confirm = flow.feed(ev(EventKind.DIGIT, 64, "1"))
    assert isinstance(confirm, Message) and confirm.kind is StepKind.CALLBACK
    assert confirm.text == CALLBACK_CONFIRMATION
    assert flow.feed(ev(EventKind.COMPLETED, 67)) == Finish(Outcome.CALLBACK, "soc1", 64.0)


def test_r4_another_digit_or_silence_declines_the_callback() -> None:
    for event in (ev(EventKind.DIGIT, 64, "2"), ev(EventKind.NO_ANSWER, 69)):
        flow = started()
        for t in (30, 60):
            flow.feed(ev(EventKind.NO_ANSWER, t))
        flow.feed(ev(EventKind.FAILED, 61))
        last = flow.feed(event)
        assert isinstance(last, Voicemail) and last.mailbox == "9000@default"


def test_r3_everything_failing_ends_failed() -> None:
    flow = started()
    step = flow.step
    t = 0.0
    while not isinstance(step, Finish):
        t += 1
        kind = EventKind.NO_ANSWER if isinstance(step, Ring | CallbackOffer) else EventKind.FAILED
        step = flow.feed(ev(kind, t))
    assert step == Finish(Outcome.FAILED, None, None)


def test_r11_referral_message_counts_as_answered() -> None:
    flow = Flow(plan("5001", referrals=(Referral("soc1", Reason.LUNCH),)))
    first = flow.start()
    assert isinstance(first, Message) and first.kind is StepKind.REFERRAL
    assert flow.reached is Outcome.REFERRAL and flow.answered_at == START
    cover = flow.feed(ev(EventKind.COMPLETED, 9))
    assert isinstance(cover, Ring)
    assert flow.feed(ev(EventKind.HANGUP, 15)) == Finish(Outcome.REFERRAL, "soc1", 0.0)


def test_referral_then_voicemail_ends_as_voicemail_with_the_referral_wait() -> None:
    flow = Flow(plan("5001", referrals=(Referral("soc1", Reason.LUNCH),)))
    flow.start()
    flow.feed(ev(EventKind.COMPLETED, 9))
    flow.feed(ev(EventKind.NO_ANSWER, 39))
    assert flow.feed(ev(EventKind.COMPLETED, 70)) == Finish(Outcome.VOICEMAIL, "5001@default", 0.0)


def test_caller_hangs_up_while_ringing_is_abandoned() -> None:
    flow = started()
    assert flow.feed(ev(EventKind.HANGUP, 8)) == Finish(Outcome.ABANDONED, None, None)


def test_caller_hangs_up_in_the_voicemail_greeting_still_reached_voicemail() -> None:
    flow = started()
    flow.feed(ev(EventKind.NO_ANSWER, 30))
    flow.feed(ev(EventKind.NO_ANSWER, 60))
    assert flow.feed(ev(EventKind.HANGUP, 63)) == Finish(Outcome.VOICEMAIL, "5001@default", 60.0)


def test_a_key_skips_a_message() -> None:
    flow = Flow(plan("5000", "2026-12-01 13:00"))
    assert isinstance(flow.start(), Message)
    step = flow.feed(Event(EventKind.DIGIT, at("2026-12-01 13:00"), "5"))
    assert isinstance(step, Ring) and step.kind is StepKind.DUTY_PHONE


@pytest.mark.parametrize(
    ("kind", "digit"), [(EventKind.COMPLETED, None), (EventKind.DIGIT, "1"), (EventKind.ANSWERED, None)]
)
def test_events_a_step_cannot_produce_are_refused(kind: EventKind, digit: str | None) -> None:
    flow = started()
    if kind is EventKind.ANSWERED:
        for t in (30, 60):
            flow.feed(ev(EventKind.NO_ANSWER, t))  # now at voicemail
    with pytest.raises(FlowError):
        flow.feed(ev(kind, 61, digit))


def test_no_event_after_the_end_and_no_second_start() -> None:
    flow = started()
    flow.feed(ev(EventKind.ANSWERED, 3))
    with pytest.raises(FlowError):
        flow.feed(ev(EventKind.HANGUP, 100))
    with pytest.raises(FlowError):
        flow.start()


def test_events_are_validated() -> None:
    with pytest.raises(ValueError):
        Event(EventKind.DIGIT, START)
    with pytest.raises(ValueError):
        Event(EventKind.DIGIT, START, "12")
    with pytest.raises(ValueError):
        Event(EventKind.ANSWERED, START, "1")
    with pytest.raises(ValueError):
        Event(EventKind.ANSWERED, datetime(2026, 12, 1))


@pytest.mark.parametrize(
    ("how", "outcome"),
    [(Ending.HANGUP, Outcome.ABANDONED), (Ending.LET_GO, Outcome.FAILSAFE), (Ending.CUT_OFF, Outcome.FAILED)],
)
def test_r2_r3_a_call_ending_before_any_answer_is_named_by_how_it_ended(how: Ending, outcome: Outcome) -> None:
    flow = started()  # ringing soc1: no R2 answer yet
    assert flow.end(how, START + timedelta(seconds=9)) == Finish(outcome, None, None)
    assert not outcome.is_r2_answer


@pytest.mark.parametrize("how", list(Ending))
def test_r2_a_call_ending_after_an_answer_keeps_it(how: Ending) -> None:
    flow = started(plan("5001", referrals=(Referral("soc1", Reason.MEETING),)))
    flow.feed(ev(EventKind.COMPLETED, 6))  # the referral message answered at 0 s; now the cover rings
    assert flow.end(how, START + timedelta(seconds=20)) == Finish(Outcome.REFERRAL, "soc1", 0.0)


def test_a_finished_flow_keeps_its_finish_whatever_ends_the_call() -> None:
    flow = started()
    done = flow.feed(ev(EventKind.ANSWERED, 12))
    assert flow.end(Ending.CUT_OFF, START + timedelta(seconds=300)) == done == Finish(Outcome.ANSWERED, "soc1", 12.0)


def test_r2_r11_a_referral_message_asterisk_could_not_play_is_no_answer() -> None:
    flow = Flow(plan("5001", referrals=(Referral("soc1", Reason.LUNCH),)))
    flow.start()
    cover = flow.feed(ev(EventKind.FAILED, 0.1))  # the prompt does not exist where Asterisk looks
    assert isinstance(cover, Ring) and cover.kind is StepKind.COVER
    assert flow.reached is None and flow.answered_at is None
    assert flow.feed(ev(EventKind.ANSWERED, 12)) == Finish(Outcome.COVER, "soc2", 12.0)  # dated at the cover


def test_r2_a_caller_who_heard_no_referral_and_hung_up_abandoned_the_call() -> None:
    flow = Flow(plan("5001", referrals=(Referral("soc1", Reason.LUNCH),)))
    flow.start()
    flow.feed(ev(EventKind.FAILED, 0.1))
    assert flow.feed(ev(EventKind.HANGUP, 20)) == Finish(Outcome.ABANDONED, None, None)


# -- resuming a call another instance was routing (#17) -------------------------------------------


def _passing_event(step: object, seconds: float) -> Event:
    """An event that takes the flow past `step` without an answer (a callback offer accepted:
    into the confirmation)."""
    if isinstance(step, CallbackOffer):
        return ev(EventKind.DIGIT, seconds, step.digit)
    if isinstance(step, Voicemail):
        return ev(EventKind.FAILED, seconds)  # a mailbox that took nothing
    if isinstance(step, Message):
        return ev(EventKind.COMPLETED, seconds)
    if isinstance(step, Queue):
        return ev(EventKind.FAILED, seconds)  # not served: its fallback rings
    return ev(EventKind.NO_ANSWER, seconds)


def _plans() -> list[Plan]:
    from tests.unit.policy.test_switchboard_queue import with_operators

    lunch = (Referral("soc1", Reason.LUNCH),)
    return [
        plan("5001"),
        plan("5001", referrals=lunch),
        plan("5000", "2026-12-01 14:00"),  # a unit outside its telephone hours (R9)
        plan("5001", caller=None),  # hidden number: no callback offer (R4)
        plan("9000", data=with_operators()),
    ]


def _walked(p: Plan, passed: int) -> tuple[Flow, dict[str, datetime]]:
    """The flow after `passed` steps went by without an answer, and when each place began."""
    flow = Flow(p)
    step = flow.start()
    began = {flow.place: START}
    for n in range(1, passed + 1):
        if isinstance(step, Finish):
            break
        event = _passing_event(step, 10.0 * n)
        step = flow.feed(event)
        began.setdefault(flow.place, event.at)
    return flow, began


@pytest.mark.parametrize("p", _plans(), ids=lambda p: f"{p.call.called}-{len(p.steps)}")
def test_r2_a_resumed_flow_goes_on_exactly_as_the_original_from_every_place(p: Plan) -> None:
    """At every step of a walk without an answer, a flow resumed from its place (and the moments
    its steps began) gives the same step, the same answers so far, and then the same steps and
    the same end, whether the walk goes on or the caller hangs up."""
    places = 0
    for passed in range(2 * len(p.steps) + 2):
        original, began = _walked(p, passed)
        if original.finished:
            break
        places += 1
        resumed = Flow.resume(p, original.place, began.__getitem__)
        assert resumed.step == original.step and resumed.place == original.place
        assert (resumed.reached, resumed.answered_at) == (original.reached, original.answered_at)
        twin, _ = _walked(p, passed)
        hangup = ev(EventKind.HANGUP, 10.0 * passed + 5)
        assert Flow.resume(p, original.place, began.__getitem__).feed(hangup) == twin.feed(hangup)
        event = _passing_event(original.step, 10.0 * passed + 7)
        assert resumed.feed(event) == original.feed(event)
        if not original.finished:
            later = ev(EventKind.HANGUP, 10.0 * passed + 9)
            assert resumed.feed(later) == original.feed(later)
    assert places >= len(p.steps)


def test_r2_a_resumed_flow_drops_the_answer_of_a_referral_nobody_heard() -> None:
    p = plan("5001", referrals=(Referral("soc1", Reason.LUNCH),))
    heard = Flow.resume(p, "1", lambda place: START + timedelta(seconds=10 * int(place)))
    unheard = Flow.resume(p, "1", lambda place: START + timedelta(seconds=10 * int(place)), unheard={"0"})
    assert heard.reached is Outcome.REFERRAL and heard.answered_at == START
    assert unheard.reached is None
    assert unheard.feed(ev(EventKind.HANGUP, 20)) == Finish(Outcome.ABANDONED, None, None)


@pytest.mark.parametrize("place", ["", "x", "-1", "99", "0c", "0f", "1cc", "c"])
def test_a_place_the_plan_has_no_step_for_is_refused(place: str) -> None:
    with pytest.raises(ValueError):
        Flow.resume(plan("5001"), place, lambda i: START)
