"""#17 item 1 against the real Asterisk: the dialplan asks a standby (ROUTING_AGI_STANDBY)
when the service it asks first gives no step. With the primary SIGKILLed before a call, the
standby routes the whole call under the policy: a person with a referral is not rung and the
caller hears the referral (R11), and the call has exactly one call.end. With both gone, the
fail-safe answers as before (R3). Both instances are `routing run` processes on one store."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from routing.policy.referral import Reason, Referral
from tests.e2e.harness import Ami, CallerCall, ServiceProcess, StartProcess, ends_in_voicemail, municipality

pytestmark = [pytest.mark.e2e]

AWAY = Referral("soc1", Reason.MEETING)


def _events(svc: ServiceProcess, call_id: str) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in svc.lines() if line.startswith("{")]
    return [r for r in records if r.get("call_id") == call_id]


async def _call(ami: Ami, primary: ServiceProcess, standby: ServiceProcess, exten: str) -> CallerCall:
    return await ami.originate_caller(
        exten, variables={"__ROUTING_AGI": primary.agi_url, "__ROUTING_AGI_STANDBY": standby.agi_url}
    )


async def test_r11_primary_killed_before_a_call_the_standby_routes_it_with_the_referral(
    service_process: StartProcess, ami: Ami
) -> None:
    primary = await service_process(municipality(), (AWAY,))
    standby = await service_process(municipality(), (AWAY,))
    primary.kill()
    call = await _call(ami, primary, standby, "5001")
    await call.wait_app("Playback")  # the referral message, from the standby's plan
    await ends_in_voicemail(call, "5001@default", timeout=30)  # her cover rings, then her mailbox
    assert not any("ring-soc1" in d for d in call.dialled())  # R11: Anna is not rung
    events = [e["event"] for e in _events(standby, call.call_id)]
    assert events[0] == "call.start" and "call.referral" in events
    referral = next(e for e in _events(standby, call.call_id) if e["event"] == "call.referral")
    assert (referral["person"], referral["reason"]) == ("soc1", "meeting")
    for _ in range(50):  # the hangup handler's report reaches the standby
        if "call.end" in [e["event"] for e in _events(standby, call.call_id)]:
            break
        await asyncio.sleep(0.1)
    assert [e["event"] for e in _events(standby, call.call_id)].count("call.end") == 1
    assert _events(primary, call.call_id) == []


async def test_r3_both_gone_the_fail_safe_answers(service_process: StartProcess, ami: Ami) -> None:
    primary = await service_process(municipality())
    standby = await service_process(municipality())
    primary.kill()
    standby.kill()
    call = await _call(ami, primary, standby, "5001")
    await call.wait_dial("ring-soc1", ended=True)  # the fail-safe rings the number, from AstDB
    await ends_in_voicemail(call, "5001@default")
