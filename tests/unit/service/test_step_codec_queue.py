"""The switchboard queue's step as dialplan variables and its results back (#13, R1, R3)."""

from __future__ import annotations

from datetime import timedelta

from routing.policy.call import EventKind
from routing.policy.steps import Queue, Ring, StepKind
from routing.service import dialplan_variables as v
from routing.service import step_codec
from tests.unit.policy.builders import at

NOW = at("2026-12-01 10:15")
QUEUE = Queue(
    StepKind.SWITCHBOARD,
    "9000",
    30.0,
    Ring(StepKind.SWITCHBOARD, "9000", ("PJSIP/9000",), 30.0, ("R1",), "x"),
    ("R1", "R2"),
    "the switchboard",
)


def test_r3_queue_variables_carry_the_lease_and_the_switchboards_fail_safe() -> None:
    variables = step_codec.queue_variables(QUEUE, "5001", 4.0)
    assert variables[v.ACTION] == v.QUEUE
    assert list(variables)[-1] == v.ACTION  # the dialplan acts on ACTION once the rest is set
    assert (variables[v.NUMBER], variables[v.LEASE], variables[v.FS_NUMBER], variables[v.RANG]) == (
        "5001",
        "4",
        "9000",
        "0",
    )


def test_queue_results() -> None:
    later = NOW + timedelta(seconds=30)
    for detail, kind in (
        ("TIMEOUT", EventKind.NO_ANSWER),
        ("FAILED", EventKind.FAILED),
        ("HANGUP", EventKind.HANGUP),
        ("", EventKind.FAILED),
    ):
        event, rang = step_codec.event_for(QUEUE, "queue", detail, NOW, later)
        assert (event.kind, rang) == (kind, None)
