"""`routing callbacks call ID --from EXTENSION` (R4): ring the employee's phone first; once it
is answered, Asterisk calls the caller and connects them. The outcome is recorded.

Asterisk does the calling (AMI Originate into the dialplan's routing-callback context); the
result comes back as AMI events: OriginateResponse (the employee's phone was not answered)
or the UserEvent RoutingCallback with the caller leg's DIALSTATUS.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import partial

import structlog
from panoramisk.message import Message

from routing.ami.client import AmiClient
from routing.calllog.events import CallbackAttempt, CallbackCalling, emit
from routing.policy.call import EventKind
from routing.policy.directory import Directory
from routing.service.step_codec import dial_status
from routing.store.base import Callback, Store
from routing.store.io import store_io

log = structlog.get_logger("routing.callbacks")

WAIT_FOR_RESULT_S = 90.0  # the caller's phone rings at most 60 s once the employee answered


class CallbackOutcome(StrEnum):
    """What became of one attempt (`callback.attempt` outcome); only ANSWERED makes it done."""

    ANSWERED = "answered"
    EMPLOYEE_NO_ANSWER = "employee_no_answer"  # the employee's phone was not answered: nobody was called
    EMPLOYEE_HUNG_UP = "employee_hung_up"  # while the caller's phone rang
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    UNAVAILABLE = "unavailable"
    FAILED = "failed"


# The caller leg's DIALSTATUS, read as the calls' own Dial is (step_codec.dial_status).
_CALLER_LEG = {
    EventKind.ANSWERED: CallbackOutcome.ANSWERED,
    EventKind.BUSY: CallbackOutcome.BUSY,
    EventKind.NO_ANSWER: CallbackOutcome.NO_ANSWER,
    EventKind.UNAVAILABLE: CallbackOutcome.UNAVAILABLE,
    EventKind.HANGUP: CallbackOutcome.EMPLOYEE_HUNG_UP,
}


@dataclass(frozen=True)
class CallbackResult:
    outcome: CallbackOutcome
    done: bool


async def call_back(
    callback: Callback,
    *,
    device: str,
    by: str,
    directory: Directory,
    store: Store,
    ami: AmiClient,
    now: datetime,
) -> CallbackResult:
    """Ring `device` (the employee's or operator's phone), then the caller; record the attempt
    (`by`: who called back, e.g. an extension or `operator:<id>`). Safe on the service's
    long-lived AMI link: its listener is removed once the answer is in, and the store is written
    off the event loop where the store is a round trip away (store_io)."""
    exten = f"cb{callback.id}"
    result: asyncio.Future[CallbackOutcome] = asyncio.get_running_loop().create_future()

    def on_event(message: Message) -> None:
        if (
            not result.done()
            and message.get("UserEvent") == "RoutingCallback"
            and message.get("Id") == str(callback.id)
        ):
            status = dial_status(str(message.get("Status", "")))
            result.set_result(_CALLER_LEG.get(status, CallbackOutcome.FAILED))

    stop_listening = ami.on_event("UserEvent", on_event)
    try:
        calling = CallbackCalling(
            callback_id=callback.id, target=callback.target, by=by, device=device, caller=callback.caller
        )
        emit(log, calling)
        response = await ami.originate(
            device,
            context="routing-callback",
            exten=exten,
            caller_id=f'"Återuppringning" <{callback.caller}>',
            variables={
                "ROUTING_CALLBACK_ID": str(callback.id),
                "ROUTING_CALLBACK_DIAL": directory.config.outbound.trunk.replace("{number}", callback.caller),
            },
            timeout_ms=int(directory.ring_timeout_s * 1000),
        )
        if response is None or response.get("Response") != "Success":
            outcome = CallbackOutcome.EMPLOYEE_NO_ANSWER
        else:
            try:
                outcome = await asyncio.wait_for(result, WAIT_FOR_RESULT_S)
            except TimeoutError:
                outcome = CallbackOutcome.FAILED
    finally:
        stop_listening()
    await store_io(store, partial(store.record_attempt, callback.id, at=now, outcome=outcome.value))
    done = outcome is CallbackOutcome.ANSWERED and await store_io(
        store, partial(store.mark_done, callback.id, at=now, by=by)
    )
    emit(log, CallbackAttempt(callback_id=callback.id, target=callback.target, by=by, outcome=outcome.value, done=done))
    return CallbackResult(outcome, done)
