"""What a changed config would have done to calls that happened (#16): pure.

A call's plan is made again under the new config from the same inputs (policy.decision_inputs).
When it is the same plan, the call would have gone exactly as it went: its stored outcome
stands. When it differs, the new plan is walked against what the call's phones and caller were
seen to do (`Observed`): a person who answered after 12 s answers under the new plan if it
rings them at least 12 s; one who did not answer in 30 s does not answer in 20; a step nobody
observed (a phone the call never rang, a message it never played, a caller held longer than
they were seen to wait) makes the outcome unknown: it is counted as unknown, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from routing.policy.planner import Plan
from routing.policy.steps import CallbackOffer, Message, Outcome, PlannedStep, Queue, Ring, StepKind, Voicemail

# Timers are Asterisk's and the log's: a ring that ran this close to a longer limit counts as
# having run to it (no answer), as R1's accounting allows for jitter (answer_measures).
TIMING_MARGIN_S = 1.0


@dataclass(frozen=True)
class RingSeen:
    """What ringing a target (a person, unit, phone, the switchboard's queue) did in the call."""

    answered_after_s: float | None = None  # answered this long after it began to ring
    no_answer_after_s: float | None = None  # rang this long, unanswered (the ring limit or the queue's timeout)
    busy: bool = False
    unavailable: bool = False


@dataclass(frozen=True)
class Observed:
    """What a call that happened showed of its phones and its caller, from its stored events."""

    rings: Mapping[str, RingSeen] = field(default_factory=dict)  # by the step's target
    messages: Mapping[tuple[str, str], float] = field(default_factory=dict)  # (kind, target) → seconds played
    callback_pressed_after_s: float | None = None  # the caller took a callback offer this long into it
    callback_declined: bool = False  # an offer ran out without the key
    outcome: Outcome | None = None
    wait_s: float | None = None  # until the R2 answer
    duration_s: float | None = None  # the caller's whole call

    @property
    def abandoned_after_s(self) -> float | None:
        """When the caller hung up without an answer (their patience, seen)."""
        return self.duration_s if self.outcome is Outcome.ABANDONED else None

    @property
    def patient_for_s(self) -> float | None:
        """How long the caller was seen to wait for an answer, at least."""
        if self.outcome is Outcome.ABANDONED:
            return self.duration_s
        return self.wait_s


@dataclass(frozen=True)
class Predicted:
    """The outcome a plan gives a call, or why it cannot be told (`unknown`)."""

    outcome: Outcome | None
    wait_s: float | None = None
    answered_step: str | None = None
    unknown: str | None = None


_RING_OUTCOME = {StepKind.COVER: Outcome.COVER}


def predict(new: Plan, seen: Observed) -> Predicted:
    """Walk `new` against what the call was seen to do."""
    clock = 0.0
    for step in new.steps:
        if isinstance(step, Ring | Queue):
            ring = seen.rings.get(step.target)
            if ring is None:
                return Predicted(None, unknown=f"{step.kind.value} {step.target} was not rung in the call")
            if ring.answered_after_s is not None and ring.answered_after_s <= step.timeout_s + TIMING_MARGIN_S:
                outcome = _RING_OUTCOME.get(step.kind, Outcome.ANSWERED)
                return _answered_at(clock + ring.answered_after_s, outcome, step.kind.value, seen)
            if ring.busy or ring.unavailable:
                continue  # passed over at once, as it was then
            rang = ring.no_answer_after_s
            if ring.answered_after_s is None and (rang is None or rang + TIMING_MARGIN_S < step.timeout_s):
                return Predicted(
                    None, unknown=f"{step.kind.value} {step.target} would ring longer than it was seen to ring"
                )
            clock += step.timeout_s
        elif isinstance(step, Message):
            if step.kind is StepKind.REFERRAL:
                return _answered_at(clock, Outcome.REFERRAL, step.kind.value, seen)
            played = seen.messages.get((step.kind.value, step.target))
            if played is None:
                return Predicted(None, unknown=f"the {step.kind.value} of {step.target} was not played in the call")
            clock += played
        elif isinstance(step, Voicemail):
            return _answered_at(clock, Outcome.VOICEMAIL, step.kind.value, seen)
        elif isinstance(step, CallbackOffer):
            if seen.callback_pressed_after_s is not None:
                return _answered_at(clock + seen.callback_pressed_after_s, Outcome.CALLBACK, step.kind.value, seen)
            if not seen.callback_declined:
                return Predicted(None, unknown="no callback offer was made in the call")
            clock += step.timeout_s
        abandoned = seen.abandoned_after_s
        if abandoned is not None and clock >= abandoned:
            return Predicted(Outcome.ABANDONED)
    return Predicted(Outcome.FAILED)


def _answered_at(at_s: float, outcome: Outcome, step: str, seen: Observed) -> Predicted:
    """An answer `at_s` into the call, if the caller waits that long: a caller who hung up sooner
    is lost; one seen to wait less long than that (then answered) may not have waited: unknown."""
    abandoned = seen.abandoned_after_s
    if abandoned is not None:
        if at_s <= abandoned:
            return Predicted(outcome, round(at_s, 3), step)
        return Predicted(Outcome.ABANDONED)
    patient = seen.patient_for_s
    if patient is None or at_s <= patient + TIMING_MARGIN_S:
        return Predicted(outcome, round(at_s, 3), step)
    return Predicted(None, unknown=f"the caller would wait {at_s:.0f} s; they were seen to wait {patient:.0f} s")


def describe_plan(plan: Plan) -> str:
    """A plan in a few words: "hours announcement → ring duty_phone 5099 → voicemail"."""
    return " → ".join(_step_words(step) for step in plan.steps) or "nothing"


def _step_words(step: PlannedStep) -> str:
    kind = step.kind.value.replace("_", " ")
    if isinstance(step, Ring):
        return f"ring {kind} {step.target} {step.timeout_s:g} s"
    if isinstance(step, Queue):
        return f"queue {step.timeout_s:g} s"
    if isinstance(step, Message):
        return f"{kind} message"
    if isinstance(step, Voicemail):
        return f"voicemail {step.mailbox}"
    return "callback offer"
