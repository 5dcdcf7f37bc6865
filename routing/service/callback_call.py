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

import structlog
from panoramisk.message import Message

from routing.ami.client import AmiClient
from routing.policy.directory import Directory
from routing.store.base import Callback, Store

log = structlog.get_logger("routing.callbacks")

WAIT_FOR_RESULT_S = 90.0  # the caller's phone rings at most 60 s once the employee answered


@dataclass(frozen=True)
class CallbackResult:
    outcome: str  # answered | employee_no_answer | busy | no_answer | unavailable | failed
    done: bool


_DIALSTATUS = {
    "ANSWER": "answered",
    "BUSY": "busy",
    "NOANSWER": "no_answer",
    "CHANUNAVAIL": "unavailable",
    "CONGESTION": "unavailable",
    "CANCEL": "employee_hung_up",
}


def device_of(directory: Directory, extension: str) -> str | None:
    if extension in directory.by_extension:
        return directory.by_extension[extension].device
    if extension in directory.phones:
        return directory.phones[extension].device
    if extension == directory.config.switchboard.extension:
        return directory.config.switchboard.device
    return None


async def call_back(
    callback: Callback,
    from_extension: str,
    *,
    directory: Directory,
    store: Store,
    ami: AmiClient,
    now: datetime,
) -> CallbackResult:
    device = device_of(directory, from_extension)
    if device is None:
        raise ValueError(f"no phone has the extension {from_extension}")
    exten = f"cb{callback.id}"
    result: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_event(message: Message) -> None:
        if (
            not result.done()
            and message.get("UserEvent") == "RoutingCallback"
            and message.get("Id") == str(callback.id)
        ):
            result.set_result(_DIALSTATUS.get(str(message.get("Status", "")).upper(), "failed"))

    ami.on_event("UserEvent", on_event)
    bound = log.bind(callback_id=callback.id, target=callback.target, by=from_extension)
    bound.info("callback.calling", device=device, caller=callback.caller)
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
        outcome = "employee_no_answer"  # the employee's phone was not answered: nobody was called
    else:
        try:
            outcome = await asyncio.wait_for(result, WAIT_FOR_RESULT_S)
        except TimeoutError:
            outcome = "failed"
    store.record_attempt(callback.id, at=now, outcome=outcome)
    done = outcome == "answered" and store.mark_done(callback.id, at=now, by=from_extension)
    bound.info("callback.attempt", outcome=outcome, done=done)
    return CallbackResult(outcome, done)
