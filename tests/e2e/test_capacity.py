"""Capacity per routed call (#12 item 9), end to end: how many FastAGI connections a call costs
Asterisk, with nothing lost of what the log records. An answered call asks the service twice
(the first step, and the hangup, which also carries the Dial's result), whoever hangs up first;
the answer itself reaches the service as an AMI UserEvent while the conversation goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from tests.e2e.harness import (
    E2E_PHONES,
    Ami,
    AmiLogin,
    CallerCall,
    RunningService,
    agi_requests,
    finish,
    municipality,
)

pytestmark = [pytest.mark.e2e]

Routing = Callable[..., Awaitable[RunningService]]


def fastagi_scripts(call: CallerCall) -> list[str]:
    """The script of every FastAGI request any channel of the call made, in order (the
    caller's steps and hangup handler, and anything run on a dialled phone's channel)."""
    return [
        e["AppData"].split(",", 1)[0].rsplit("/", 1)[-1]
        for e in call.events()
        if e.name == "Newexten" and e["Application"] == "AGI"
    ]


async def talking_phone(ami: Ami) -> str:
    """[e2e-phones] talk-<x>: rings 1 s, answers, talks 1 s, hangs up (the phone ends the call)."""
    await ami.add_dialplan(
        E2E_PHONES,
        "_talk-.",
        [("Ringing", ""), ("Wait", "1"), ("Answer", ""), ("Wait", "1"), ("Hangup", "")],
    )
    return f"Local/talk-soc1@{E2E_PHONES}"


async def test_12_an_answered_call_asks_the_service_twice_and_the_answer_is_logged_as_it_happens(
    routing: Routing, ami_login: AmiLogin
) -> None:
    svc = await routing(municipality(soc1="answer1"), ami_login=ami_login)  # its own AMI link
    assert svc.service.link is not None
    await asyncio.wait_for(svc.service.link.synced.wait(), 15)
    call = await svc.call("5001")
    answered = await svc.log.wait_for(call.call_id, "call.answered", timeout=10)
    assert (answered["by"], answered["step"], answered["rings"]) == ("soc1", "person", 1)
    await asyncio.sleep(1.0)  # a second of conversation: the answer is in the log, the end is not
    assert svc.log.for_call(call.call_id, "call.end") == []
    await call.hang_up()
    end = await finish(svc, call, "answered", by="soc1")

    assert fastagi_scripts(call) == ["step", "hangup"]
    assert svc.log.names(call.call_id) == ["call.start", "call.step", "call.answered", "call.end"]
    assert end["wait_s"] == answered["wait_s"]
    assert [e["UserEvent"] for e in call.events() if e.name == "UserEvent"] == ["RoutingAnswered"]


async def test_12_when_the_phone_hangs_up_the_hangup_handler_reports_the_dial_and_the_end_at_once(
    routing: Routing, ami: Ami
) -> None:
    data = municipality()
    data["people"][0]["device"] = await talking_phone(ami)
    svc = await routing(data)  # no AMI link: the harness passes the answer report on
    call = await svc.call("5001")
    await svc.log.wait_for(call.call_id, "call.answered", timeout=10)
    end = await finish(svc, call, "answered", by="soc1")

    # Before: the dialplan asked for a step after the answered Dial (and got "finish"), then the
    # hangup handler asked again. Now the answered Dial goes straight to the end.
    assert fastagi_scripts(call) == ["step", "hangup"]
    ((detail_event, detail),) = [(args[0], args[1]) for args in agi_requests(call, "hangup")]
    status, ring_at, answered_at, answerer = detail.split("/", 3)
    assert status == "ANSWER" and answerer.startswith("Local/talk-soc1@e2e-phones-")
    assert float(answered_at) - float(ring_at) == pytest.approx(1.0, abs=0.5)
    assert end["wait_s"] == pytest.approx(1.0, abs=0.8) and end["duration_s"] >= 2.0
    assert svc.log.names(call.call_id) == ["call.start", "call.step", "call.answered", "call.end"]
    assert detail_event == "start"  # the last step reported: the first one, which rang


async def test_12_an_unanswered_call_to_voicemail_asks_three_times(routing: Routing) -> None:
    svc = await routing(municipality(soc1="busy", soc1_fallback=["voicemail"]))
    call = await svc.call("5001")
    await call.wait_app("VoiceMail", timeout=10)
    await call.hang_up()
    await finish(svc, call, "voicemail", by="5001@default")
    assert fastagi_scripts(call) == ["step", "step", "hangup"]
