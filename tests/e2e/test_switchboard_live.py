"""#13: the switchboard's queue served over ARI by the running service, against the real
Asterisk, driven through the operators' own API: a caller appears in the queue with what
happened before; an operator answers on their (sandbox) phone; two operators answering at
once, one gets it; a call put through to a phone that does not answer, is busy or unregistered
comes back to the top of the queue, marked (återfall); a held caller is recalled to the operator
who held them; and when the service is SIGKILLed or its ARI link is cut, every caller (waiting,
held, in a transfer) gets the switchboard's phones, then its mailbox (R3).

Timings (harness.municipality): ring limit 3 × 1 s; the queue's lease 4 s (call_router);
operators' phones answer after 1 s (sandbox `answer1-<id>`)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from routing.sandbox import RunningSandbox
from routing.service.call_router import QUEUE_LEASE_S
from routing.switchboard.api import REFERRAL_POLL_S
from tests.e2e.harness import (
    MARGIN_S,
    PASSWORD,
    RING_LIMIT_S,
    Ami,
    AmiLogin,
    CallerCall,
    OperatorClient,
    RunningService,
    StartProcess,
    TcpProxy,
    api,
    call_via,
    started,
    switchboard_config,
)

pytestmark = [pytest.mark.e2e]

Routing = Callable[..., Awaitable[RunningService]]


async def talking_to(svc: RunningService, operator: OperatorClient) -> tuple[CallerCall, str]:
    """A new caller to the switchboard's number, answered by `operator`: the call and its id in
    the queue, once the operator talks to the caller."""
    call = await svc.call("9000")
    waiting = await operator.wait_call(call.call_id, place="waiting")
    await operator.act(waiting["id"], "answer")
    await operator.wait_call(call.call_id, place="talking")
    return call, str(waiting["id"])


async def test_r2_a_caller_appears_with_its_history_and_an_operator_answers_on_their_phone(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox
) -> None:
    data = switchboard_config(tmp_path, asterisk, soc1="ring", soc1_fallback=["switchboard", "voicemail"])
    svc = await started(routing, data, ami_login)
    async with OperatorClient(api(svc), "eva", PASSWORD) as eva:
        call = await svc.call("5001")  # Anna does not answer: her chain's next step is the switchboard
        entered = await call.wait_app("Stasis", timeout=RING_LIMIT_S + 10)
        waiting = await eva.wait_call(call.call_id, timeout=5, place="waiting")
        assert time.monotonic() - entered.at < 1.0 + MARGIN_S  # in the queue within 1 s
        assert waiting["history"] == ["Anna (5001): no answer after 3 signals"]
        assert (waiting["called"], waiting["called_label"], waiting["caller"]) == ("5001", "Anna (5001)", "0701234567")

        await eva.act(waiting["id"], "answer")
        talking = await eva.wait_call(call.call_id, timeout=5, place="talking", operator="eva")
        assert talking["answered"] is True
        answered = await svc.log.wait_for(call.call_id, "call.answered")
        assert (answered["by"], answered["step"]) == ("operator:eva", "switchboard")
        dial = await call.wait_dial("answer1-eva")
        assert dial["DialString"] == "answer1-eva@sandbox-phones"

        await call.hang_up()
        end = await svc.log.wait_end(call.call_id, timeout=10)
        assert (end["outcome"], end["by"]) == ("answered", "operator:eva")
        await eva.wait_gone(call.call_id)
    names = svc.log.names(call.call_id)
    assert names.index("switchboard.queued") < names.index("switchboard.answered") < names.index("call.answered")
    assert svc.log.one(call.call_id, "switchboard.left")["why"] == "hangup"
    actions = [(r["event"], r.get("operator")) for r in svc.log.records() if r.get("event") == "operator.answer"]
    assert actions == [("operator.answer", "eva")]


async def test_two_operators_answering_one_call_at_once_exactly_one_gets_it(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox
) -> None:
    data = switchboard_config(tmp_path, asterisk, operators=("eva", "olle"))
    svc = await started(routing, data, ami_login)
    async with OperatorClient(api(svc), "eva", PASSWORD) as eva, OperatorClient(api(svc), "olle", PASSWORD) as olle:
        call = await svc.call("9000")
        waiting = await eva.wait_call(call.call_id, place="waiting")
        path = f"/api/calls/{waiting['id']}/answer"
        (eva_status, eva_answer), (olle_status, olle_answer) = await asyncio.gather(eva.post(path), olle.post(path))
        assert sorted([eva_status, olle_status]) == [200, 409], (eva_answer, olle_answer)
        winner = "eva" if eva_status == 200 else "olle"
        loser_answer = olle_answer if winner == "eva" else eva_answer
        assert winner in loser_answer["error"]  # the other is told who has it
        await eva.wait_call(call.call_id, place="talking", operator=winner)
        await call.wait_dial(f"answer1-{winner}")
        assert [d.dest_channel.split("@")[0] for d in call.dials()] == [f"Local/answer1-{winner}"]
        await call.hang_up()
        await svc.log.wait_end(call.call_id, timeout=10)


@pytest.mark.parametrize(("behaviour", "why"), [("ring", "no answer"), ("busy", "busy"), ("unavail", "unregistered")])
async def test_r1_a_call_put_through_comes_back_to_the_top_marked_with_the_persons_referral_and_mobile(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox, behaviour: str, why: str
) -> None:
    """Återfall: put through to Anna, whose phone does not answer / is busy / is unregistered;
    the call is back at the top of the queue within the ring limit + 1 s, marked, with Anna's
    mobile (R15) for the operator."""
    data = switchboard_config(tmp_path, asterisk, soc1=behaviour)
    svc = await started(routing, data, ami_login)
    async with OperatorClient(api(svc), "eva", PASSWORD) as eva:
        earlier = await svc.call("9000")  # waiting longer: the returned call must still come first
        await eva.wait_call(earlier.call_id, place="waiting")
        call, channel = await talking_to(svc, eva)
        put = await eva.act(channel, "transfer", {"to": "5001"})
        assert (put["to"], put["kind"], put["timeout_s"]) == ("Anna (5001)", "person", RING_LIMIT_S)
        sent = time.monotonic()
        back = await eva.wait_call(call.call_id, timeout=RING_LIMIT_S + 10, place="returned")
        assert time.monotonic() - sent < RING_LIMIT_S + 1.0 + MARGIN_S
        assert back["returned"]["from"] == "Anna (5001)" and back["returned"]["why"] == why
        anna = back["returned"]["person"]
        assert (anna["id"], anna["mobile"], anna["cover"]) == ("soc1", "0701234567", "5002")
        assert back["returns"] == 1
        assert [c["call_id"] for c in await eva.calls()][:2] == [call.call_id, earlier.call_id]
        target_dials = [d for d in call.dials() if f"{behaviour}-soc1" in d.dest_channel]
        # An unregistered phone is passed over without a Dial when Asterisk has reported its
        # state to the service by then (AMI), else the Dial gives CHANUNAVAIL at once: either way
        # the call comes back marked "unregistered".
        assert len(target_dials) == 1 or (behaviour == "unavail" and target_dials == [])
        assert all(d.seconds < RING_LIMIT_S + 0.8 for d in target_dials)  # R1: never longer than the ring limit
        transfer = svc.log.one(call.call_id, "switchboard.transfer")
        assert (transfer["operator"], transfer["kind"], transfer["target"]) == ("eva", "person", "soc1")

        await eva.act(channel, "hangup")
        await svc.log.wait_end(call.call_id, timeout=10)
        left = svc.log.one(call.call_id, "switchboard.left")  # by her, not "the caller hung up"
        assert (left["why"], left["operator"], left["place"]) == ("hung_up", "eva", "returned")
        await eva.wait_gone(call.call_id)
        await earlier.hang_up()
        await svc.log.wait_end(earlier.call_id, timeout=10)


async def test_a_held_caller_comes_back_to_the_operator_who_held_them(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox
) -> None:
    data = switchboard_config(tmp_path, asterisk, operators=("eva", "olle"), hold_recall_s=3)
    svc = await started(routing, data, ami_login)
    async with OperatorClient(api(svc), "eva", PASSWORD) as eva, OperatorClient(api(svc), "olle", PASSWORD) as olle:
        call, channel = await talking_to(svc, eva)
        await eva.act(channel, "hold")
        held = await eva.wait_call(call.call_id, place="held", operator="eva")
        status, refused = await olle.post(f"/api/calls/{channel}/answer")
        assert status == 409 and "eva" in refused["error"]  # held by eva: hers
        held_at = time.monotonic()
        assert 0 < held["recall_in_s"] <= 3
        await eva.wait_call(call.call_id, timeout=3 + 5, place="talking", operator="eva")
        assert time.monotonic() - held_at == pytest.approx(3 + 1, abs=MARGIN_S)  # recall + her phone's 1 s
        operator_dials = [d for d in call.dials() if "answer1-eva" in d.dest_channel]
        assert len(operator_dials) == 2  # her phone rang again
        assert svc.log.one(call.call_id, "switchboard.held")["operator"] == "eva"
        assert [r.get("recalled", False) for r in svc.log.for_call(call.call_id, "switchboard.answered")] == [
            False,
            True,
        ]
        await call.hang_up()
        await svc.log.wait_end(call.call_id, timeout=10)


@pytest.mark.faults_expected  # the ARI link's loss is logged as the fault it is
async def test_r3_ari_link_cut_with_callers_waiting_held_and_in_a_transfer_each_gets_the_switchboard(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox
) -> None:
    """The service's ARI connection is cut (a network fault: no close, no reconnection
    possible): no lease is renewed any more, and within the lease every caller leaves Stasis
    to the dialplan, which rings the switchboard's phones, then gives its mailbox (R2, R3)."""
    proxy = TcpProxy(asterisk.settings.http_port)
    data = switchboard_config(tmp_path, asterisk, operators=("eva", "olle"), ari_port=await proxy.start())
    svc = await started(routing, data, ami_login)
    async with OperatorClient(api(svc), "eva", PASSWORD) as eva, OperatorClient(api(svc), "olle", PASSWORD) as olle:
        callers = await three_callers(eva, olle, lambda: svc.call("9000"))
        await proxy.cut()
        cut_at = time.monotonic()
        await each_gets_the_switchboard(callers, cut_at)
        for call in callers:
            await svc.log.wait_end(call.call_id, timeout=10)
    assert svc.service.live is not None and len(svc.service.live.queue) == 0


