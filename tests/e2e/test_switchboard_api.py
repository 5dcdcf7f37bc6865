"""#13 (first part): the switchboard's API served by the running service, against the real
Asterisk: an operator logs in, sees a phone's state change within a second as Asterisk reports
it over AMI, and sets a referral on someone's behalf (R11) that the next caller hears."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from routing.switchboard.accounts import set_password
from tests.e2e.harness import AmiLogin, RunningService, municipality
from tests.ports import free_port

pytestmark = [pytest.mark.e2e]

Routing = Callable[..., Awaitable[RunningService]]
PASSWORD = "ett långt lösenord"


async def _anna(client: aiohttp.ClientSession) -> dict[str, Any]:
    async with client.get("/api/directory", params={"q": "Anna"}) as response:
        assert response.status == 200
        hits: list[dict[str, Any]] = (await response.json())["hits"]
        (hit,) = [h for h in hits if h["id"] == "soc1"]
        return hit


async def test_an_operator_sees_live_phone_states_and_sets_a_referral_the_next_caller_hears(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path
) -> None:
    data = municipality(soc1="ring")
    port = free_port()
    data["switchboard"] |= {
        "operators": [{"id": "eva", "name": "Eva", "device": "Local/ring-eva@sandbox-phones"}],
        "accounts_file": str(tmp_path / "operators"),
        "listen": f"127.0.0.1:{port}",
    }
    set_password(tmp_path / "operators", "eva", PASSWORD)
    svc = await routing(data, ami_login=ami_login)
    assert svc.service.link is not None
    await asyncio.wait_for(svc.service.link.synced.wait(), 15)
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", cookie_jar=jar) as client:
        async with client.get("/api/me") as response:
            assert response.status == 401
        async with client.post("/api/login", json={"operator": "eva", "password": PASSWORD}) as response:
            assert response.status == 200
            csrf = (await response.json())["csrf"]

        ringing = await svc.call("5001")  # Anna's phone rings: Asterisk reports it
        await ringing.wait_dial("ring-soc1")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 1.5  # "within 1 s", with a margin for a busy machine
        while (await _anna(client))["phone_state"] not in ("ringing", "in a call"):
            assert loop.time() < deadline, await _anna(client)
            await asyncio.sleep(0.05)
        await ringing.hang_up()
        await svc.log.wait_for(ringing.call_id, "call.end")

        async with client.put(
            "/api/referrals/soc1", json={"reason": "sick"}, headers={"X-CSRF-Token": csrf}
        ) as response:
            assert response.status == 200
        assert (await _anna(client))["referral"]["reason"] == "sick"

    told = await svc.call("5001")  # the next caller hears the referral instead of a ring
    referral = await svc.log.wait_for(told.call_id, "call.referral", timeout=20)
    assert (referral["person"], referral["reason"]) == ("soc1", "sick")
    await told.hang_up()
    await svc.log.wait_end(told.call_id, timeout=15)
    await told.wait_no_channels()
    actions = [r for r in svc.log.records() if r.get("event", "").startswith("operator.")]
    assert [(r["event"], r.get("operator")) for r in actions if r["event"] != "operator.refused"] == [
        ("operator.login", "eva"),
        ("operator.referral_set", "eva"),
    ]
