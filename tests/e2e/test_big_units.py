"""#12: a unit number with 250 present members rings every one of them (never a silent subset),
within one ring limit, through the real Asterisk; then the unit's chain goes on as planned."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.e2e.harness import Ami, RunningService, finish, municipality, phone

Routing = Callable[..., Awaitable[RunningService]]


def _with_big_unit(members: int) -> dict[str, Any]:
    data = municipality(jour="answer1")
    data["people"] += [
        {
            "id": f"m{n}",
            "name": f"M{n}",
            "unit": "soc",
            "extension": str(30000 + n),
            "device": phone("ring", f"m{n}"),
            "voicemail": "5000@default",
        }
        for n in range(members)
    ]
    data["units"][0].pop("members")  # everyone whose unit it is: soc1, soc2 and the new ones
    data["units"][0].pop("phone_hours")
    return data


async def test_r1_a_unit_of_250_rings_all_its_phones_within_one_ring_limit_then_its_duty_phone(
    routing: Routing, ami: Ami
) -> None:
    svc = await routing(_with_big_unit(250))
    call = await svc.call("5000")
    await svc.log.wait_for(call.call_id, "call.answered", timeout=30)  # the duty phone, after the limit
    await call.hang_up()
    await finish(svc, call, "answered", by="5099")

    began = [e for e in ami.events if e.name == "DialBegin" and e["Linkedid"] == call.call_id]
    rung = {e["DialString"].removesuffix("@sandbox-phones") for e in began if e["DialString"].startswith("ring-m")}
    assert rung == {f"ring-m{n}" for n in range(250)}  # every one
    groups = [e for e in began if e["DialString"].endswith("@routing-ring-group")]
    assert len(groups) > 1 and all(e["Uniqueid"] == call.call_id for e in groups)  # one Dial, one limit
    no_answer = svc.log.one(call.call_id, "call.no_answer")
    assert no_answer["target"] == "soc" and 2.5 <= no_answer["rang_s"] <= 4.5  # 3 × 1 s (R1)