async def three_callers(
    eva: OperatorClient, olle: OperatorClient, call: Callable[[], Awaitable[CallerCall]]
) -> tuple[CallerCall, CallerCall, CallerCall]:
    """One caller waiting, one held by eva, one olle put through to Anna (whose phone rings)."""
    waiting_call = await call()
    await eva.wait_call(waiting_call.call_id, place="waiting")
    held_call = await call()
    held = await eva.wait_call(held_call.call_id, place="waiting")
    await eva.act(held["id"], "answer")
    await eva.wait_call(held_call.call_id, place="talking")
    await eva.act(held["id"], "hold")
    await eva.wait_call(held_call.call_id, place="held")
    moving_call = await call()
    moving = await olle.wait_call(moving_call.call_id, place="waiting")
    await olle.act(moving["id"], "answer")
    await olle.wait_call(moving_call.call_id, place="talking")
    await olle.act(moving["id"], "transfer", {"to": "5001"})  # Anna's phone rings, unanswered
    await moving_call.wait_dial("ring-soc1")
    return waiting_call, held_call, moving_call


async def each_gets_the_switchboard(callers: tuple[CallerCall, ...], since: float) -> None:
    """R2/R3: the switchboard's phones ring, then its mailbox answers, within the ring limit + 5 s."""
    for call in callers:
        await call.wait_dial("ring-switchboard", timeout=QUEUE_LEASE_S + RING_LIMIT_S + 5)
    for call in callers:
        await call.wait_app("VoiceMail", timeout=RING_LIMIT_S + 10, data_contains="9000")
        assert time.monotonic() - since < RING_LIMIT_S + 5 + MARGIN_S
    for call in callers:
        await call.hang_up()
        await call.wait_no_channels()


