"""#13 items 5, 6 (the parts without ARI) and 9: the switchboard's API over real HTTP on the
loopback: only a logged-in operator gets anything, sessions expire, a change needs the
session's CSRF token and no other site's Origin, referrals on behalf are stored with
by=operator:<id>, callbacks are listed with the caller's number and done by the operator."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from routing.calllog.setup import configure_logging
from routing.config import Config
from routing.policy.directory import Directory
from routing.policy.referral import Reason, Referral
from routing.service.device_states import DeviceStates
from routing.store import Store, open_store
from routing.switchboard.accounts import set_password
from routing.switchboard.api import REFERRAL_POLL_S, SwitchboardApi
from tests.unit.policy.builders import at

PASSWORD = "ett långt lösenord"


class Served:
    def __init__(
        self, api: SwitchboardApi, base: str, store: Store, clock: list[Any], log: io.StringIO, states: DeviceStates
    ) -> None:
        self.api, self.base, self.store, self.clock, self.log, self.states = api, base, store, clock, log, states

    def session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(self.base, cookie_jar=aiohttp.CookieJar(unsafe=True))

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.getvalue().splitlines()]


@pytest.fixture
async def served(tmp_path: Path, operator_config: Config) -> AsyncIterator[Served]:
    config = operator_config
    set_password(tmp_path / "operators", "eva", PASSWORD)
    directory = Directory.from_config(config)
    store = open_store(f"sqlite:///{tmp_path}/routing.db")
    clock = [at("2026-12-01 10:15")]
    log = io.StringIO()
    configure_logging("json", stream=log)
    states = DeviceStates()
    states.watch(directory.devices())
    states.update("PJSIP/5001", "INUSE")
    api = SwitchboardApi(lambda: directory, store, states.known, lambda: clock[0], on_state_change=states.listen)
    host, port = await api.start("127.0.0.1", 0)
    try:
        yield Served(api, f"http://{host}:{port}", store, clock, log, states)
    finally:
        await api.stop()


async def _login(client: aiohttp.ClientSession, password: str = PASSWORD) -> dict[str, Any]:
    async with client.post("/api/login", json={"operator": "eva", "password": password}) as response:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body


async def test_r12_without_a_session_nothing_is_shown(served: Served) -> None:
    async with served.session() as client:
        for method, path in (("GET", "/api/me"), ("GET", "/api/directory?q=soc"), ("GET", "/api/callbacks")):
            async with client.request(method, path) as response:
                assert response.status == 401 and (await response.json())["error"] == "log in first"
        async with client.post("/api/login", json={"operator": "eva", "password": "fel lösenord!"}) as response:
            assert response.status == 401
        async with client.post("/api/login", json={"operator": "mallory", "password": PASSWORD}) as response:
            assert response.status == 401
    refused = [e for e in served.events() if e["event"] in ("operator.refused", "operator.login_failed")]
    assert len(refused) == 5 and PASSWORD not in served.log.getvalue()


async def test_whether_this_instance_is_the_active_one_is_open_to_a_proxy(served: Served) -> None:
    """#17: GET /api/active, without a session (a proxy's health check), says whether this
    instance serves the switchboard's queue: 200, or 503 on one standing by. No call data."""
    active = [True]
    served.api._active = lambda: active[0]
    async with served.session() as client:
        async with client.get("/api/active") as response:
            assert (response.status, await response.json()) == (200, {"active": True})
        active[0] = False
        async with client.get("/api/active") as response:
            assert (response.status, await response.json()) == (503, {"active": False})
        async with client.post("/api/active") as response:
            assert response.status in (401, 405)  # only the GET is open


async def test_a_session_expires_after_an_idle_hour(served: Served) -> None:
    async with served.session() as client:
        me = await _login(client)
        assert me["operator"] == "eva" and me["name"] == "Eva Telefonist"
        async with client.get("/api/me") as response:
            assert response.status == 200
        served.clock[0] += timedelta(minutes=61)
        async with client.get("/api/me") as response:
            assert response.status == 401


async def test_a_change_needs_the_csrf_token_and_no_other_sites_origin(served: Served) -> None:
    async with served.session() as client:
        me = await _login(client)
        body = {"reason": "sick"}
        async with client.put("/api/referrals/soc1", json=body) as response:
            assert response.status == 403  # a cross-site form cannot send the header
        headers = {"X-CSRF-Token": me["csrf"], "Origin": "https://evil.example"}
        async with client.put("/api/referrals/soc1", json=body, headers=headers) as response:
            assert response.status == 403
        assert served.store.referrals() == []
        async with client.put("/api/referrals/soc1", json=body, headers={"X-CSRF-Token": me["csrf"]}) as response:
            assert response.status == 200


