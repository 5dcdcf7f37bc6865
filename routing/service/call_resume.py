"""Going on with a call another instance was routing (#17).

The dialplan asks the standby when the instance routing a call does not answer (killed, its host
gone), and sends the call's place in its plan (ROUTING_PLACE, set by the service with every
step). The call's kept inputs and config hash are on its `call.start` in the shared store (#16):
the plan made again from them is the plan the call had (the planner is pure), and the flow
resumes at the place with the R2 answers the caller already had (`Flow.resume`). The call's
logged steps date those answers, and are checked against the plan made again: a call whose
steps do not follow it is not resumed, and takes the fail-safe.

The call is then taken over in the store's `open_calls` (`Store.claim_call`), so that its one `call.end` is this
instance's and no orphan sweep ends it too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Protocol

from routing.calllog.events import CallEnd, CallStep, PromptNotPlayed
from routing.config.errors import ConfigError
from routing.config.load import load_config_text
from routing.policy.decision_inputs import DecisionInputs, ObservedState, replan
from routing.policy.directory import Directory
from routing.policy.flow import Flow
from routing.policy.steps import Finish
from routing.store.base import StoredEvent, StoreError, call_start
from routing.store.io import store_io

KEPT_DIRECTORIES = 4  # configs of calls planned before a reload, made into directories once each


class CallHistory(Protocol):
    def call_events(self, call_id: str) -> list[StoredEvent]: ...
    def config_version(self, config_hash: str) -> str | None: ...
    def call_owner(self, call_id: str) -> tuple[bool, str | None]: ...
    def claim_call(self, call_id: str, *, from_instance: str, to_instance: str) -> bool: ...


class NotResumed(Exception):
    """Why a call cannot be resumed here; the fail-safe finishes it. Log id: call.not_resumed.
    `ended`: the call has its call.end already (nothing is left to do for its hangup)."""

    log_id = "call.not_resumed"

    def __init__(self, why: str, *, ended: bool = False) -> None:
        super().__init__(why)
        self.ended = ended


@dataclass(frozen=True)
class Resumed:
    flow: Flow
    state: ObservedState  # the referrals and phones its plan was made from
    started: datetime
    step_started: datetime  # when the current step began (as logged), or now
    from_instance: str = ""


def resumed_flow(directory: Directory, events: Sequence[StoredEvent], place: str, now: datetime) -> Resumed:
    """Pure: the flow of the call whose stored events these are, at `place`, under `directory`
    (the config the call was planned under). NotResumed says why not."""
    start = call_start(events)
    if start is None:
        raise NotResumed("its call.start is not in the store")
    if any(isinstance(e.event, CallEnd) for e in events):
        raise NotResumed("it has ended already", ended=True)
    if start.inputs is None:
        raise NotResumed("its call.start keeps no inputs (planned by a release before #16)")
    try:
        inputs = DecisionInputs.from_fields(start.called, start.config or "", start.inputs)
    except (KeyError, TypeError, ValueError) as exc:
        raise NotResumed(f"its kept inputs cannot be read: {exc}") from None
    plan = replan(directory, inputs).plan
    began: dict[str, datetime] = {}
    logged: list[CallStep] = []
    unheard: set[str] = set()
    for stored in events:
        event = stored.event
        if isinstance(event, CallStep) and event.place is not None:
            began.setdefault(event.place, datetime.fromisoformat(stored.at))
            logged.append(event)
        elif isinstance(event, PromptNotPlayed) and logged and logged[-1].place is not None:
            unheard.add(logged[-1].place)

    def began_at(at_place: str) -> datetime:
        return began.get(at_place, now)

    try:
        for step in logged:  # the steps the other instance gave are this plan's, at their places
            assert step.place is not None
            planned = Flow.resume(plan, step.place, began_at).step
            if isinstance(planned, Finish | None) or (planned.kind.value, planned.target) != (step.step, step.target):
                raise NotResumed(f"its logged step {step.step} {step.target} at {step.place} is not the plan's")
        flow = Flow.resume(plan, place, began_at, unheard)
    except ValueError as exc:
        raise NotResumed(str(exc)) from None
    return Resumed(flow, inputs.state(), inputs.at, began_at(place))


class CallResumer:
    """Reads a call's history from the shared store and takes the call over (off the event loop
    when the store is a network away)."""

    def __init__(self, history: CallHistory, instance: str, directory: Callable[[], Directory]) -> None:
        self._history = history
        self._instance = instance
        self._directory = directory
        self._kept: dict[str, Directory] = {}

    async def resume(self, call_id: str, place: str, now: datetime) -> Resumed:
        if not call_id or not place:
            raise NotResumed("the dialplan sent no call id or place (a dialplan from before #17)")
        try:
            events = await store_io(self._history, partial(self._history.call_events, call_id))
            start = call_start(events)
            directory = await self._directory_of(start.config if start is not None else None)
            resumed = resumed_flow(directory, events, place, now)
            # Taken over from the instance that has it, as the orphan sweep claims a call.
            _, owner = await store_io(self._history, partial(self._history.call_owner, call_id))
            if owner is None or owner == self._instance:
                raise NotResumed("it is not open in the store (it ended, or this instance has it already)")
            claim = partial(self._history.claim_call, call_id, from_instance=owner, to_instance=self._instance)
            if not await store_io(self._history, claim):
                raise NotResumed(f"another instance took it over from {owner} first")
        except StoreError as exc:
            raise NotResumed(f"the store cannot be read: {exc}") from None
        return replace(resumed, from_instance=owner)

    def gone_elsewhere(self, call_id: str) -> bool:
        """Whether a call this instance still holds in memory is no longer its own: another
        instance took it over (the dialplan asked it while this one did not answer in time) or
        ended it. Its call.end is not this instance's to log. A call whose start is not stored
        is this instance's alone. A store read: for the rare endings that are not a hangup."""
        try:
            started, owner = self._history.call_owner(call_id)
        except StoreError:
            return False  # unknown: logged as this instance's (at worst a second call.end)
        return started and owner != self._instance

    async def _directory_of(self, config_hash: str | None) -> Directory:
        current = self._directory()
        if not config_hash or config_hash == current.config.source_hash:
            return current
        kept = self._kept.get(config_hash)
        if kept is not None:
            return kept
        text = await store_io(self._history, partial(self._history.config_version, config_hash))
        if text is None:
            raise NotResumed(f"the config it was planned under ({config_hash}) is not in the store")
        try:
            # A municipality's config takes a second or two to read: not on the event loop.
            directory = await asyncio.to_thread(_directory_of_text, text, config_hash)
        except ConfigError as exc:
            raise NotResumed(f"the config it was planned under ({config_hash}) is not valid here: {exc}") from None
        if len(self._kept) >= KEPT_DIRECTORIES:
            self._kept.pop(next(iter(self._kept)))
        self._kept[config_hash] = directory
        return directory


def _directory_of_text(text: str, config_hash: str) -> Directory:
    return Directory.from_config(load_config_text(text, f"<stored config {config_hash}>"))
