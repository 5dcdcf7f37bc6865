"""One call's progress through its plan: a pure state machine, fed events, giving steps.

Like h11's connection state, every transition is in one table (`_TRANSITIONS`); anything
not in it is a protocol error the adapter must handle (it never happens silently).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum

from routing.policy import spoken_swedish
from routing.policy.call import Event, EventKind
from routing.policy.planner import Plan
from routing.policy.steps import (
    CallbackOffer,
    Finish,
    Message,
    Outcome,
    PlannedStep,
    Queue,
    Ring,
    Step,
    StepKind,
    Voicemail,
)


class Ending(StrEnum):
    """How a call can end before its flow reaches a Finish."""

    HANGUP = "hangup"  # the caller hung up
    LET_GO = "let_go"  # the service let go of it (it stopped, or never heard the hangup): the fail-safe finished it
    CUT_OFF = "cut_off"  # Asterisk itself lost the call (it restarted)


_UNFINISHED = {Ending.HANGUP: Outcome.ABANDONED, Ending.LET_GO: Outcome.FAILSAFE, Ending.CUT_OFF: Outcome.FAILED}


# Where a flow stands, as the dialplan carries it between requests (ROUTING_PLACE, #17): the
# plan's step index, and for the two steps that are not the plan's own, a mark.
_CONFIRMING = "c"  # playing the callback confirmation after the offer at this index
_FALLEN_BACK = "f"  # ringing the switchboard's phones: the queue at this index was not served


class FlowError(Exception):
    """An event that the current step cannot have produced. Stable log id: flow.bad_event."""

    log_id = "flow.bad_event"


class _Action(Enum):
    STAY = "stay"  # information only; the step goes on
    NEXT = "next"  # this step did not answer: go on down the plan
    ANSWERED = "answered"  # a person (or cover) answered: done
    VOICEMAIL_DONE = "voicemail_done"
    CHOICE = "choice"  # a digit at the callback offer: accepted or not
    HANGUP = "hangup"
    FALLBACK = "fallback"  # the switchboard's queue could not be served: ring its phones instead


_RING, _MESSAGE, _VOICEMAIL, _OFFER, _QUEUE = Ring, Message, Voicemail, CallbackOffer, Queue
_TRANSITIONS: dict[tuple[type, EventKind], _Action] = {
    (_RING, EventKind.RINGING): _Action.STAY,
    (_RING, EventKind.ANSWERED): _Action.ANSWERED,
    (_RING, EventKind.BUSY): _Action.NEXT,
    (_RING, EventKind.UNAVAILABLE): _Action.NEXT,
    (_RING, EventKind.NO_ANSWER): _Action.NEXT,
    (_RING, EventKind.FAILED): _Action.NEXT,
    (_MESSAGE, EventKind.COMPLETED): _Action.NEXT,
    (_MESSAGE, EventKind.DIGIT): _Action.NEXT,  # a key skips the rest of a message
    (_MESSAGE, EventKind.FAILED): _Action.NEXT,
    (_VOICEMAIL, EventKind.COMPLETED): _Action.VOICEMAIL_DONE,
    (_VOICEMAIL, EventKind.FAILED): _Action.NEXT,
    (_OFFER, EventKind.DIGIT): _Action.CHOICE,
    (_OFFER, EventKind.NO_ANSWER): _Action.NEXT,
    (_OFFER, EventKind.COMPLETED): _Action.NEXT,
    (_OFFER, EventKind.FAILED): _Action.NEXT,
    (_QUEUE, EventKind.RINGING): _Action.STAY,
    (_QUEUE, EventKind.ANSWERED): _Action.ANSWERED,  # an operator's phone answered
    (_QUEUE, EventKind.NO_ANSWER): _Action.NEXT,  # the queue's timeout: the switchboard's own chain
    (_QUEUE, EventKind.FAILED): _Action.FALLBACK,
}


@dataclass(frozen=True)
class _Answer:
    outcome: Outcome
    at: datetime
    by: str
    step: Step  # the step that gave it: a message or mailbox that then failed gave nothing


class Flow:
    """Walks a plan. `start()` gives the first step; `feed(event)` the next one, until a
    `Finish`. The flow keeps the moment and kind of the caller's first R2 answer.

    Only what Asterisk carried out counts: a referral message or a mailbox answers from the
    moment it begins, and that answer is taken back when Asterisk reports the step FAILED
    (the prompt could not be played, the mailbox does not exist)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._index = -1
        self._step: Step | None = None
        self._confirming = False  # playing the callback confirmation
        self._answers: list[_Answer] = []  # R2 answers, in order

    @property
    def reached(self) -> Outcome | None:
        """The latest R2 answer the caller has had, if any."""
        return self._answers[-1].outcome if self._answers else None

    @property
    def answered_at(self) -> datetime | None:
        """When the caller first got an R2 answer: the end of their wait."""
        return self._answers[0].at if self._answers else None

    @property
    def step(self) -> Step | None:
        return self._step

    @property
    def finished(self) -> bool:
        return isinstance(self._step, Finish)

    @property
    def place(self) -> str:
        """Where the flow stands: the plan's step index, marked for the callback confirmation
        and a queue's fallback ("3", "3c", "3f"). With the plan, it is all `resume` needs."""
        if self._confirming:
            return f"{self._index}{_CONFIRMING}"
        step = self.plan.steps[self._index] if 0 <= self._index < len(self.plan.steps) else None
        if isinstance(step, Queue) and self._step is step.fallback:
            return f"{self._index}{_FALLEN_BACK}"
        return str(self._index)

    @classmethod
    def resume(cls, plan: Plan, place: str, began: Callable[[str], datetime], unheard: Collection[str] = ()) -> Flow:
        """The flow of a call another instance was routing (#17), standing at `place` (see
        `place`), as if every earlier step had passed without an answer: a step that had answered
        would have ended the flow (a person, a mailbox that took the message, a callback
        accepted), so only referral messages and mailboxes that failed stand behind it, and of
        those only a referral message answered (R2: its answer stands, a failed mailbox's was
        taken back). `began(p)`: when the step at place p began, for the dates of those answers;
        `unheard`: the places of referral messages Asterisk could not play (they did not answer).

        ValueError: a place this plan has no step for."""
        index_text = place.rstrip(_CONFIRMING + _FALLEN_BACK)
        mark = place[len(index_text) :]
        if not index_text.isdigit() or len(mark) > 1:
            raise ValueError(f"not a place in a plan: {place!r}")
        index = int(index_text)
        if index >= len(plan.steps):
            raise ValueError(f"the plan has {len(plan.steps)} steps, not a step {index}")
        step = plan.steps[index]
        if (mark == _CONFIRMING and not isinstance(step, CallbackOffer)) or (
            mark == _FALLEN_BACK and not isinstance(step, Queue)
        ):
            raise ValueError(f"step {index} is a {step.kind} step: no place {place!r}")
        flow = cls(plan)
        for earlier in range(index):
            passed = plan.steps[earlier]
            if isinstance(passed, Message) and passed.kind is StepKind.REFERRAL and str(earlier) not in unheard:
                flow._reach(Outcome.REFERRAL, began(str(earlier)), passed.target, passed)
        flow._index = index - 1
        flow._advance(began(index_text))
        if mark == _CONFIRMING:
            assert isinstance(step, CallbackOffer)
            flow._confirm_callback(step, began(place))
        elif mark == _FALLEN_BACK:
            assert isinstance(step, Queue)
            flow._step = step.fallback
        return flow

    def start(self) -> Step:
        if self._step is not None:
            raise FlowError("the flow has started already")
        return self._advance(self.plan.call.at)

    def feed(self, event: Event) -> Step:
        step = self._step
        if step is None or isinstance(step, Finish):
            raise FlowError(f"no step is waiting for an event ({event.kind})")
        if event.kind is EventKind.HANGUP:
            return self._hangup(event.at)
        if self._confirming:
            return self._finish(Outcome.CALLBACK, event.at)
        action = _TRANSITIONS.get((type(step), event.kind))
        if action is None:
            raise FlowError(f"a {step.kind} step cannot end with {event.kind}")
        if action is _Action.STAY:
            return step
        if action is _Action.FALLBACK:
            assert isinstance(step, Queue)
            self._step = step.fallback  # R3: the switchboard's phones, then on down the plan
            return self._step
        if action is _Action.ANSWERED:
            assert isinstance(step, Ring | Queue)
            outcome = Outcome.COVER if step.kind is StepKind.COVER else Outcome.ANSWERED
            self._reach(outcome, event.at, event.by or step.target, step)
            return self._finish(outcome, event.at)
        if action is _Action.VOICEMAIL_DONE:
            return self._finish(Outcome.VOICEMAIL, event.at)
        if action is _Action.CHOICE:
            assert isinstance(step, CallbackOffer)
            if event.digit == step.digit:
                return self._confirm_callback(step, event.at)
        if event.kind is EventKind.FAILED and self._answers and self._answers[-1].step is step:
            self._answers.pop()  # R2: a message nobody heard, a mailbox that failed, did not answer
        return self._advance(event.at)

    # -- transitions -------------------------------------------------------------------------

    def _advance(self, at: datetime) -> Step:
        self._index += 1
        if self._index >= len(self.plan.steps):
            return self._finish(self.reached or Outcome.FAILED, at)
        step: PlannedStep = self.plan.steps[self._index]
        self._step = step
        if isinstance(step, Message) and step.kind is StepKind.REFERRAL:
            self._reach(Outcome.REFERRAL, at, step.target, step)  # R2: a referral message answers
        elif isinstance(step, Voicemail):
            self._reach(Outcome.VOICEMAIL, at, step.mailbox, step)
        return step

    def _confirm_callback(self, offer: CallbackOffer, at: datetime) -> Step:
        self._reach(Outcome.CALLBACK, at, offer.target, offer)
        self._confirming = True
        self._step = Message(
            StepKind.CALLBACK, offer.target, None, spoken_swedish.CALLBACK_CONFIRMATION, ("R4",), "callback booked"
        )
        return self._step

    def end(self, how: Ending, at: datetime) -> Finish:
        """The call ends now, `how`: its Finish. A flow that finished keeps its own; otherwise the
        caller's latest R2 answer stands, and without one the ending decides (R2, R3)."""
        if isinstance(self._step, Finish):
            return self._step
        return self._finish(self.reached or _UNFINISHED[how], at)

    def _hangup(self, at: datetime) -> Step:
        return self.end(Ending.HANGUP, at)

    def _finish(self, outcome: Outcome, at: datetime) -> Finish:
        wait = (self.answered_at - self.plan.call.at).total_seconds() if self.answered_at else None
        by = self._answers[-1].by if self._answers and outcome.is_r2_answer else None
        self._step = Finish(outcome, by, wait)
        return self._step

    # -- R2 bookkeeping ---------------------------------------------------------------------

    def _reach(self, outcome: Outcome, at: datetime, by: str, step: Step) -> None:
        self._answers.append(_Answer(outcome, at, by, step))
