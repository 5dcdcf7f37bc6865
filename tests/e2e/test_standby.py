"""#17 against the real Asterisk: two `routing run` processes on one PostgreSQL store, the
dialplan asking the standby (ROUTING_AGI_STANDBY) when the primary gives no step.

The primary is SIGKILLed before a call and in the middle of one. Either way the caller gets the
whole policy: a person with a referral is not rung and the caller hears the referral (R11), a
unit outside its telephone hours announces them (R9), a callback can be booked (R4), and every
call has exactly one call.end, in the logs of both and in the store. A primary started again on
its address takes calls again; with both gone, the fail-safe answers as before (R3). The
switchboard fails over too: the standby takes the ARI application over within the callers'
lease, and its waiting and held callers stay in the queue, served from the standby's API.
"""

from __future__ import annotations

import asyncio
import copy
import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from routing.policy.referral import Reason, Referral
from routing.sandbox import RunningSandbox
from routing.service.call_router import QUEUE_LEASE_S
from routing.store import Store, open_store
from tests.e2e.harness import (
    PASSWORD,
    Ami,
    CallerCall,
    OperatorClient,
    ServiceProcess,
    StartProcess,
    ends_in_voicemail,
    municipality,
    switchboard_config,
)
from tests.ports import free_port

pytestmark = [pytest.mark.e2e]
T = TypeVar("T")

AWAY = Referral("soc1", Reason.MEETING)
OFFER_CHAIN = ["cover", "callback", "voicemail"]  # soc1's fallback: the offer before her mailbox


def _events(svc: ServiceProcess, call_id: str) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in svc.lines() if line.startswith("{")]
    return [r for r in records if r.get("call_id") == call_id]


def _logged(svc: ServiceProcess, event: str) -> bool:
    return any(f'"event": "{event}"' in line for line in svc.lines())


def _names(svc: ServiceProcess, call_id: str) -> list[str]:
    return [e["event"] for e in _events(svc, call_id)]


async def _call(ami: Ami, primary: ServiceProcess, standby: ServiceProcess, exten: str, **how: Any) -> CallerCall:
    return await ami.originate_caller(
        exten, variables={"__ROUTING_AGI": primary.agi_url, "__ROUTING_AGI_STANDBY": standby.agi_url}, **how
    )


def _read(store: str, what: Callable[[Store], T]) -> T:
    """What the shared store says now (its own connection, as a command would)."""
    kept = open_store(store)
    try:
        return what(kept)
    finally:
        kept.close()


def _stored(store: str, call_id: str) -> list[str]:
    return _read(store, lambda kept: [e.event.NAME for e in kept.call_events(call_id)])


def _callbacks(store: str) -> list[tuple[str, str]]:
    return _read(store, lambda kept: [(c.call_id, c.target) for c in kept.callbacks()])


