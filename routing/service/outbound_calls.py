"""The FastAGI handler for calls out from the municipality's phones (R17, R18)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import structlog

from routing.agi.protocol import AgiRequest
from routing.calllog.events import CallPrivate, OutboundBlocked, OutboundDial, emit
from routing.policy import spoken_swedish
from routing.policy.directory import Directory
from routing.policy.outbound import Refused, decide_outbound
from routing.service import dialplan_variables as v
from routing.service.prompts import Prompts

log = structlog.get_logger("routing.outbound")


class OutboundCalls:
    def __init__(self, directory: Callable[[], Directory], prompts: Prompts) -> None:
        self._directory = directory
        self._prompts = prompts

    async def __call__(self, request: AgiRequest) -> Mapping[str, str]:
        dialled = request.args[0] if request.args else ""
        extension = request.args[1] if len(request.args) > 1 else ""
        linkedid = request.args[2] if len(request.args) > 2 else request.uniqueid
        bound = log.bind(call_id=linkedid)
        decision = decide_outbound(dialled, extension, self._directory())
        if isinstance(decision, Refused):
            emit(
                bound,
                OutboundBlocked(
                    extension=extension,
                    dialled=dialled,
                    rule=decision.rule,
                    reason=decision.reason,
                    premium_rate=decision.premium_rate,
                ),
            )
            refusal = spoken_swedish.PREMIUM_RATE_REFUSED if decision.premium_rate else spoken_swedish.NOT_A_NUMBER
            prompt = await self._prompts.path_for(None, refusal)
            return {v.PROMPT: prompt, v.ACTION: v.REFUSE}
        if decision.private:
            emit(bound, CallPrivate(extension=extension, dialled=decision.number))
        emit(bound, OutboundDial(extension=extension, dialled=decision.number, rules=list(decision.rules)))
        return {
            v.DIAL: decision.dial,
            v.USERFIELD: "private" if decision.private else "",
            v.ACTION: v.DIAL_OUT,
        }
