"""The FastAGI handler for messages outside a routed call that Asterisk could not play: a
refusal of a call out (R18) or a feature code's confirmation (R11). The dialplan then plays
Asterisk's own sound instead; the service logs what the caller did not hear."""

from __future__ import annotations

from collections.abc import Mapping

import structlog

from routing.agi.protocol import AgiRequest
from routing.calllog.events import PromptNotPlayed, emit

log = structlog.get_logger("routing.prompts")

_RULES = {"outbound": ["R18"], "feature": ["R11"]}


async def not_played(request: AgiRequest) -> Mapping[str, str]:
    what, extension, prompt, status, linkedid = (*request.args, "", "", "", "", "")[:5]
    emit(
        log.bind(call_id=linkedid or request.uniqueid),
        PromptNotPlayed(
            step=what or "unknown",
            target=extension,
            prompt=prompt,
            status=status or "unknown",
            rules=_RULES.get(what, []),
        ),
    )
    return {}
