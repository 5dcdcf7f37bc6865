"""Issue #6 fault tests against the real Asterisk: an Asterisk restart during calls, a broken
config reloaded during calls, and 50 calls at once. Each asserts how every call ended and that
the log has exactly one call.end per call. The service killed mid-call is in
test_phones_and_failsafe.py (test_r3_killed_*), with the real `routing run` process."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import yaml

from routing.sandbox import RunningSandbox
from routing.sandbox.process import is_alive, running_pid, start
from tests.e2e.harness import Ami, AmiLogin, CallerCall, RunningService, finish, municipality

pytestmark = [pytest.mark.e2e]

Routing = Callable[..., Awaitable[RunningService]]
R2_ANSWERS = {"answered", "cover", "referral", "voicemail", "callback"}


def _wait_dead(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while is_alive(pid):  # reaps it if this process started it; a zombie counts as dead
        assert time.monotonic() < deadline, f"Asterisk {pid} did not die"
        time.sleep(0.05)


@pytest.mark.faults_expected  # the cut-off calls are R3 violations, logged as such
async def test_asterisk_killed_during_calls_ends_each_once_and_service_serves_on(
    routing: Routing, ami: Ami, ami_login: AmiLogin, asterisk: RunningSandbox
) -> None:
    """A call in conversation keeps its R2 answer; a call still ringing when Asterisk dies
    cannot get one (its channel is gone with Asterisk) and is logged `failed` with an R3
    violation; every call has one call.end; the calls after the restart are served as usual."""
    svc = await routing(municipality(soc2="answer1"), ami_login=ami_login)
    deadline = time.monotonic() + 10
    while not [r for r in svc.log.records() if r.get("event") == "astdb.synced"]:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    talking = await svc.call("5002")
    await svc.log.wait_for(talking.call_id, "call.answered", timeout=15)
    # Three phones ringing (one call each: the sandbox's Local phones show "in use" while they
    # ring, so a second call to one of them would be passed over to the fallback).
    ringing = [await svc.call(number) for number in ("5001", "5099", "9000")]
    for call, phone in zip(ringing, ("ring-soc1", "ring-jour", "ring-switchboard"), strict=True):
        await call.wait_dial(phone)

    # Asterisk dies without hanging anything up (no hangup handler runs), then starts again.
    pid = running_pid(asterisk.settings)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await asyncio.to_thread(_wait_dead, pid)
    # Not `up()`: this test holds the sandbox's lock (sandbox_exclusive), which `up()` takes too.
    await asyncio.to_thread(start, asterisk.settings)
    end = await svc.log.wait_for(talking.call_id, "call.end", timeout=20)
    assert (end["outcome"], end["by"], end["lost"]) == ("answered", "soc2", True)
    for call in ringing:
        end = await svc.log.wait_for(call.call_id, "call.end", timeout=20)
        assert (end["outcome"], end["lost"]) == ("failed", True)
        assert [v["rule"] for v in svc.log.for_call(call.call_id, "policy.violation")] == ["R3"]
    await asyncio.sleep(0.5)
    assert all(len(svc.log.for_call(c.call_id, "call.end")) == 1 for c in [talking, *ringing])
    assert svc.service.router.calls == {}

    # The service serves on: calls after the restart are routed as before.
    deadline = time.monotonic() + 15
    while True:
        try:
            first = await svc.call("5002")
            break
        except Exception:  # AMI is still logging in again
            assert time.monotonic() < deadline
            await asyncio.sleep(0.5)
    for n in range(3):  # one after the other: soc2's phone is "in use" while it talks
        call = first if n == 0 else await svc.call("5002")
        await svc.log.wait_for(call.call_id, "call.answered", timeout=15)
        await call.hang_up()
        await finish(svc, call, "answered", by="soc2")
    # One line for the outage, however many reconnect attempts it took.
    assert len([r for r in svc.log.records() if r.get("event") == "ami.unreachable"]) <= 1


@pytest.mark.faults_expected  # config.invalid is logged on purpose
async def test_broken_config_reloaded_during_calls_changes_nothing(routing: Routing, tmp_path: Path) -> None:
    data = municipality(soc1="ring", soc2="answer1")
    svc = await routing(data)
    calls = [await svc.call("5001") for _ in range(3)]
    for call in calls:
        await call.wait_dial("ring-soc1")
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump({**data, "ring": {"max_rings": 9}}), encoding="utf-8")
    assert not await svc.service.reload(str(broken))
    invalid = [r for r in svc.log.records() if r.get("event") == "config.invalid"]
    assert invalid and "ring.max_rings" in invalid[0]["errors"][0] and invalid[0]["kept"] == "running config"

    for call in calls:  # the calls go on with the config they started with: 3 s, then the cover
        await svc.log.wait_for(call.call_id, "call.answered", timeout=15)
        await call.hang_up()
        await finish(svc, call, "cover", by="soc2")
        assert call.dials()[0].seconds == pytest.approx(3.0, abs=0.8)

    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump({**data, "ring": {**data["ring"], "max_rings": 2}}), encoding="utf-8")
    assert await svc.service.reload(str(good))
    later = await svc.call("5001")  # a new call gets the new ring limit
    await svc.log.wait_for(later.call_id, "call.answered", timeout=15)
    await later.hang_up()
    await finish(svc, later, "cover", by="soc2")
    assert later.dials()[0].seconds == pytest.approx(2.0, abs=0.8)


async def test_fifty_calls_at_once_each_get_an_r2_answer_and_one_call_end(routing: Routing) -> None:
    svc = await routing(municipality(soc1="answer1", soc2="busy", jour="answer1", switchboard="busy"))
    numbers = ["5001", "5002", "9000"] * 16 + ["5001", "5002"]  # person, cover, voicemail

    async def one(number: str) -> tuple[CallerCall, str]:
        call = await svc.call(number)
        if number == "9000":
            await call.wait_app("VoiceMail", timeout=30)
        else:
            await svc.log.wait_for(call.call_id, "call.answered", timeout=30)
        await call.hang_up()
        end = await svc.log.wait_end(call.call_id, timeout=30)
        return call, str(end["outcome"])

    results = await asyncio.gather(*(one(n) for n in numbers))
    assert len(results) == 50
    assert all(outcome in R2_ANSWERS for _, outcome in results)
    expected = {"5001": "answered", "5002": "cover", "9000": "voicemail"}
    assert [outcome for _, outcome in results] == [expected[n] for n in numbers]
    for call, _ in results:
        assert len(svc.log.for_call(call.call_id, "call.end")) == 1
        await call.wait_no_channels(timeout=15)
    assert svc.service.router.calls == {}