async def test_r11_a_referral_on_behalf_is_stored_by_the_operator(served: Served) -> None:
    async with served.session() as client:
        me = await _login(client)
        csrf = {"X-CSRF-Token": me["csrf"]}
        async with client.put("/api/referrals/soc1", json={"reason": "sick", "until": "2026-12-03"}, headers=csrf) as r:
            assert (await r.json())["set_by"] == "operator:eva"
        rows = served.store._read("SELECT person, reason, until_date, set_by FROM referrals")
        assert [tuple(row) for row in rows] == [("soc1", "sick", "2026-12-03", "operator:eva")]
        async with client.get("/api/directory", params={"q": "anna"}) as response:
            (anna,) = [hit for hit in (await response.json())["hits"] if hit["id"] == "soc1"]
        assert anna["referral"]["reason"] == "sick" and anna["phone_state"] == "in a call"
        assert anna["mobile"] is not None and anna["referral"]["back"]
        async with client.put("/api/referrals/soc1", json={"reason": "asleep"}, headers=csrf) as response:
            assert response.status == 400 and "not a reason" in (await response.json())["error"]
        async with client.put("/api/referrals/nobody", json={"reason": "sick"}, headers=csrf) as response:
            assert response.status == 404
        async with client.delete("/api/referrals/soc1", headers=csrf) as response:
            assert (await response.json())["cleared"] is True
    assert served.store.referrals() == []
    actions = [(e["event"], e.get("operator")) for e in served.events() if e["event"].startswith("operator.")]
    assert ("operator.referral_set", "eva") in actions and ("operator.referral_cleared", "eva") in actions


async def test_r4_callbacks_listed_with_the_callers_number_and_done_by_the_operator(served: Served) -> None:
    first = served.store.add_callback(call_id="c1", caller="0701234567", target="soc1", at=at("2026-11-30 08:00"))
    async with served.session() as client:
        me = await _login(client)
        async with client.get("/api/callbacks", params={"open": "1"}) as response:
            (callback,) = (await response.json())["callbacks"]
        assert callback["caller"] == "0701234567" and callback["overdue"] and callback["age_minutes"] == 26 * 60 + 15
        done = f"/api/callbacks/{first}/done"
        async with client.post(done, headers={"X-CSRF-Token": me["csrf"]}) as response:
            assert (await response.json())["done_by"] == "operator:eva"
        async with client.post(done, headers={"X-CSRF-Token": me["csrf"]}) as response:
            assert response.status == 409
        async with client.post("/api/logout", headers={"X-CSRF-Token": me["csrf"]}) as response:
            assert response.status == 204
        async with client.get("/api/callbacks") as response:
            assert response.status == 401


async def test_five_wrong_passwords_lock_the_id_for_a_while(served: Served) -> None:
    async with served.session() as client:
        for _ in range(5):
            async with client.post("/api/login", json={"operator": "eva", "password": "fel lösenord!"}) as response:
                assert response.status == 401
        async with client.post("/api/login", json={"operator": "eva", "password": PASSWORD}) as response:
            assert response.status == 429
        served.clock[0] += timedelta(minutes=6)
        await _login(client)


async def test_the_stream_tells_of_phone_states_and_referrals_and_closes_at_logout(served: Served) -> None:
    async with served.session() as client:
        with pytest.raises(aiohttp.WSServerHandshakeError) as no_session:
            await client.ws_connect("/api/stream")
        assert no_session.value.status == 401
    async with served.session() as client:
        me = await _login(client)
        with pytest.raises(aiohttp.WSServerHandshakeError) as cross_site:
            await client.ws_connect("/api/stream", headers={"Origin": "https://evil.example"})
        assert cross_site.value.status == 403
        async with client.ws_connect("/api/stream") as stream:
            assert (await stream.receive_json(timeout=2))["type"] == "hello"
            served.states.update("PJSIP/5001", "RINGING")  # as AMI reports it
            change = await stream.receive_json(timeout=2)
            assert change == {"type": "phone_state", "device": "PJSIP/5001", "state": "ringing", "people": ["soc1"]}
            csrf = {"X-CSRF-Token": me["csrf"]}
            async with client.put("/api/referrals/soc2", json={"reason": "lunch"}, headers=csrf):
                pass
            assert (await stream.receive_json(timeout=2))["person"] == "soc2"
            async with client.post("/api/logout", headers=csrf):
                pass
            closing = await stream.receive(timeout=2)
            assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == 4001


