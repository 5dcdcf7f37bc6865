"""The FastAGI handler: each request from the dialplan becomes an engine event, and the
engine's next step becomes channel variables. Every call step is logged (one JSON line each,
from routing.calllog.events; `call_id` is Asterisk's linkedid). The policy decides, including
what a call's end means and what breaches a rule; this module only translates and logs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol, TypeVar

import structlog

from routing.agi.protocol import AgiRequest
from routing.calllog.events import (
    CallAnswered,
    CallbackRequested,
    CallBusy,
    CallEnd,
    CallNoAnswer,
    CallNotResumed,
    CallReferral,
    CallRefusedDraining,
    CallResumed,
    CallStart,
    CallStep,
    CallUnavailable,
    CallUnknown,
    LogId,
    MobileForward,
    PolicyViolation,
    PromptNotPlayed,
    emit,
)
from routing.policy import spoken_swedish
from routing.policy.call import Call, Event, EventKind, caller_number
from routing.policy.decision_inputs import DecisionInputs, ObservedState
from routing.policy.directory import Directory
from routing.policy.flow import Ending, Flow, FlowError
from routing.policy.planner import Plan, plan_call
from routing.policy.ring_limit import rings_heard
from routing.policy.state import RoutingState
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
from routing.policy.violations import Violation, overlong_ring, unanswered
from routing.service import dialplan_variables as v
from routing.service import step_codec
from routing.service.call_resume import CallResumer, NotResumed
from routing.service.device_states import DeviceStates
from routing.service.prompts import Prompts
from routing.service.referrals import ReferralSource
from routing.store.base import StoreError
from routing.store.io import store_io


class CallbackStore(Protocol):
    def add_callback(self, *, call_id: str, caller: str, target: str, at: datetime) -> int: ...


log = structlog.get_logger("routing.calls")
T = TypeVar("T")

QUEUE_LEASE_S = 4.0  # the switchboard's lease on a caller in its queue (#13, R3): see docs/switchboard.md
FORGET_AFTER = timedelta(hours=8)  # a call whose hangup never reached us is dropped after this


def now_local() -> datetime:
    return datetime.now().astimezone()


@dataclass
class ActiveCall:
    call_id: str
    flow: Flow
    state: RoutingState
    started: datetime
    step_started: datetime
    channel: str = ""  # the caller's channel in Asterisk, for actions on the live call
    prompt: str = ""  # what the current message or offer step asked Asterisk to play
    registered_at: float = 0.0  # the event loop's clock when the call began (not the policy clock)
    ended: bool = False
    log: Any = field(default=None)
    # What happened so far, in words for the switchboard's operators ("Anna Lindqvist (5001): no
    # answer after 5 signals"): shown beside the call in the queue (#13).
    history: list[str] = field(default_factory=list)


class CallRouter:
    def __init__(
        self,
        directory: Directory,
        referrals: ReferralSource,
        prompts: Prompts,
        *,
        progress_timeout_s: float = 5.0,
        clock: Callable[[], datetime] = now_local,
        callbacks: CallbackStore | None = None,
        device_states: DeviceStates | None = None,
        instance: str = "",
        on_hangup: Callable[[str], None] | None = None,
        resumer: CallResumer | None = None,
    ) -> None:
        """`on_hangup(uniqueid)`: every caller's hangup, known call or not (the switchboard
        forgets its callers so). `resumer`: goes on with a call another instance was routing
        (#17); without it such a call takes the fail-safe."""
        self._resumer = resumer
        self.directory = directory
        self.on_hangup = on_hangup
        self._instance = instance  # this service's id: a call it leaves open is ended by another
        self._referrals = referrals
        self._callbacks = callbacks
        self._device_states = device_states
        self._prompts = prompts
        self._progress_timeout_s = progress_timeout_s
        self._clock = clock
        self.calls: dict[str, ActiveCall] = {}
        self.draining = False  # stopping: new calls go to the dialplan's fail-safe

    async def __call__(self, request: AgiRequest) -> Mapping[str, str]:
        args = request.args
        script = request.script
        if script == v.SCRIPT_STEP:
            event = _arg(args, v.ARG_EVENT)
            if event == "start":
                return await self._start(request)
            return await self._next(request, event, _arg(args, v.ARG_DETAIL))
        if script == v.SCRIPT_ANSWERED:
            # The dialplan reports an answer over AMI now (UserEvent RoutingAnswered); a
            # dialplan installed before that still asks here, and is served the same.
            self.answered(_arg(args, 0), request.channel)
            return {}
        if script == v.SCRIPT_HANGUP:
            if request.uniqueid not in self.calls and not self.draining:  # another instance was routing it (#17)
                await self._resumed(request, "hangup")
            self._hangup(request.uniqueid, _arg(args, v.ARG_DETAIL))
            return {}
        log.warning(LogId.AGI_UNKNOWN_SCRIPT, script=script)
        return step_codec.FAILSAFE

    # -- the dialplan's requests -------------------------------------------------------------

    async def _start(self, request: AgiRequest) -> Mapping[str, str]:
        if self.draining:
            emit(log, CallRefusedDraining(channel=request.channel))
            return step_codec.FAILSAFE
        self._forget_lost_calls()
        now = self._clock()
        caller = caller_number(request.get("agi_callerid"), _arg(request.args, v.ARG_CALLERPRES))
        internal = _arg(request.args, v.ARG_INTERNAL) == "1"
        call_id = _arg(request.args, v.ARG_LINKEDID) or request.uniqueid
        call = Call(request.get("agi_extension"), caller, internal, now)
        directory = self.directory  # one config for the plan and the inputs kept with it (a reload may swap it)
        state = ObservedState.watching(await self.routing_state())
        plan = plan_call(directory, state, call)
        inputs = DecisionInputs.of(call, state, directory.config.source_hash)
        flow = Flow(plan)
        active = ActiveCall(
            call_id,
            flow,
            state,
            now,
            now,
            channel=request.channel,
            registered_at=asyncio.get_running_loop().time(),
            log=log.bind(call_id=call_id),
        )
        self.calls[request.uniqueid] = active
        emit(
            active.log,
            CallStart(
                called=call.called,
                caller=caller,
                hidden=caller is None,
                internal=internal,
                target_kind=plan.target_kind,
                target=plan.target,
                unit=_unit_of(self.directory, plan),
                hours=plan.open_state.value,
                channel=request.channel,
                instance=self._instance or None,
                notes=list(plan.notes) or None,
                config=inputs.config or None,
                inputs=inputs.to_fields(),
            ),
        )
        return await self._issue(active, flow.start())

    async def routing_state(self) -> RoutingState:
        """What a decision is made from now: the referrals in force and the phones Asterisk
        reports unregistered or in a call (for a call's plan, and a switchboard's transfer)."""
        try:
            state = await store_io(self._referrals, self._referrals.snapshot)
        except StoreError as exc:
            # The store is unreadable: route without referrals rather than not at all.
            log.error(exc.log_id, error=str(exc), what="referrals unknown for this decision")
            state = RoutingState()
        if self._device_states is not None:
            state = replace(
                state,
                unavailable_devices=self._device_states.unavailable(),
                busy_devices=self._device_states.busy(),
            )
        return state

    async def _next(self, request: AgiRequest, event: str, detail: str) -> Mapping[str, str]:
        active = self.calls.get(request.uniqueid) or await self._resumed(request, event)
        if active is None:
            # Neither this instance nor the store knows the call well enough to go on with it:
            # Asterisk's own fail-safe finishes it rather than the caller hearing nothing.
            return step_codec.FAILSAFE
        step = active.flow.step
        if step is None or isinstance(step, Finish):
            return step_codec.finish_variables(step) if isinstance(step, Finish) else step_codec.FAILSAFE
        now = self._clock()
        try:
            engine_event, rang_s = step_codec.event_for(step, event, detail, active.step_started, now)
        except step_codec.DialplanResultError as exc:
            active.log.error(exc.log_id, error=str(exc), dialplan_event=event, detail=detail)
            engine_event, rang_s = Event(EventKind.FAILED, now), None
        return await self._feed(active, step, engine_event, rang_s, detail)

    async def _resumed(self, request: AgiRequest, event: str) -> ActiveCall | None:
        """A call this instance does not know: another instance was routing it and did not answer
        the dialplan (#17). Go on with it from the shared store, or None (logged why)."""
        place = _arg(request.args, v.ARG_PLACE)
        if self._resumer is None:
            # The service restarted mid-call, or the dialplan skipped the start.
            emit(log, CallUnknown(uniqueid=request.uniqueid, dialplan_event=event))
            return None
        call_id = _arg(request.args, v.ARG_LINKEDID)
        try:
            if self.draining:
                raise NotResumed("this instance is stopping")
            resumed = await self._resumer.resume(call_id, place, self._clock())
        except NotResumed as exc:
            if exc.ended and event == "hangup":
                return None  # its end is logged already: the hangup changes nothing
            emit(
                log.bind(call_id=call_id or None),
                CallNotResumed(uniqueid=request.uniqueid, dialplan_event=event, place=place, why=str(exc)),
            )
            return None
        active = ActiveCall(
            call_id,
            resumed.flow,
            resumed.state,
            resumed.started,
            resumed.step_started,
            channel=request.channel,
            registered_at=asyncio.get_running_loop().time(),
            log=log.bind(call_id=call_id),
        )
        self.calls[request.uniqueid] = active
        step = resumed.flow.step
        emit(
            active.log,
            CallResumed(
                place=place,
                step=step.kind.value if step is not None and not isinstance(step, Finish) else "",
                dialplan_event=event,
                from_instance=resumed.from_instance,
                instance=self._instance or None,
            ),
        )
        return active

    def answered(self, uniqueid: str, channel: str, linkedid: str | None = None, *, by: str | None = None) -> None:
        """A device answered the call whose caller's channel is `uniqueid`; `channel` is the
        answering one. Reported as it happens (AMI UserEvent RoutingAnswered from Dial's U(),
        or the FastAGI script `answered`), so the log and the store have the answer while the
        conversation goes on; a report that comes after the call's end, or that names another
        call (`linkedid`), changes nothing. `by`: who answered, where the step does not say (an
        operator taking a call from the switchboard's queue, #13)."""
        active = self.calls.get(uniqueid)
        if active is None or not isinstance(active.flow.step, Ring | Queue):
            return
        if linkedid is not None and linkedid != active.call_id:
            return
        now = self._clock()
        step = active.flow.step
        if isinstance(step, Queue):
            wait = (now - active.started).total_seconds()
            emit(active.log, CallAnswered(by=by or step.target, step=step.kind.value, wait_s=round(wait, 3), rings=0))
            active.flow.feed(Event(EventKind.ANSWERED, now, by=by))
            return
        self._log_mobile_forward(active, step, channel)
        self._record_ring_result(
            active, step, Event(EventKind.ANSWERED, now), (now - active.step_started).total_seconds()
        )
        active.flow.feed(Event(EventKind.ANSWERED, now))

    def _log_mobile_forward(self, active: ActiveCall, step: Ring, channel: str) -> None:
        if step.mobile is not None and channel.startswith(step_codec.MOBILE_LEG):
            # R14/R20: the call went on to the approved mobile (after the key press): a cost.
            emit(active.log, MobileForward(person=step.target, rules=["R14", "R20"]))

    def _hangup(self, uniqueid: str, detail: str) -> None:
        if self.on_hangup is not None:
            self.on_hangup(uniqueid)
        active = self.calls.pop(uniqueid, None)
        if active is None:
            return
        now = self._clock()
        step = active.flow.step
        if step is not None and not isinstance(step, Finish):
            event = Event(EventKind.HANGUP, now)
            rang_s: float | None = None
            if isinstance(step, Ring):
                dialled, rang_s = step_codec.dial_result(detail, active.step_started, now)
                if dialled.kind is EventKind.ANSWERED:
                    # Answered, and the report from Dial's U() did not reach us before the end
                    # (AMI down, or a short call): the hangup carries the answer and who took it.
                    event = dialled
                    self._log_mobile_forward(active, step, step_codec.answering_channel(detail))
                self._record_ring_result(active, step, event, rang_s)
            active.flow.feed(event)
        self._end(active, now, Ending.HANGUP)

    # -- engine steps and their log lines ----------------------------------------------------

    async def _feed(
        self, active: ActiveCall, step: Step, event: Event, rang_s: float | None, detail: str = ""
    ) -> Mapping[str, str]:
        if isinstance(step, Ring):
            self._record_ring_result(active, step, event, rang_s)
        elif isinstance(step, Queue):
            self._record_queue_result(active, step, event)
        elif isinstance(step, Message | CallbackOffer):
            self._record_message_result(active, step, event, detail)
        try:
            following = active.flow.feed(event)
        except FlowError as exc:
            active.log.error(exc.log_id, error=str(exc))
            following = active.flow.feed(Event(EventKind.FAILED, event.at))
        if (
            isinstance(step, CallbackOffer)
            and active.flow.reached is Outcome.CALLBACK
            and event.kind is EventKind.DIGIT
        ):
            await self._book_callback(active, step, event.at)
        return await self._issue(active, following)

    async def _book_callback(self, active: ActiveCall, offer: CallbackOffer, at: datetime) -> None:
        """R4: the caller asked to be called back; the store keeps it until someone does."""
        caller = active.flow.plan.call.caller or ""
        callback_id: int | None = None
        if self._callbacks is not None:
            try:
                callback_id = await store_io(
                    self._callbacks,
                    partial(
                        self._callbacks.add_callback, call_id=active.call_id, caller=caller, target=offer.target, at=at
                    ),
                )
            except StoreError as exc:
                active.log.error(exc.log_id, error=str(exc), what="callback not stored")
        emit(active.log, CallbackRequested(target=offer.target, caller=caller, callback_id=callback_id))

    async def _issue(self, active: ActiveCall, step: Step) -> Mapping[str, str]:
        active.step_started = self._clock()
        if isinstance(step, Finish):
            return step_codec.finish_variables(step)
        place = active.flow.place
        # The place first: the dialplan acts on ACTION, the last variable, once the rest is set.
        return {v.PLACE: place, **await self._step_variables(active, step, place)}

    async def _step_variables(self, active: ActiveCall, step: PlannedStep, place: str) -> Mapping[str, str]:
        """The step's channel variables; its call.step line is logged."""
        logged = CallStep(step=step.kind.value, target=step.target, rules=list(step.rules), place=place)
        if isinstance(step, Queue):
            logged = replace(logged, timeout_s=step.timeout_s)
            emit(active.log, logged)
            return step_codec.queue_variables(step, active.flow.plan.call.called, QUEUE_LEASE_S)
        if isinstance(step, Ring):
            logged = replace(logged, devices=list(step.devices), timeout_s=step.timeout_s)
            guard = ""
            if step.mobile is not None:
                person = self.directory.people.get(step.target)
                guard_text = spoken_swedish.mobile_guard(person.name if person else step.target)
                guard = await self._prompts.path_for(None, guard_text)
            variables = step_codec.ring_variables(step, self._progress_timeout_s, guard)
        elif isinstance(step, Voicemail):
            logged = replace(logged, mailbox=step.mailbox)
            variables = step_codec.voicemail_variables(step)
        elif isinstance(step, CallbackOffer):
            active.prompt = await self._prompts.path_for(None, step.text)
            variables = step_codec.offer_variables(step, active.prompt)
        else:
            assert isinstance(step, Message)
            active.prompt = await self._prompts.path_for(step.prompt, step.text)
            logged = replace(logged, prompt=active.prompt)
            variables = step_codec.play_variables(step, active.prompt)
        emit(active.log, logged)
        return variables

    def _record_message_result(
        self, active: ActiveCall, step: Message | CallbackOffer, event: Event, detail: str
    ) -> None:
        """Only what Asterisk played counts: a referral is logged as told once it was played; a
        message Asterisk could not play is an error, and the flow takes back its answer."""
        if event.kind is EventKind.FAILED:
            status = detail.partition("/")[0] or "unknown"
            emit(
                active.log,
                PromptNotPlayed(
                    step=step.kind.value,
                    target=step.target,
                    prompt=active.prompt,
                    status=status,
                    rules=list(step.rules),
                ),
            )
        elif isinstance(step, Message) and step.kind is StepKind.REFERRAL:
            self._log_referral(active, step)

    def _log_referral(self, active: ActiveCall, step: Message) -> None:
        local = self.directory.calendar.local(active.flow.plan.call.at)
        referral = active.state.referral(step.target, local)
        if referral is not None:
            until = referral.until.isoformat() if referral.until is not None else None
            emit(active.log, CallReferral(person=step.target, reason=referral.reason.value, until=until))
            back = f", back {until}" if until else ""
            active.history.append(
                f"{self.directory.label(step.target)}: referral heard ({referral.reason.value}{back})"
            )

    def _record_queue_result(self, active: ActiveCall, step: Queue, event: Event) -> None:
        """The queue's timeout ran out (R1: no answer), or it could not be served (its fallback,
        the switchboard's phones, rings next)."""
        waited = (event.at - active.step_started).total_seconds()
        if event.kind is EventKind.NO_ANSWER:
            rings = rings_heard(waited, self.directory.config.ring.ring_period_s)
            emit(active.log, CallNoAnswer(target=step.target, rings=rings, rang_s=round(waited, 3)))
            active.history.append(f"the switchboard's queue: nobody answered within {step.timeout_s:g} s")
        elif event.kind is EventKind.FAILED:
            emit(active.log, CallUnavailable(target=step.target, status="queue_unserved"))

    def _record_ring_result(self, active: ActiveCall, step: Ring, event: Event, rang_s: float | None) -> None:
        period = self.directory.config.ring.ring_period_s
        rang = rang_s if rang_s is not None else (event.at - active.step_started).total_seconds()
        rings = rings_heard(rang, period)
        if event.kind is EventKind.ANSWERED:
            wait = (event.at - active.started).total_seconds()
            emit(active.log, CallAnswered(by=step.target, step=step.kind.value, wait_s=round(wait, 3), rings=rings))
        elif event.kind is EventKind.NO_ANSWER:
            emit(active.log, CallNoAnswer(target=step.target, rings=rings, rang_s=round(rang, 3)))
            active.history.append(f"{self.directory.label(step.target)}: no answer after {rings} signals")
        elif event.kind is EventKind.BUSY:
            emit(active.log, CallBusy(target=step.target))
            active.history.append(f"{self.directory.label(step.target)}: busy")
        elif event.kind in (EventKind.UNAVAILABLE, EventKind.FAILED):
            emit(active.log, CallUnavailable(target=step.target, status=event.kind.value))
            active.history.append(f"{self.directory.label(step.target)}: not reachable")
        _log_violation(active.log, overlong_ring(step, rang))

    def _end(self, active: ActiveCall, now: datetime, how: Ending) -> None:
        """The call's one call.end; the flow says what its ending means (Flow.end)."""
        if active.ended:
            return
        active.ended = True
        finish = active.flow.end(how, now)
        emit(
            active.log,
            CallEnd(
                outcome=finish.outcome,
                wait_s=round(finish.wait_s, 3) if finish.wait_s is not None else None,
                by=finish.by,
                duration_s=round((now - active.started).total_seconds(), 3),
                lost=how is not Ending.HANGUP,
            ),
        )
        _log_violation(active.log, unanswered(finish, how))

    def forget_gone_channels(self, live: set[str], asked_at: float) -> None:
        """Calls whose channel Asterisk no longer has (it restarted) end now, once; calls begun
        after the channel list was asked for are left alone."""
        now = self._clock()
        for uniqueid, active in list(self.calls.items()):
            if active.channel and active.channel not in live and active.registered_at < asked_at:
                del self.calls[uniqueid]
                self._end_unless_gone_elsewhere(active, now, Ending.CUT_OFF)

    def let_go(self) -> None:
        """The service stops: every call still in progress gets its call.end now (marked lost);
        Asterisk's fail-safe finishes them, and a later service ignores their hangup."""
        now = self._clock()
        for uniqueid, active in list(self.calls.items()):
            del self.calls[uniqueid]
            self._end_unless_gone_elsewhere(active, now, Ending.LET_GO)

    def hand_over(self) -> int:
        """The service stops while another instance runs (#17): the calls in progress are left
        open in the store, without a call.end here; the other instance goes on with each at its
        next request to the dialplan (or its orphan sweep ends it). Returns how many."""
        handed = len(self.calls)
        self.calls.clear()
        return handed

    def _forget_lost_calls(self) -> None:
        """Calls whose hangup never reached the service (it was down then) end in the log."""
        now = self._clock()
        for uniqueid, active in list(self.calls.items()):
            if now - active.started > FORGET_AFTER:
                del self.calls[uniqueid]
                self._end_unless_gone_elsewhere(active, now, Ending.LET_GO)

    def _end_unless_gone_elsewhere(self, active: ActiveCall, now: datetime, how: Ending) -> None:
        """An ending that is not the caller's hangup: a call another instance took over (#17) or
        ended has its call.end there, not here."""
        if self._resumer is not None and self._resumer.gone_elsewhere(active.call_id):
            active.log.info(LogId.CALL_GONE_ELSEWHERE, how=how.value)
            return
        self._end(active, now, how)


def _unit_of(directory: Directory, plan: Plan) -> str | None:
    """The unit a call counts for in reports: the unit called, or the person's or phone's unit."""
    if plan.target_kind == "unit":
        return plan.target
    if plan.target_kind == "person":
        return directory.people[plan.target].unit
    if plan.target_kind == "phone":
        return directory.phones[plan.target].unit
    return None


def _log_violation(logger: Any, violation: Violation | None) -> None:
    if violation is not None:
        emit(logger, PolicyViolation(rule=violation.rule, detail=violation.detail))


def _arg(args: tuple[str, ...], index: int) -> str:
    return args[index] if index < len(args) else ""