async def _wait(what: str, done: Any, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"never: {what}"
        await asyncio.sleep(0.1)


async def _one_end(store: str, call_id: str, *instances: ServiceProcess) -> dict[str, Any]:
    """Exactly one call.end for the call, across both logs and in the store: the end logged."""
    await _wait("a call.end", lambda: any("call.end" in _names(s, call_id) for s in instances))
    await asyncio.sleep(1.5)  # a second one (an orphan sweep, the other instance) would come now
    ends = [e for s in instances for e in _events(s, call_id) if e["event"] == "call.end"]
    assert len(ends) == 1, ends
    await _wait("the store's call.end", lambda: "call.end" in _stored(store, call_id))
    assert _stored(store, call_id).count("call.end") == 1
    return ends[0]


async def _started_in_store(store: str, call_id: str) -> None:
    """The primary's call.start is in the shared store (it is written once Asterisk has its
    answer: a kill in those milliseconds loses it, and then the fail-safe finishes the call)."""
    await _wait("call.start stored", lambda: "call.start" in _stored(store, call_id))


def _outside_now() -> dict[str, str]:
    """Telephone hours that do not hold now (an hour, two hours from now)."""
    start = (datetime.now(ZoneInfo("Europe/Stockholm")).hour + 2) % 24
    return {"mon-sun": f"{start:02d}:00-{start + 1:02d}:00"}


# --- the primary killed before a call ----------------------------------------------------------------


async def test_r11_primary_killed_before_a_call_the_standby_routes_it_with_the_referral(
    service_process: StartProcess, ami: Ami, postgresql_store: str
) -> None:
    primary = await service_process(municipality(), (AWAY,), store=postgresql_store)
    standby = await service_process(municipality(), store=postgresql_store)
    primary.kill()
    call = await _call(ami, primary, standby, "5001")
    await call.wait_app("Playback")  # the referral message, from the standby's plan
    await ends_in_voicemail(call, "5001@default", timeout=30)  # her cover rings, then her mailbox
    assert not any("ring-soc1" in d for d in call.dialled())  # R11: Anna is not rung
    referral = next(e for e in _events(standby, call.call_id) if e["event"] == "call.referral")
    assert (referral["person"], referral["reason"]) == ("soc1", "meeting")
    end = await _one_end(postgresql_store, call.call_id, primary, standby)
    assert end["outcome"] == "voicemail"
    assert _events(primary, call.call_id) == []


async def test_r9_primary_killed_before_a_call_the_standby_announces_the_units_hours(
    service_process: StartProcess, ami: Ami, postgresql_store: str
) -> None:
    hours = _outside_now()
    primary = await service_process(municipality(), store=postgresql_store, phone_hours=hours)
    standby = await service_process(municipality(), store=postgresql_store, phone_hours=hours)
    primary.kill()
    call = await _call(ami, primary, standby, "5000")
    await call.wait_app("Playback")  # R9: the telephone hours
    await ends_in_voicemail(call, "5000@default", timeout=30)
    assert call.dialled()[0].startswith("ring-jour")  # R8: the duty phone, after the hours
    steps = [e for e in _events(standby, call.call_id) if e["event"] == "call.step"]
    assert [s["step"] for s in steps[:2]] == ["announcement", "duty_phone"]
    await _one_end(postgresql_store, call.call_id, primary, standby)


async def test_r4_primary_killed_before_a_call_a_callback_is_booked_on_the_standby(
    service_process: StartProcess, ami: Ami, postgresql_store: str
) -> None:
    data = municipality(soc1="busy", soc2="busy", soc1_fallback=OFFER_CHAIN)
    primary = await service_process(data, store=postgresql_store)
    standby = await service_process(data, store=postgresql_store)
    primary.kill()
    call = await _call(ami, primary, standby, "5001")
    await call.wait_app("Read")
    await asyncio.sleep(0.5)
    await call.press("1")
    end = await _one_end(postgresql_store, call.call_id, primary, standby)
    assert end["outcome"] == "callback"
    assert _callbacks(postgresql_store) == [(call.call_id, "soc1")]  # booked once


# --- the primary killed in the middle of a call --------------------------------------------------------


async def test_r11_primary_killed_during_the_referral_the_standby_goes_on_with_the_call(
    service_process: StartProcess, ami: Ami, postgresql_store: str
) -> None:
    primary = await service_process(municipality(), (AWAY,), store=postgresql_store)
    standby = await service_process(municipality(), store=postgresql_store)
    call = await _call(ami, primary, standby, "5001")
    await call.wait_app("Playback")  # the primary's referral message
    await _started_in_store(postgresql_store, call.call_id)
    primary.kill()
    await ends_in_voicemail(call, "5001@default", timeout=30)
    assert not any("ring-soc1" in d for d in call.dialled())  # R11: not rung, by either
    assert call.dialled()[0].startswith("ring-soc2")  # her cover, the standby's step
    assert len(call.apps("Playback")) == 1  # the referral is not played again
    assert _names(primary, call.call_id)[:2] == ["call.start", "call.step"]
    standby_events = _events(standby, call.call_id)
    resumed = next(e for e in standby_events if e["event"] == "call.resumed")
    assert (resumed["place"], resumed["step"], resumed["dialplan_event"]) == ("0", "referral", "play")
    assert any(e["event"] == "call.referral" and e["person"] == "soc1" for e in standby_events)
    end = await _one_end(postgresql_store, call.call_id, primary, standby)
    assert end["outcome"] == "voicemail" and end["wait_s"] == pytest.approx(0, abs=0.5)  # R2: the referral, at once


async def test_r9_primary_killed_during_the_hours_announcement_the_standby_rings_the_duty_phone(
    service_process: StartProcess, ami: Ami, postgresql_store: str
) -> None:
    hours = _outside_now()
    primary = await service_process(municipality(), store=postgresql_store, phone_hours=hours)
    standby = await service_process(municipality(), store=postgresql_store, phone_hours=hours)
    call = await _call(ami, primary, standby, "5000")
    await call.wait_app("Playback")  # the primary's announcement of the hours
    await _started_in_store(postgresql_store, call.call_id)
    primary.kill()
    await ends_in_voicemail(call, "5000@default", timeout=30)
    assert len(call.apps("Playback")) == 1 and call.dialled()[0].startswith("ring-jour")
    assert "call.resumed" in _names(standby, call.call_id)
    await _one_end(postgresql_store, call.call_id, primary, standby)


async def test_r4_primary_killed_during_the_callback_offer_the_standby_books_it(
    service_process: StartProcess, ami: Ami, postgresql_store: str
) -> None:
    data = municipality(soc1="busy", soc2="busy", soc1_fallback=OFFER_CHAIN)
    primary = await service_process(data, store=postgresql_store)
    standby = await service_process(data, store=postgresql_store)
    call = await _call(ami, primary, standby, "5001")
    await call.wait_app("Read")  # the primary's offer
    await _started_in_store(postgresql_store, call.call_id)
    primary.kill()
    await call.press("1")
    end = await _one_end(postgresql_store, call.call_id, primary, standby)
    assert end["outcome"] == "callback"
    assert "callback.requested" in _names(standby, call.call_id)
    assert _callbacks(postgresql_store) == [(call.call_id, "soc1")]  # booked once


async def test_r11_primary_stopped_mid_call_hands_the_call_over_without_draining(
    service_process: StartProcess, ami: Ami, postgresql_store: str
) -> None:
    """SIGTERM with a standby running: the primary does not hold the call for its drain nor end
    it to the fail-safe; it stops at once, and the standby goes on with the call."""
    primary = await service_process(municipality(), (AWAY,), store=postgresql_store)
    standby = await service_process(municipality(), store=postgresql_store)
    call = await _call(ami, primary, standby, "5001")
    await call.wait_app("Playback")
    await _started_in_store(postgresql_store, call.call_id)
    primary.process.terminate()
    await asyncio.to_thread(primary.process.wait, 10)  # no 30 s drain: another instance runs
    await ends_in_voicemail(call, "5001@default", timeout=30)
    assert not any("ring-soc1" in d for d in call.dialled())
    handing = [json.loads(line) for line in primary.lines() if '"service.handing_over"' in line]
    assert len(handing) == 1 and handing[0]["calls_in_progress"] == 1
    assert "call.end" not in _names(primary, call.call_id)
    assert "call.resumed" in _names(standby, call.call_id)
    await _one_end(postgresql_store, call.call_id, primary, standby)


async def test_r11_primary_killed_a_referral_set_from_a_phone_reaches_the_standby(
    service_process: StartProcess, ami: Ami, postgresql_store: str
) -> None:
    """Feature codes (routing-features) ask the standby too: the referral is set in the shared
    store, the caller hears the confirmation, not the error tone."""
    primary = await service_process(municipality(), store=postgresql_store)
    standby = await service_process(municipality(), store=postgresql_store)
    primary.kill()
    code = await _call(ami, primary, standby, "*2121300", context="routing-features", caller="5001")
    played = await code.wait_app("Playback")
    await code.wait_hangup()
    assert played["AppData"] != "beeperr"
    assert [(r.person, r.reason) for r in _read(postgresql_store, lambda kept: kept.referrals())] == [
        ("soc1", Reason.MEETING)
    ]
    assert any('"referral.set"' in line for line in standby.lines())


# --- the primary back; both gone -------------------------------------------------------------------------


async def test_the_primary_started_again_takes_calls_again(
    service_process: StartProcess, ami: Ami, postgresql_store: str
) -> None:
    """…and the AstDB fail-safe is written by one instance at a time: the active one."""
    primary = await service_process(municipality(), store=postgresql_store)
    standby = await service_process(municipality(), store=postgresql_store)
    assert _logged(primary, "astdb.synced") and not _logged(standby, "astdb.synced")
    assert _logged(standby, "astdb.left_to_active")
    port = int(primary.agi_url.rsplit(":", 1)[1])
    primary.kill()
    first = await _call(ami, primary, standby, "5001")
    await ends_in_voicemail(first, "5001@default", timeout=30)
    assert _names(standby, first.call_id)[0] == "call.start"
    await standby.wait_logged('"astdb.synced"')  # active now: the standby writes the entries
    again = await service_process(municipality(), store=postgresql_store, port=port)
    assert again.agi_url == primary.agi_url
    assert _logged(again, "service.standing_by") and not _logged(again, "astdb.synced")
    second = await _call(ami, again, standby, "5001")
    await ends_in_voicemail(second, "5001@default", timeout=30)
    assert _names(again, second.call_id)[0] == "call.start"
    assert _events(standby, second.call_id) == []
    await _one_end(postgresql_store, second.call_id, again, standby)


async def test_r3_both_gone_the_fail_safe_answers(
    service_process: StartProcess, ami: Ami, postgresql_store: str
) -> None:
    primary = await service_process(municipality(), store=postgresql_store)
    standby = await service_process(municipality(), store=postgresql_store)
    primary.kill()
    standby.kill()
    call = await _call(ami, primary, standby, "5001")
    await call.wait_dial("ring-soc1", ended=True)  # the fail-safe rings the number, from AstDB
    await ends_in_voicemail(call, "5001@default")


# --- the switchboard ----------------------------------------------------------------------------------


async def test_the_switchboard_fails_over_its_waiting_and_held_callers_stay_in_the_queue(
    service_process: StartProcess, ami: Ami, tmp_path: Path, asterisk: RunningSandbox, postgresql_store: str
) -> None:
    data = switchboard_config(tmp_path, asterisk, operators=("eva",))
    primary = await service_process(data, ari=data["asterisk"]["ari"], store=postgresql_store)
    await primary.wait_logged('"ari.resynced"')
    standby_data = copy.deepcopy(data)
    standby_data["switchboard"]["listen"] = f"127.0.0.1:{free_port()}"  # its own API address
    standby = await service_process(standby_data, ari=data["asterisk"]["ari"], store=postgresql_store)
    await standby.wait_logged('"service.standing_by"')
    primary_url, standby_url = (f"http://{d['switchboard']['listen']}" for d in (data, standby_data))
    assert (await _active(primary_url), await _active(standby_url)) == (200, 503)  # a proxy's health check
    async with OperatorClient(primary_url, "eva", PASSWORD) as eva:
        waiting = await _call(ami, primary, standby, "9000")
        await eva.wait_call(waiting.call_id, place="waiting")
        queued_at = time.monotonic()
        held = await _call(ami, primary, standby, "9000")
        entry = await eva.wait_call(held.call_id, place="waiting")
        await eva.act(entry["id"], "answer")
        await eva.wait_call(held.call_id, place="talking")
        await eva.act(entry["id"], "hold")
        await eva.wait_call(held.call_id, place="held")
    primary.kill()
    killed_at = time.monotonic()
    await standby.wait_logged('"service.active"', timeout=QUEUE_LEASE_S)
    await standby.wait_logged('"ari.resynced"', timeout=QUEUE_LEASE_S)
    assert await _active(standby_url) == 200
    async with OperatorClient(standby_url, "eva", PASSWORD) as eva:
        taken = await eva.wait_call(waiting.call_id, place="waiting", timeout=2)
        await eva.wait_call(held.call_id, place="held", operator="eva", timeout=2)
        # What the store has of the call the primary routed: the number dialled, and the wait
        # since it entered the switchboard (its queue timeout, R1, counts from then).
        assert taken["called"] == "9000"
        assert taken["waited_s"] >= time.monotonic() - queued_at - 1.5
        # No caller was let go: past the lease the primary last renewed, both are still in the
        # queue, and none was given the switchboard's phones (the dialplan's rescue).
        await asyncio.sleep(max(0.0, QUEUE_LEASE_S + 2 - (time.monotonic() - killed_at)))
        for call in (waiting, held):
            assert not any("ring-switchboard" in d for d in call.dialled())
            assert await call.channels_left()
        await eva.wait_call(held.call_id, place="held", timeout=1)
        entry = await eva.wait_call(waiting.call_id, place="waiting", timeout=1)
        await eva.act(entry["id"], "answer")  # the standby serves the switchboard now
        await eva.wait_call(waiting.call_id, place="talking")
        await waiting.wait_dial("answer1-eva")
    active = [json.loads(line) for line in standby.lines() if '"service.active"' in line]
    assert len(active) == 1 and active[0]["took_over_from"] is not None  # one line each way
    for call in (waiting, held):
        await call.hang_up()
        await call.wait_no_channels()


# --- routing doctor ---------------------------------------------------------------------------------------


async def test_doctor_says_whether_the_standby_answers_and_which_instance_is_active(
    service_process: StartProcess, ami: Ami, tmp_path: Path, postgresql_store: str
) -> None:
    primary = await service_process(municipality(), store=postgresql_store)
    standby = await service_process(municipality(), store=postgresql_store)
    await standby.wait_logged('"service.standing_by"')
    active = json.loads(next(line for line in primary.lines() if '"service.active"' in line))["instance"]
    config = tmp_path / "routing-0.yaml"  # the primary's, as service_process wrote it
    await ami.set_global("ROUTING_AGI_STANDBY", standby.agi_url)
    try:
        answered = await _doctor_line(config, "standby")
        standby.kill()
        gone = await _doctor_line(config, "standby")
    finally:
        await ami.set_global("ROUTING_AGI_STANDBY", "")
    assert answered.startswith("ok") and f"the standby at {standby.agi_url} answers a probe call" in answered
    assert f"2 instance(s) in the store, active: {active}" in answered
    assert gone.startswith("FAIL") and "did not answer a probe call" in gone


async def _doctor_line(config: Path, check: str) -> str:
    done = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "routing", "doctor", "--config", str(config), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(done.communicate(), 120)
    lines = [line for line in out.decode().splitlines() if line.split()[1:2] == [check]]
    assert lines, out.decode()
    return lines[0]


async def _active(base: str) -> int:
    """GET /api/active, as a proxy's health check asks it (no session)."""
    async with aiohttp.ClientSession(base) as http, http.get("/api/active") as response:
        return response.status