async def test_the_cookie_is_secure_behind_a_tls_proxy(served: Served) -> None:
    async with served.session() as client:
        body = {"operator": "eva", "password": PASSWORD}
        async with client.post("/api/login", json=body) as plain:
            assert "Secure" not in plain.headers["Set-Cookie"] and "HttpOnly" in plain.headers["Set-Cookie"]
        async with client.post("/api/login", json=body, headers={"X-Forwarded-Proto": "https"}) as proxied:
            assert "Secure" in proxied.headers["Set-Cookie"] and "SameSite=Strict" in proxied.headers["Set-Cookie"]


async def test_r4_a_callback_call_needs_an_open_callback_and_the_ami_link(served: Served) -> None:
    """Without the AMI link nothing is called (503); an unknown callback is 404, a done one 409;
    every refusal leaves the callback as it was. The call itself is e2e-tested."""
    open_one = served.store.add_callback(call_id="c1", caller="0701234567", target="soc1", at=at("2026-12-01 09:00"))
    done_one = served.store.add_callback(call_id="c2", caller="0702345678", target="soc1", at=at("2026-12-01 09:00"))
    served.store.mark_done(done_one, at=at("2026-12-01 09:30"), by="cli")
    async with served.session() as client:
        me = await _login(client)
        csrf = {"X-CSRF-Token": me["csrf"]}
        async with client.post(f"/api/callbacks/{open_one}/call") as response:
            assert response.status == 403  # a change: the CSRF token first
        for path, status in (
            (f"/api/callbacks/{open_one}/call", 503),
            (f"/api/callbacks/{done_one}/call", 409),
            ("/api/callbacks/999/call", 404),
            ("/api/callbacks/x/call", 404),
        ):
            async with client.post(path, headers=csrf) as response:
                assert response.status == status, path
    callback = served.store.callback(open_one)
    assert callback is not None and (callback.status, callback.attempts) == ("open", 0)
    assert not [e for e in served.events() if e["event"] == "operator.callback_call"]


async def test_r11_the_stream_tells_of_referrals_set_elsewhere_cleared_elsewhere_and_ended_by_themselves(
    served: Served, tmp_path: Path
) -> None:
    """A referral written by another process (`routing referral`, another instance: here
    another connection to the store) reaches the stream by the watch, with no `by`; one that
    ends by itself at its return time too."""
    other = open_store(f"sqlite:///{tmp_path}/routing.db")
    try:
        async with served.session() as client:
            await _login(client)
            async with client.ws_connect("/api/stream") as stream:
                assert (await stream.receive_json(timeout=2))["type"] == "hello"
                await asyncio.sleep(REFERRAL_POLL_S * 1.5)  # the watch has read what is in force
                back = at("2026-12-01 11:00")
                other.set_referral(Referral("soc1", Reason.MEETING, back), at=served.clock[0], by="cli")
                message = await stream.receive_json(timeout=REFERRAL_POLL_S * 3)
                assert message == {"type": "referral", "person": "soc1", "reason": "meeting", "by": None}
                served.clock[0] = back  # the meeting is over: the referral ends by itself
                message = await stream.receive_json(timeout=REFERRAL_POLL_S * 3)
                assert message == {"type": "referral", "person": "soc1", "reason": None, "by": None}
                other.set_referral(Referral("soc2", Reason.SICK), at=served.clock[0], by="cli")
                assert (await stream.receive_json(timeout=REFERRAL_POLL_S * 3))["reason"] == "sick"
                other.clear_referral("soc2")
                message = await stream.receive_json(timeout=REFERRAL_POLL_S * 3)
                assert message == {"type": "referral", "person": "soc2", "reason": None, "by": None}
    finally:
        other.close()


async def test_r12_answers_with_callers_numbers_are_not_kept_by_a_browser(served: Served) -> None:
    served.store.add_callback(call_id="c1", caller="0701234567", target="soc1", at=at("2026-12-01 09:00"))
    async with served.session() as client:
        await _login(client)
        for path in ("/api/callbacks", "/api/me", "/api/directory?q=anna"):
            async with client.get(path) as response:
                assert response.status == 200 and response.headers["Cache-Control"] == "no-store", path
