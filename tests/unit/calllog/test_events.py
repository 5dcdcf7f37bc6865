"""The call log's vocabulary: one definition per event, read back as it was written."""

from __future__ import annotations

import dataclasses
import json

from routing.calllog.events import (
    CALL_EVENTS,
    RECORDED,
    CallEnd,
    CallEvent,
    CallStep,
    LogId,
    OutboundBlocked,
    PolicyViolation,
)
from routing.policy.steps import Outcome


def test_every_event_name_is_defined_once() -> None:
    names = [kind.NAME for kind in CALL_EVENTS.values()] + [member.value for member in LogId]
    assert len(names) == len(set(names))


def test_the_recorder_keeps_the_events_reports_and_the_audit_need() -> None:
    assert {
        "call.start",
        "call.step",
        "call.resumed",  # #17: the audit sees which instance went on with a call, from where
        "call.referral",
        "call.answered",
        "call.no_answer",
        "call.busy",
        "call.unavailable",
        "call.end",
        "mobile.forward",
        "callback.requested",
        "callback.attempt",
        "policy.violation",
        "outbound.dial",
        "outbound.blocked",
        "call.private",
        "prompt.not_played",
        # the switchboard's queue, for the report's switchboard figures (#13)
        "switchboard.queued",
        "switchboard.answered",
        "switchboard.connected",
        "switchboard.transfer",
        "switchboard.put_through",
        "switchboard.held",
        "switchboard.left",
    } == RECORDED


def test_a_line_has_the_fields_in_declaration_order_and_leaves_out_empty_optional_ones() -> None:
    step = CallStep(step="person", target="soc1", rules=["R1"], devices=["PJSIP/5001"], timeout_s=30.0)
    assert list(step.fields()) == ["step", "target", "rules", "devices", "timeout_s"]
    end = CallEnd(outcome=Outcome.VOICEMAIL, wait_s=None, by=None, duration_s=12.0)
    assert end.fields() == {"outcome": "voicemail", "wait_s": None, "by": None, "duration_s": 12.0}
    lost = dataclasses.replace(end, lost=True, ended_for="abc")
    assert lost.fields()["lost"] is True and lost.fields()["ended_for"] == "abc"


def test_every_event_reads_back_as_it_was_written_through_json() -> None:
    end = CallEnd(outcome=Outcome.FAILSAFE, wait_s=None, by=None, duration_s=3.5, lost=True, ended_for="i1")
    stored = json.loads(json.dumps(end.fields()))
    assert CallEnd.from_fields(stored) == end
    assert CallEnd.from_fields(stored).outcome is Outcome.FAILSAFE
    violation = PolicyViolation(rule="R4", detail="late", callback_id=7, target="soc1")
    assert PolicyViolation.from_fields(json.loads(json.dumps(violation.fields()))) == violation


def test_a_line_from_an_older_version_reads_with_defaults() -> None:
    end = CallEnd.from_fields({"outcome": "cover", "wait_s": 34.0, "by": "soc2", "duration_s": 94.0})
    assert (end.lost, end.ended_for) == (False, None)
    before = {"extension": "7002", "dialled": "0900123", "rule": "R18"}
    premium = {**before, "reason": "0900 is a premium-rate prefix and kc1 has no written permission"}
    assert OutboundBlocked.from_fields(premium).premium_rate
    assert not OutboundBlocked.from_fields(
        {**before, "reason": "'x' is not a number that can be dialled out"}
    ).premium_rate


def test_every_event_class_is_in_the_vocabulary() -> None:
    def subclasses(kind: type[CallEvent]) -> list[type[CallEvent]]:
        return [s for sub in kind.__subclasses__() for s in (sub, *subclasses(sub))]

    assert {kind.NAME for kind in subclasses(CallEvent)} == set(CALL_EVENTS)
