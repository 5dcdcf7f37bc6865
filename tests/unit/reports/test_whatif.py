"""#16: what a call's stored events say its phones and caller did (the what-if's observations),
read from the events as the store gives them back, in order."""

from __future__ import annotations

from routing.calllog.events import (
    CallAnswered,
    CallbackRequested,
    CallEnd,
    CallNoAnswer,
    CallStart,
    CallStep,
    CallUnavailable,
)
from routing.policy.steps import Outcome
from routing.policy.whatif import RingSeen
from routing.reports.whatif import observed_of
from routing.store.base import StoredEvent


def _at(seconds: float) -> str:
    return f"2026-12-01T09:15:{seconds:06.3f}+00:00"


def _start() -> StoredEvent:
    event = CallStart(
        called="5001",
        caller=None,
        hidden=True,
        internal=False,
        target_kind="person",
        target="soc1",
        unit="soc",
        hours="open",
        channel="c",
        instance=None,
        notes=None,
    )
    return StoredEvent(_at(0), "c1", event)


def test_rings_messages_and_the_end_are_read_with_their_times() -> None:
    events = [
        _start(),
        StoredEvent(_at(0.1), "c1", CallStep(step="announcement", target="soc", rules=["R9"])),
        StoredEvent(_at(6.1), "c1", CallStep(step="person", target="soc1", rules=["R1"], timeout_s=30)),
        StoredEvent(_at(36.1), "c1", CallNoAnswer(target="soc1", rings=5, rang_s=30.0)),
        StoredEvent(_at(36.2), "c1", CallStep(step="cover", target="soc2", rules=["R1"], timeout_s=30)),
        StoredEvent(_at(36.3), "c1", CallUnavailable(target="soc2", status="unavailable")),
        StoredEvent(_at(36.4), "c1", CallStep(step="duty_phone", target="5099", rules=["R8"], timeout_s=30)),
        StoredEvent(_at(48.4), "c1", CallAnswered(by="5099", step="duty_phone", wait_s=48.4, rings=2)),
        StoredEvent(_at(50.0), "c1", CallEnd(outcome=Outcome.ANSWERED, wait_s=48.4, by="5099", duration_s=50.0)),
    ]
    seen = observed_of(events)
    assert seen.messages == {("announcement", "soc"): 6.0}
    assert seen.rings == {
        "soc1": RingSeen(no_answer_after_s=30.0),
        "soc2": RingSeen(unavailable=True),
        "5099": RingSeen(answered_after_s=12.0),
    }
    assert (seen.outcome, seen.wait_s, seen.duration_s, seen.patient_for_s) == (Outcome.ANSWERED, 48.4, 50.0, 48.4)
    assert seen.abandoned_after_s is None


def test_a_callback_offer_taken_or_run_out_and_a_caller_who_hung_up() -> None:
    offer = CallStep(step="callback", target="soc1", rules=["R4"], timeout_s=8)
    taken = observed_of(
        [
            _start(),
            StoredEvent(_at(1), "c1", offer),
            StoredEvent(_at(4.5), "c1", CallbackRequested(target="soc1", caller="h:x", callback_id=1)),
            StoredEvent(_at(9), "c1", CallEnd(outcome=Outcome.CALLBACK, wait_s=4.5, by="soc1", duration_s=9)),
        ]
    )
    assert (taken.callback_pressed_after_s, taken.callback_declined) == (3.5, False)
    declined = observed_of(
        [
            _start(),
            StoredEvent(_at(1), "c1", offer),
            StoredEvent(_at(9), "c1", CallStep(step="voicemail", target="soc1", rules=["R2"], mailbox="5001@default")),
            StoredEvent(_at(20), "c1", CallEnd(outcome=Outcome.ABANDONED, wait_s=None, by=None, duration_s=20)),
        ]
    )
    assert (declined.callback_pressed_after_s, declined.callback_declined) == (None, True)
    assert (declined.abandoned_after_s, declined.patient_for_s) == (20, 20)
