"""The switchboard's queue (#13): a Queue step in the plan when operators are configured, how
the flow walks it (R1 timeout, R3 fallback), and the queue's own state machine: order, the
two-operator race, återfall, hold with recall."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from routing.policy.call import Event, EventKind
from routing.policy.flow import Flow
from routing.policy.steps import Finish, Outcome, Queue, Ring, StepKind, Voicemail
from routing.policy.switchboard_queue import Place, QueueError, SwitchboardQueue, Waiting
from tests.unit.policy.builders import at, config, plan, shape

START = at("2026-12-01 10:15")
OPERATORS = [
    {"id": "op1", "name": "Olle", "device": "PJSIP/op1"},
    {"id": "op2", "name": "Stina", "device": "PJSIP/op2"},
]


def with_operators(**switchboard: Any) -> dict[str, Any]:
    data = config()
    data["switchboard"] = {**data["switchboard"], "operators": OPERATORS, **switchboard}
    return data


def ev(kind: EventKind, seconds: float) -> Event:
    return Event(kind, START + timedelta(seconds=seconds))


# --- the plan ------------------------------------------------------------------------------------


def test_r1_without_operators_the_switchboard_phone_rings_as_before() -> None:
    p = plan("9000")
    assert isinstance(p.steps[0], Ring) and p.steps[0].kind is StepKind.SWITCHBOARD


def test_r1_with_operators_the_switchboard_number_queues_for_the_ring_limit_by_default() -> None:
    p = plan("9000", data=with_operators())
    queue = p.steps[0]
    assert isinstance(queue, Queue)
    assert queue.timeout_s == 30.0  # 5 rings of 6 s (R1)
    assert queue.fallback.devices == ("PJSIP/9000",)
    assert shape(p) == [("switchboard", "9000"), ("voicemail", "switchboard")]


def test_r1_queue_timeout_from_the_config() -> None:
    queue = plan("9000", data=with_operators(queue_timeout_s=12)).steps[0]
    assert isinstance(queue, Queue) and queue.timeout_s == 12.0


def test_r2_a_chain_step_switchboard_queues_too() -> None:
    # kc1's cover is 9000, the switchboard: after kc1 rings out, the caller waits in the queue.
    p = plan("7001", data=with_operators())
    assert shape(p)[:2] == [("person", "kc1"), ("switchboard", "9000")]
    assert isinstance(p.steps[1], Queue)


# --- the flow ------------------------------------------------------------------------------------


def test_r2_an_operator_answering_from_the_queue_answers_the_call() -> None:
    flow = Flow(plan("9000", data=with_operators()))
    flow.start()
    assert flow.feed(ev(EventKind.ANSWERED, 8)) == Finish(Outcome.ANSWERED, "9000", 8.0)


def test_r2_the_operator_who_answered_is_who_answered_the_call() -> None:
    flow = Flow(plan("9000", data=with_operators()))
    flow.start()
    answered = Event(EventKind.ANSWERED, START + timedelta(seconds=8), by="operator:op1")
    assert flow.feed(answered) == Finish(Outcome.ANSWERED, "operator:op1", 8.0)
    with pytest.raises(ValueError):
        Event(EventKind.NO_ANSWER, START, by="operator:op1")


def test_r1_queue_timeout_goes_to_the_switchboards_voicemail_not_its_phone() -> None:
    flow = Flow(plan("9000", data=with_operators()))
    flow.start()
    step = flow.feed(ev(EventKind.NO_ANSWER, 30))
    assert isinstance(step, Voicemail) and step.mailbox == "9000@default"


def test_r3_an_unserved_queue_rings_the_switchboards_phones_then_its_voicemail() -> None:
    flow = Flow(plan("9000", data=with_operators()))
    flow.start()
    fallback = flow.feed(ev(EventKind.FAILED, 0.1))
    assert isinstance(fallback, Ring) and fallback.devices == ("PJSIP/9000",)
    after = flow.feed(ev(EventKind.NO_ANSWER, 30))
    assert isinstance(after, Voicemail) and after.mailbox == "9000@default"


def test_r2_caller_hanging_up_in_the_queue_is_abandoned() -> None:
    flow = Flow(plan("9000", data=with_operators()))
    flow.start()
    assert flow.feed(ev(EventKind.HANGUP, 4)) == Finish(Outcome.ABANDONED, None, None)


# --- the queue's state machine -------------------------------------------------------------------


def caller(channel: str, since: float) -> Waiting:
    return Waiting(
        channel=channel, name=f"PJSIP/trunk-{channel}", call_id=channel, caller="0701", called="9000", since=since
    )


def test_order_returned_first_then_oldest_waiting() -> None:
    q = SwitchboardQueue(timeout_s=30, hold_recall_s=60)
    q.add(caller("a", 0), 0)
    q.add(caller("b", 1), 1)
    q.add(caller("c", 2), 2)
    q.claim("c", "op1", 3)
    q.connected("c", 4)
    q.transfer("c", "op1", "Anna Lindqvist (5001)", "soc1", 5)
    q.returned("c", "no answer", 35)
    assert [w.channel for w in q.calls()] == ["c", "a", "b"]
    back = q.get("c")
    assert back is not None
    assert (back.place, back.returned_from, back.returned_why, back.returned_person, back.returns) == (
        Place.RETURNED,
        "Anna Lindqvist (5001)",
        "no answer",
        "soc1",
        1,
    )


def test_two_operators_answering_at_once_exactly_one_gets_it() -> None:
    q = SwitchboardQueue(timeout_s=30, hold_recall_s=60)
    q.add(caller("a", 0), 0)
    assert q.claim("a", "op1", 1).operator == "op1"
    with pytest.raises(QueueError) as refused:
        q.claim("a", "op2", 1)
    assert refused.value.status == 409 and "op1" in str(refused.value)


def test_a_gone_call_is_404() -> None:
    q = SwitchboardQueue(timeout_s=30, hold_recall_s=60)
    with pytest.raises(QueueError) as refused:
        q.claim("nope", "op1", 1)
    assert refused.value.status == 404


def test_operators_phone_not_answering_puts_the_call_back_on_top() -> None:
    q = SwitchboardQueue(timeout_s=30, hold_recall_s=60)
    q.add(caller("a", 0), 0)
    q.add(caller("b", 1), 1)
    q.claim("b", "op1", 2)
    q.unanswered("b", 32)
    assert next(w.channel for w in q.calls()) == "b"
    b = q.get("b")
    assert b is not None and b.returned_why == "operator did not answer" and not b.answered


def test_only_the_operator_talking_may_transfer_or_hold() -> None:
    q = SwitchboardQueue(timeout_s=30, hold_recall_s=60)
    q.add(caller("a", 0), 0)
    q.claim("a", "op1", 1)
    with pytest.raises(QueueError):
        q.transfer("a", "op1", "x", None, 2)  # still ringing the operator: not talking yet
    q.connected("a", 2)
    with pytest.raises(QueueError):
        q.transfer("a", "op2", "x", None, 3)
    with pytest.raises(QueueError):
        q.hold("a", "op2", 3)


def test_hold_recalls_to_the_holder_after_hold_recall_s() -> None:
    q = SwitchboardQueue(timeout_s=30, hold_recall_s=60)
    q.add(caller("a", 0), 0)
    q.claim("a", "op1", 1)
    q.connected("a", 2)
    q.hold("a", "op1", 10)
    assert q.recalls_due(69) == []
    assert [w.channel for w in q.recalls_due(70)] == ["a"]
    with pytest.raises(QueueError):
        q.claim("a", "op2", 70)  # held by op1: theirs
    assert q.claim("a", "op1", 70).place is Place.OFFERED


def test_r1_overdue_waiting_and_returned_but_not_held_or_talking() -> None:
    q = SwitchboardQueue(timeout_s=30, hold_recall_s=600)
    q.add(caller("wait", 0), 0)
    q.add(caller("talk", 0), 0)
    q.add(caller("held", 0), 0)
    q.claim("talk", "op1", 1)
    q.connected("talk", 2)
    q.claim("held", "op2", 1)
    q.connected("held", 2)
    q.hold("held", "op2", 3)
    assert [w.channel for w in q.overdue(29.9)] == []
    assert [w.channel for w in q.overdue(30)] == ["wait"]


def test_a_resync_keeps_a_known_callers_place() -> None:
    q = SwitchboardQueue(timeout_s=30, hold_recall_s=60)
    q.add(caller("a", 0), 0)
    q.claim("a", "op1", 1)
    assert q.add(caller("a", 5), 5).place is Place.OFFERED
    assert len(q) == 1


def test_a_claim_asterisk_could_not_carry_out_is_released_where_it_was() -> None:
    q = SwitchboardQueue(timeout_s=30, hold_recall_s=60)
    q.add(caller("a", 0), 0)
    q.claim("a", "op1", 1)
    released = q.release("a", Place.WAITING, None, 2)
    assert (released.place, released.operator) == (Place.WAITING, None)
    assert q.claim("a", "op2", 3).operator == "op2"  # free for anyone again
    q.connected("a", 4)
    q.hold("a", "op2", 5)
    q.claim("a", "op2", 70)
    held = q.release("a", Place.HELD, "op2", 71)
    assert (held.place, held.operator, held.recall_at) == (Place.HELD, "op2", 131)
    with pytest.raises(QueueError):
        q.release("a", Place.WAITING, None, 72)  # only an offered call can be released


def test_r3_a_held_caller_whose_operator_is_gone_goes_back_to_the_queue_for_anyone() -> None:
    q = SwitchboardQueue(timeout_s=30, hold_recall_s=60)
    q.add(caller("a", 0), 0)
    q.claim("a", "op1", 1)
    q.connected("a", 2)
    q.hold("a", "op1", 3)
    back = q.unhold("a", "held by someone no longer an operator", 63)
    assert (back.place, back.recall_at, back.returned_from) == (Place.RETURNED, None, "operator op1")
    assert q.claim("a", "op2", 64).operator == "op2"
    assert [w.channel for w in q.overdue(94)] == []  # offered now; had it stayed returned: overdue at 93