async def test_r3_service_sigkilled_with_callers_waiting_held_and_in_a_transfer_each_gets_the_switchboard(
    service_process: StartProcess, ami: Ami, tmp_path: Path, asterisk: RunningSandbox
) -> None:
    """`routing run` dies (SIGKILL: nothing is let go, no socket closed politely): its leases are
    not renewed, and Stasis() fails at once for the caller whose transfer comes back."""
    data = switchboard_config(tmp_path, asterisk, operators=("eva", "olle"))
    svc = await service_process(data, ari=data["asterisk"]["ari"])
    await svc.wait_logged('"ari.resynced"')
    base = f"http://{data['switchboard']['listen']}"
    async with OperatorClient(base, "eva", PASSWORD) as eva, OperatorClient(base, "olle", PASSWORD) as olle:
        callers = await three_callers(eva, olle, lambda: call_via(ami, svc, "9000"))
        svc.kill()
        killed_at = time.monotonic()
    await each_gets_the_switchboard(callers, killed_at)


async def test_the_stream_reports_a_new_caller_and_a_referral_set_from_a_phone_within_a_second(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox
) -> None:
    data = switchboard_config(tmp_path, asterisk)
    svc = await started(routing, data, ami_login)
    async with OperatorClient(api(svc), "eva", PASSWORD) as eva:
        async with eva.http.ws_connect("/api/stream", headers={"Origin": api(svc)}) as ws:
            assert (await ws.receive_json(timeout=5))["type"] == "hello"

            async def next_message(wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
                while True:
                    message: dict[str, Any] = await ws.receive_json(timeout=10)
                    if wanted(message):
                        return message

            call = await svc.call("9000")
            entered = await call.wait_app("Stasis")
            queued = await next_message(
                lambda m: m["type"] == "calls" and any(c["call_id"] == call.call_id for c in m["calls"])
            )
            assert time.monotonic() - entered.at < 1.0 + MARGIN_S
            (shown,) = [c for c in queued["calls"] if c["call_id"] == call.call_id]
            assert shown["place"] == "waiting" and shown["caller"] == "0701234567"  # R12: a logged-in operator

            code = await svc.call("*2121300", context="routing-features", caller="5001")  # meeting, back 13:00
            referral = await next_message(lambda m: m["type"] == "referral")
            assert referral == {"type": "referral", "person": "soc1", "reason": "meeting", "by": "phone:5001"}
            await code.wait_hangup()
            await call.hang_up()
            await next_message(lambda m: m["type"] == "calls" and all(c["call_id"] != call.call_id for c in m["calls"]))
        await svc.log.wait_end(call.call_id, timeout=10)


async def test_r1_past_the_queues_timeout_a_caller_gets_the_switchboards_own_chain(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox
) -> None:
    """Nobody takes the caller within switchboard.queue_timeout_s: the flow goes on to the
    switchboard's voicemail (R1, R2). A caller an operator had, back from a transfer nobody
    answered and not taken again in time, gets the switchboard's mailbox too."""
    data = switchboard_config(tmp_path, asterisk, queue_timeout_s=3)
    svc = await started(routing, data, ami_login)
    async with OperatorClient(api(svc), "eva", PASSWORD) as eva:
        call = await svc.call("9000")
        entered = await call.wait_app("Stasis")
        mailbox = await call.wait_app("VoiceMail", timeout=3 + 10, data_contains="9000")
        assert mailbox.at - entered.at == pytest.approx(3, abs=MARGIN_S)
        assert svc.log.one(call.call_id, "switchboard.left")["why"] == "overflow"
        assert svc.log.one(call.call_id, "call.no_answer")["target"] == "9000"
        await call.hang_up()
        end = await svc.log.wait_end(call.call_id, timeout=10)
        assert end["outcome"] == "voicemail"

        had, channel = await talking_to(svc, eva)
        await eva.act(channel, "transfer", {"to": "5001"})
        await eva.wait_call(had.call_id, timeout=RING_LIMIT_S + 5, place="returned")
        await had.wait_app("VoiceMail", timeout=3 + 10, data_contains="9000")
        await had.hang_up()
        end = await svc.log.wait_end(had.call_id, timeout=10)
        assert (end["outcome"], end["by"]) == ("answered", "operator:eva")  # she had answered it (R2)


async def test_r15_r18_r20_a_mobile_needs_confirmation_and_is_a_cost_a_premium_number_stays_barred(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox
) -> None:
    data = switchboard_config(tmp_path, asterisk)
    data["outbound"] = {"trunk": "Local/answer1-{number}@sandbox-phones", "barred_prefixes": ["0900"]}
    svc = await started(routing, data, ami_login)
    async with OperatorClient(api(svc), "eva", PASSWORD) as eva:
        call, channel = await talking_to(svc, eva)
        path = f"/api/calls/{channel}/transfer"

        status, barred = await eva.post(path, {"to": "0900123456"})
        assert (status, barred["rule"], barred["needs_confirmation"]) == (409, "R18", False)
        status, ask = await eva.post(path, {"to": "5001", "mobile": True})
        assert (status, ask["rule"], ask["needs_confirmation"]) == (409, "R15", True)
        assert "0701234567" in ask["error"] or "+46701234567" in ask["error"]
        await eva.wait_call(call.call_id, place="talking")  # nothing moved

        put = await eva.act(channel, "transfer", {"to": "5001", "mobile": True, "confirm": True})
        assert (put["kind"], put["mobile_cost"]) == ("mobile", True)
        await call.wait_dial("answer1-+46701234567")
        through = await svc.log.wait_for(call.call_id, "switchboard.put_through")
        assert through["target"] == "soc1"
        await eva.wait_gone(call.call_id)
        transfer = svc.log.one(call.call_id, "switchboard.transfer")
        assert (transfer["kind"], transfer["mobile_cost"], transfer["rules"]) == ("mobile", True, ["R1", "R15", "R20"])
        refusals = [r["rule"] for r in svc.log.records() if r.get("event") == "operator.action_refused"]
        assert refusals == ["R18", "R15"]
        await call.hang_up()
        await svc.log.wait_end(call.call_id, timeout=10)


async def test_r4_an_operator_calls_a_callback_back_from_the_api_and_it_is_done(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox
) -> None:
    """`POST /api/callbacks/{id}/call`: the operator's own phone rings first, then the caller
    (the trunk); the outcome comes on the stream and the callback is done by the operator."""
    data = switchboard_config(tmp_path, asterisk)
    data["outbound"] = {"trunk": "Local/answer1-{number}@sandbox-phones"}
    svc = await started(routing, data, ami_login)
    callback_id = svc.store.add_callback(call_id="c1", caller="0701234567", target="soc1", at=svc.clock())
    async with OperatorClient(api(svc), "eva", PASSWORD) as eva:
        async with eva.http.ws_connect("/api/stream", headers={"Origin": api(svc)}) as ws:
            assert (await ws.receive_json(timeout=5))["type"] == "hello"
            status, answer = await eva.post(f"/api/callbacks/{callback_id}/call")
            assert (status, answer) == (202, {"id": callback_id, "status": "calling"})
            status, again = await eva.post(f"/api/callbacks/{callback_id}/call")
            assert status == 409 and "already" in again["error"]  # one call at a time
            while (message := await ws.receive_json(timeout=RING_LIMIT_S + 30))["type"] != "callback":
                pass
        assert message == {
            "type": "callback",
            "id": callback_id,
            "outcome": "answered",
            "done": True,
            "by": "operator:eva",
        }
        done = svc.store.callback(callback_id)
        assert done is not None and (done.status, done.done_by, done.attempts) == ("done", "operator:eva", 1)
        status, refused = await eva.post(f"/api/callbacks/{callback_id}/call")
        assert status == 409 and "done already" in refused["error"]
        status, _ = await eva.post("/api/callbacks/999/call")
        assert status == 404
    (calling,) = [r for r in svc.log.records() if r.get("event") == "operator.callback_call"]
    assert (calling["operator"], calling["callback_id"]) == ("eva", callback_id)
    (attempt,) = [r for r in svc.log.records() if r.get("event") == "callback.attempt"]
    assert (attempt["by"], attempt["outcome"], attempt["done"]) == ("operator:eva", "answered", True)


async def test_r11_a_referral_set_and_cleared_by_another_process_reaches_the_stream(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox
) -> None:
    """`routing referral set` (another process, the same store) is on the operators' stream
    within the watch's second, and so is its clearing."""
    data = switchboard_config(tmp_path, asterisk)
    svc = await started(routing, data, ami_login)
    config_file = tmp_path / "cli.yaml"
    config_file.write_text(yaml.safe_dump({**data, "store": {"url": svc.service.config.store.url}}), encoding="utf-8")
    cli = [sys.executable, "-m", "routing", "referral"]
    async with (
        OperatorClient(api(svc), "eva", PASSWORD) as eva,
        eva.http.ws_connect("/api/stream", headers={"Origin": api(svc)}) as ws,
    ):
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        await asyncio.sleep(REFERRAL_POLL_S * 2)  # the watch has read what is in force

        async def referral_message() -> tuple[dict[str, Any], float]:
            while (message := await ws.receive_json(timeout=10))["type"] != "referral":
                pass
            return message, time.monotonic()

        for args, wanted in (
            (["set", "soc1", "--reason", "sick"], {"person": "soc1", "reason": "sick"}),
            (["clear", "soc1"], {"person": "soc1", "reason": None}),
        ):
            done = await asyncio.to_thread(
                subprocess.run, [*cli, *args, "--config", str(config_file)], capture_output=True, text=True
            )
            assert done.returncode == 0, done.stderr
            written = time.monotonic()
            message, seen = await referral_message()
            assert message == {"type": "referral", **wanted, "by": None}
            assert seen - written < REFERRAL_POLL_S + MARGIN_S


async def test_r12_only_a_logged_in_operator_sees_or_moves_a_caller(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox
) -> None:
    """#13 item 9 against the running service with a caller in the queue: no session → 401, a
    cross-site POST (with the session's cookie and CSRF token) → 403, an expired session → 401;
    the caller stays waiting through all of them, and the refusals are logged."""
    data = switchboard_config(tmp_path, asterisk)
    data["switchboard"]["session_idle_minutes"] = 1
    svc = await started(routing, data, ami_login)
    call = await svc.call("9000")
    async with aiohttp.ClientSession(api(svc), cookie_jar=aiohttp.CookieJar(unsafe=True)) as stranger:
        for method, path in (("GET", "/api/calls"), ("GET", "/api/callbacks"), ("GET", "/api/directory?q=anna")):
            async with stranger.request(method, path) as response:
                assert response.status == 401, path
        async with stranger.post("/api/calls/x/answer", json={}) as response:
            assert response.status == 401
    async with OperatorClient(api(svc), "eva", PASSWORD) as eva:
        waiting = await eva.wait_call(call.call_id, place="waiting")
        headers = {"X-CSRF-Token": eva.csrf, "Origin": "https://evil.example"}
        async with eva.http.post(f"/api/calls/{waiting['id']}/answer", json={}, headers=headers) as response:
            assert response.status == 403
        await eva.wait_call(call.call_id, place="waiting", operator=None)  # nothing moved

        svc.clock.start += timedelta(seconds=61)  # a minute and a second without a request
        async with eva.http.get("/api/calls") as response:
            assert response.status == 401
        status, _ = await eva.post(f"/api/calls/{waiting['id']}/answer")
        assert status == 401
    async with OperatorClient(api(svc), "eva", PASSWORD) as eva:  # logged in again: still waiting
        await eva.wait_call(call.call_id, place="waiting", operator=None)
    refused = [r.get("why") for r in svc.log.records() if r.get("event") == "operator.refused"]
    assert refused.count("no live session") >= 6 and refused.count("cross-site request") == 1
    await call.hang_up()
    await svc.log.wait_end(call.call_id, timeout=10)


async def test_r1_a_transfer_passes_over_a_phone_asterisk_reports_unregistered_and_comes_back_at_once(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path, asterisk: RunningSandbox
) -> None:
    """Anna's desk phone exists but is not registered (DEVICE_STATE UNAVAILABLE, as AMI
    reports it): put through to her, it is not rung at all, and the call is back at the top at
    once, marked unregistered, with her mobile (R15)."""
    data = switchboard_config(tmp_path, asterisk)
    data["people"][0]["device"] = "PJSIP/offline1"
    svc = await started(routing, data, ami_login)
    async with OperatorClient(api(svc), "eva", PASSWORD) as eva:
        call, channel = await talking_to(svc, eva)
        put = await eva.act(channel, "transfer", {"to": "5001"})
        assert put["ringing"] == [] and put["passed_over"] == [{"device": "PJSIP/offline1", "why": "unregistered"}]
        sent = time.monotonic()
        back = await eva.wait_call(call.call_id, timeout=10, place="returned")
        assert time.monotonic() - sent < 1.0 + MARGIN_S  # no ringing a phone that cannot answer
        assert (back["returned"]["why"], back["returned"]["person"]["mobile"]) == ("unregistered", "0701234567")
        assert not any("offline1" in d.dest_channel for d in call.dials())
        await call.hang_up()
        await svc.log.wait_end(call.call_id, timeout=10)
