"""Issue #4 end to end: referrals from the phone, outbound rules, callbacks, the mobile guard,
device states, and the fail-safe when the service is stopped or killed at any moment.

The service runs in-process (harness.start_service) except where it must die: there it is a
real `routing run` process, killed with SIGKILL. Timings: ring limit 3 × 1 s, progress 2 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from structlog.testing import capture_logs

from routing.ami.backoff import Backoff
from routing.ami.client import AmiClient
from routing.calllog.events import CallEnd, CallStart
from routing.policy.referral import Reason, Referral
from routing.policy.spoken_swedish import FEATURE_REFUSED, PREMIUM_RATE_REFUSED, REFERRAL_CLEARED
from routing.sandbox import RunningSandbox
from routing.service.callback_call import CallbackResult, call_back
from routing.store import Callback, SqliteStore
from tests.e2e.harness import (
    Ami,
    AmiLogin,
    RunningService,
    ServiceProcess,
    StartProcess,
    call_via,
    ends_in_voicemail,
    finish,
    municipality,
    phone,
    prompt_path,
    stockholm,
    wait_for_astdb,
)

pytestmark = [pytest.mark.e2e]

Routing = Callable[..., Awaitable[RunningService]]
APPROVAL = {"approved_by": "Verksamhetschef Soc", "approved_on": "2026-03-01"}


def with_outbound(data: dict[str, Any], trunk: str = "Local/answer1-{number}@sandbox-phones") -> dict[str, Any]:
    data["outbound"] = {"trunk": trunk, "private_prefix": "*7", "barred_prefixes": ["0900", "099"]}
    data["people"][0]["pay_services"] = APPROVAL  # soc1 (5001) may call premium-rate numbers
    return data


def records(svc: RunningService, name: str) -> list[dict[str, Any]]:
    return [r for r in svc.log.records() if r.get("event") == name]


async def wait_record(svc: RunningService, name: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not (found := records(svc, name)):
        assert time.monotonic() < deadline, f"no {name} logged; logged {[r.get('event') for r in svc.log.records()]}"
        await asyncio.sleep(0.05)
    return found[-1]


# --- R11 referral from the phone --------------------------------------------------------------------


async def test_r11_referral_set_from_a_phone_takes_effect_for_the_next_call(routing: Routing) -> None:
    svc = await routing(municipality(soc2="answer1"))
    code = await svc.call("*2121300", context="routing-features", caller="5001")  # meeting, back 13:00
    played = await code.wait_app("Playback")
    await code.wait_hangup()
    assert svc.store.referrals() == [Referral("soc1", Reason.MEETING, stockholm("2026-12-01 13:00"))]
    confirmation = await prompt_path("Hänvisning registrerad. Anna sitter i möte och är tillbaka klockan 13.")
    assert played["AppData"] == confirmation
    logged = await wait_record(svc, "referral.set")
    assert (logged["person"], logged["reason"], logged["by"]) == ("soc1", "meeting", "phone:5001")

    call = await svc.call("5001")
    await call.wait_app("Playback")  # the referral message, not a Dial of Anna's phone
    await call.wait_dial("soc2", ended=True)
    assert call.dialled() == ["answer1-soc2@sandbox-phones"]
    assert svc.log.one(call.call_id, "call.referral")["reason"] == "meeting"
    await call.hang_up()
    await finish(svc, call, "cover")


async def test_r11_referral_cleared_from_the_phone(routing: Routing) -> None:
    svc = await routing(municipality(soc1="answer1"), referrals=[Referral("soc1", Reason.SICK)])
    code = await svc.call("#21", context="routing-features", caller="5001")
    played = await code.wait_app("Playback")
    await code.wait_hangup()
    assert played["AppData"] == await prompt_path(REFERRAL_CLEARED)
    assert svc.store.referrals() == []
    call = await svc.call("5001")
    await call.wait_dial("soc1", ended=True)  # rung again
    await call.hang_up()
    await finish(svc, call, "answered")


@pytest.mark.parametrize("code", ["*219", "*2111360", "*2151332", "*21", "*22", "#2", "*211*12"])
async def test_r11_malformed_code_is_refused_and_changes_nothing(routing: Routing, code: str) -> None:
    before = Referral("soc1", Reason.LUNCH)
    svc = await routing(municipality(), referrals=[before])
    call = await svc.call(code, context="routing-features", caller="5001")
    played = await call.wait_app("Playback")
    await call.wait_hangup()
    assert played["AppData"] == await prompt_path(FEATURE_REFUSED)
    assert svc.store.referrals() == [before]
    assert (await wait_record(svc, "feature.refused"))["code"] == code


async def test_r11_feature_code_without_the_service_plays_the_error_tone(routing: Routing) -> None:
    svc = await routing(municipality())
    await svc.stop()
    call = await svc.call("*211", context="routing-features", caller="5001")
    played = await call.wait_app("Playback")
    assert played["AppData"] == "beeperr"
    await call.wait_hangup()


# --- R17/R18 outbound ---------------------------------------------------------------------------------


async def test_r18_premium_number_is_refused_without_permission(routing: Routing) -> None:
    svc = await routing(with_outbound(municipality()))
    call = await svc.call("0900123456", context="routing-outbound", caller="5002")
    played = await call.wait_app("Playback")
    await call.wait_hangup()
    assert played["AppData"] == await prompt_path(PREMIUM_RATE_REFUSED)
    assert call.dials() == []
    blocked = await wait_record(svc, "outbound.blocked")
    assert blocked["rule"] == "R18" and blocked["dialled"] == "090*****56"  # R12: masked


async def test_r18_permission_lets_the_premium_call_through(routing: Routing) -> None:
    svc = await routing(with_outbound(municipality()))
    call = await svc.call("0900123456", context="routing-outbound", caller="5001")
    await call.wait_dial("answer1-0900123456", ended=True)
    assert call.dials()[0].status == "ANSWER"
    await call.hang_up()


async def test_r17_private_call_goes_out_without_the_prefix_and_is_recorded(routing: Routing) -> None:
    svc = await routing(with_outbound(municipality()))
    call = await svc.call("*70701234567", context="routing-outbound", caller="5002")
    await call.wait_dial("answer1-0701234567", ended=True)
    assert "1?Set(CDR(userfield)=private)" in [a.data for a in call.apps("ExecIf")]
    assert (await wait_record(svc, "call.private"))["extension"] == "5002"
    await call.hang_up()


async def test_r18_fail_closed_when_the_service_is_gone(routing: Routing, ami: Ami, ami_login: AmiLogin) -> None:
    svc = await routing(with_outbound(municipality()), ami_login=ami_login)
    await wait_for_astdb(ami, "barred/0900", "1")
    await wait_for_astdb(ami, "outbound/trunk_prefix", "Local/answer1-")
    await svc.stop()
    barred = await svc.call("0900123456", context="routing-outbound", caller="5001")  # even with permission
    played = await barred.wait_app("Playback")
    await barred.wait_hangup()
    assert played["AppData"] == "ss-noservice" and barred.dials() == []
    ordinary = await svc.call("*70701234567", context="routing-outbound", caller="5002")
    await ordinary.wait_dial("answer1-0701234567@sandbox-phones", ended=True)
    assert "1?Set(CDR(userfield)=private)" in [a.data for a in ordinary.apps("ExecIf")]
    await ordinary.hang_up()


# --- R14 mobile guard, device states ------------------------------------------------------------------


def with_mobile(data: dict[str, Any], mobile_phone: str) -> dict[str, Any]:
    data["people"][0]["forward_to_mobile"] = APPROVAL
    data["outbound"] = {"trunk": f"Local/{mobile_phone}-{{number}}@sandbox-phones"}
    return data


async def test_r14_mobile_answers_after_the_key_press_and_is_logged(routing: Routing) -> None:
    svc = await routing(with_mobile(municipality(soc1="ring"), "answer1key1"))
    call = await svc.call("5001")
    ended = await call.wait_dial("mobile@routing-mobile", ended=True)
    assert ended["DialStatus"] == "ANSWER"
    assert sorted(call.dialled()) == ["mobile@routing-mobile", "ring-soc1@sandbox-phones"]
    forward = svc.log.one(call.call_id, "mobile.forward")
    assert forward["person"] == "soc1" and forward["rules"] == ["R14", "R20"]
    await call.hang_up()
    await finish(svc, call, "answered", by="soc1")


async def test_r14_operator_voicemail_on_the_mobile_cannot_take_the_call(routing: Routing) -> None:
    svc = await routing(with_mobile(municipality(soc1="ring", soc2="answer1"), "answer1"))  # answers, no key
    call = await svc.call("5001")
    await call.wait_dial("soc2", ended=True)  # the desk rang its limit, then the cover answered
    first = next(d for d in call.dials() if d.dial_string == "ring-soc1@sandbox-phones")
    assert first.status == "NOANSWER"
    assert svc.log.for_call(call.call_id, "mobile.forward") == []
    await call.hang_up()
    await finish(svc, call, "cover")


async def test_r2_unregistered_phone_is_not_rung(routing: Routing, ami_login: AmiLogin) -> None:
    data = municipality(soc2="answer1")
    data["people"][0]["device"] = "PJSIP/offline1"  # exists in the sandbox, never registered
    svc = await routing(data, ami_login=ami_login)
    await wait_record(svc, "astdb.synced")
    call = await svc.call("5001")
    await call.wait_dial("soc2", ended=True)
    assert call.dialled() == ["answer1-soc2@sandbox-phones"]
    assert (
        "PJSIP/offline1 is unavailable (not registered): not rung" in svc.log.one(call.call_id, "call.start")["notes"]
    )
    await call.hang_up()
    await finish(svc, call, "cover")


# --- R4 callbacks ---------------------------------------------------------------------------------------


async def call_back_from(
    asterisk: RunningSandbox, svc: RunningService, stored: Callback, extension: str
) -> CallbackResult:
    """`routing callbacks call ID --from EXTENSION`, with the service's config and store."""
    ami = AmiClient(asterisk.ami_host, asterisk.ami_port, asterisk.ami_username, asterisk.ami_secret)
    await ami.connect()
    try:
        directory = svc.service.router.directory
        device = directory.device_of(extension)
        assert device is not None
        return await call_back(
            stored, device=device, by=extension, directory=directory, store=svc.store, ami=ami, now=svc.clock()
        )
    finally:
        ami.close()


async def test_r4_callback_requested_stored_called_back_and_closed(routing: Routing, asterisk: RunningSandbox) -> None:
    # Anna does not answer; she has no cover in this chain: the caller is offered a callback.
    # Erik (5002) calls back from a phone that answers; the caller's line (the trunk) answers.
    data = with_outbound(municipality(soc1="ring", soc2="answer1", soc1_fallback=["callback", "voicemail"]))
    svc = await routing(data)
    call = await svc.call("5001")
    await call.wait_app("Read")
    await call.press("1")
    await call.wait_app("Playback")  # the confirmation
    await call.hang_up()
    await finish(svc, call, "callback")
    (stored,) = svc.store.callbacks(only_open=True)
    assert (stored.caller, stored.target, stored.call_id) == ("0701234567", "soc1", call.call_id)  # full number
    assert svc.log.one(call.call_id, "callback.requested")["callback_id"] == stored.id

    result = await call_back_from(asterisk, svc, stored, "5002")
    assert (result.outcome, result.done) == ("answered", True)
    done = svc.store.callback(stored.id)
    assert done is not None and done.status == "done" and done.done_by == "5002" and done.attempts == 1
    assert done.last_outcome == "answered"


async def test_r4_callback_not_answered_by_the_employee_stays_open(routing: Routing, asterisk: RunningSandbox) -> None:
    svc = await routing(with_outbound(municipality(soc2="ring")))
    callback_id = svc.store.add_callback(call_id="x", caller="0701234567", target="soc1", at=svc.clock())
    stored = svc.store.callback(callback_id)
    assert stored is not None
    result = await call_back_from(asterisk, svc, stored, "5002")
    assert (result.outcome, result.done) == ("employee_no_answer", False)
    again = svc.store.callback(callback_id)
    assert again is not None and again.status == "open" and again.attempts == 1


# --- R3 the fail-safe when the service dies -------------------------------------------------------------


async def test_r3_killed_before_the_call_asterisk_rings_then_voicemail(service_process: StartProcess, ami: Ami) -> None:
    svc = await service_process(municipality())
    svc.kill()
    call = await call_via(ami, svc, "5001")
    ring = await call.wait_dial("ring-soc1", ended=True)  # from AstDB, within the ring limit
    assert ring["DialStatus"] == "NOANSWER"
    assert 2.2 <= call.dials()[0].seconds <= 3.8
    await ends_in_voicemail(call, "5001@default")


async def test_r3_killed_while_ringing_voicemail_after_the_ring_limit(service_process: StartProcess, ami: Ami) -> None:
    svc = await service_process(municipality())
    call = await call_via(ami, svc, "5001")
    await call.wait_dial("ring-soc1")
    svc.kill()
    await ends_in_voicemail(call, "5001@default")
    assert call.dialled() == ["ring-soc1@sandbox-phones"]  # not rung a second time


async def test_r3_killed_mid_call_the_next_service_logs_the_calls_one_call_end(
    service_process: StartProcess, ami: Ami, tmp_path: Path
) -> None:
    """#6: a killed service cannot end its calls; the one started after it finds them once the
    fail-safe is done with them, so the event log has exactly one call.end for each."""
    svc = await service_process(municipality())
    call = await call_via(ami, svc, "5001")
    await call.wait_dial("ring-soc1")
    # The service stores a call's start once it has answered Asterisk (the recorder writes when
    # the event loop is next free, so no call waits for the store): a kill in those few
    # milliseconds loses the start, and the next service cannot end a call it never heard of.
    # Seen once in a full e2e run; the kill here comes after the write, as the test intends.
    await _stored_open(tmp_path / "routing.db", call.call_id)
    svc.kill()
    await ends_in_voicemail(call, "5001@default")
    after = await service_process(municipality())  # the same store
    deadline = time.monotonic() + 20
    while not (ends := [e for e in _events(after) if e.get("call_id") == call.call_id and e["event"] == "call.end"]):
        assert time.monotonic() < deadline, "no call.end from the next service"
        await asyncio.sleep(0.2)
    assert (ends[0]["outcome"], ends[0]["lost"]) == ("failsafe", True)
    assert [e["event"] for e in _events(svc) if e.get("call_id") == call.call_id] == ["call.start", "call.step"]
    await asyncio.sleep(6)  # a further sweep of the next service adds nothing
    store = SqliteStore(tmp_path / "routing.db")
    stored = [
        e.event.NAME
        for e in store.events_between(datetime.now(UTC) - timedelta(minutes=5), datetime.now(UTC), CallStart, CallEnd)
        if e.call_id == call.call_id
    ]
    store.close()
    assert stored == ["call.start", "call.end"]
    assert sum(e["event"] == "call.end" for e in _events(after) if e.get("call_id") == call.call_id) == 1


async def _stored_open(db: Path, call_id: str, timeout_s: float = 5.0) -> None:
    """Wait until the store has `call_id` among the calls in progress."""
    deadline = time.monotonic() + timeout_s
    while True:
        store = SqliteStore(db)
        try:
            if any(o.call_id == call_id for owner in store.open_call_owners() for o in store.open_calls(owner)):
                return
        finally:
            store.close()
        assert time.monotonic() < deadline, f"call {call_id} never stored as in progress"
        await asyncio.sleep(0.05)


def _events(svc: ServiceProcess) -> list[dict[str, Any]]:
    return [json.loads(line) for line in svc.lines() if line.startswith("{")]


async def test_r3_killed_during_the_referral_message(service_process: StartProcess, ami: Ami) -> None:
    referral = Referral("soc1", Reason.VACATION, date(2099, 1, 1))
    svc = await service_process(municipality(), referrals=(referral,))
    call = await call_via(ami, svc, "5001")
    await call.wait_app("Playback")
    svc.kill()
    await ends_in_voicemail(call, "5001@default")
    assert call.dialled() == []  # R11: the fail-safe does not ring a person who is away


async def test_r3_killed_during_the_callback_offer(service_process: StartProcess, ami: Ami) -> None:
    svc = await service_process(
        municipality(soc1="busy", soc2="busy", soc1_fallback=["cover", "callback", "voicemail"])
    )
    call = await call_via(ami, svc, "5001")
    await call.wait_app("Read")
    svc.kill()
    await ends_in_voicemail(call, "5001@default")


async def test_r3_mailbox_of_the_dialled_number_missing_goes_to_the_switchboard(
    service_process: StartProcess, ami: Ami
) -> None:
    data = municipality()
    data["people"][0]["voicemail"] = "4711@default"  # no such mailbox in Asterisk
    svc = await service_process(data)
    svc.kill()
    call = await call_via(ami, svc, "5001")
    await ends_in_voicemail(call, "9000@default", timeout=25)


# --- AMI: reconnect and resync after an Asterisk restart --------------------------------------------------


async def test_after_an_asterisk_restart_the_service_logs_in_again_and_rewrites_astdb(
    routing: Routing, ami: Ami, ami_login: AmiLogin, asterisk: RunningSandbox
) -> None:
    svc = await routing(municipality(), ami_login=ami_login)
    await wait_for_astdb(ami, "ext/5001/dial", "Local/ring-soc1@sandbox-phones")
    await ami.db_del_tree("routing")  # as a new Asterisk would have it
    asterisk.rx("core restart now")
    for _ in range(100):
        with contextlib.suppress(Exception):
            asterisk.rx("core waitfullybooted", timeout=2)
            break
        await asyncio.sleep(0.2)
    deadline = time.monotonic() + 20
    while len(records(svc, "astdb.synced")) < 2:
        assert time.monotonic() < deadline, [r.get("event") for r in svc.log.records()]
        await asyncio.sleep(0.2)
    assert records(svc, "ami.disconnected")
    assert "Local/ring-soc1@sandbox-phones" in asterisk.rx("database get routing ext/5001/dial")


async def test_a_refused_ami_login_is_logged_once_and_retried_less_often(ami_login: AmiLogin) -> None:
    """A wrong secret: Asterisk refuses the login and hangs up; panoramisk would ask again every
    second in silence. One ami.login_refused line says what to check; the waits grow."""
    backoff = Backoff(first_s=0.2, cap_s=0.8)
    client = AmiClient(ami_login.host, ami_login.port, ami_login.username, "not-the-secret", backoff=backoff)
    with capture_logs() as logs:
        await client.connect()
        await asyncio.sleep(2.5)
        client.close()
    events = [entry["event"] for entry in logs]
    assert events.count("ami.login_refused") == 1
    assert "ami.logged_in" not in events and "ami.disconnected" not in events
    refused = next(entry for entry in logs if entry["event"] == "ami.login_refused")
    assert refused["reply"] == "Authentication failed" and "not-the-secret" not in str(logs)  # R12
    assert backoff.delay_s == 0.8  # refused again and again: at the cap


async def test_the_services_filtered_ami_session_gets_phone_states_and_action_replies(
    routing: Routing, ami_login: AmiLogin
) -> None:
    """The service asks Asterisk for DeviceStateChange only; the replies to its own actions
    (the channel list it ends lost calls by, AstDB) must still reach it."""
    svc = await routing(municipality(), ami_login=ami_login)
    assert svc.service.link is not None
    await asyncio.wait_for(svc.service.link.synced.wait(), 10)
    call = await svc.call("5001")
    await call.wait_dial("ring-soc1")
    channels = await svc.service.link.ami.channel_names()
    assert any(name.startswith("Local/ring-soc1@sandbox-phones") for name in channels)
    assert "ext/5001/dial" in await svc.service.link.ami.db_keys("routing")
    deadline = time.monotonic() + 10
    ringing = ("Local/ring-soc1@sandbox-phones", "INUSE")  # how the sandbox's Local phone shows it
    while ringing not in [(r["device"], r["state"]) for r in records(svc, "device.state")]:
        assert time.monotonic() < deadline, "no DeviceStateChange reached the service"
        await asyncio.sleep(0.1)
    assert not records(svc, "ami.filter_refused")
    await call.hang_up()


# --- the switchboard's view ---------------------------------------------------------------------------


async def test_phones_shows_each_phone_state_and_referral(ami_login: AmiLogin, ami: Ami, tmp_path: Path) -> None:
    data = municipality()
    data["people"][0]["device"] = "PJSIP/offline1"
    data["asterisk"] = {
        "ami": ami_login.config_section(tmp_path),
        "ari": {"password_env": "ROUTING_ARI_PASSWORD"},
    }
    data["store"] = {"url": f"sqlite:///{tmp_path.as_posix().lstrip('/')}/routing.db"}
    config = tmp_path / "routing.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    store = SqliteStore(tmp_path / "routing.db")
    store.set_referral(Referral("soc2", Reason.COURSE, date(2099, 1, 2)), at=stockholm("2026-12-01 10:00"), by="e2e")
    store.close()
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "routing", "phones", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[0] == ["ext", "name", "unit", "phone", "referral", "back", "mobile", "source", "soon"]
    assert rows[1] == ["5001", "Anna", "soc", "not", "registered", "0701234567"]
    assert rows[2] == ["5002", "Erik", "soc", "free", "course", "2099-01-02", "e2e"]  # set_by: its source
    assert rows[3] == ["5099", "Socialjouren", "soc", "free"]


async def test_r12_no_secret_and_no_caller_number_reaches_the_log(
    service_process: StartProcess, ami: Ami, ami_login: AmiLogin
) -> None:
    """The real `routing run`: its AMI secret (read from a file) and the caller's number never
    appear in a log line, while the call is logged in full."""
    svc = await service_process(municipality(soc1="answer1"))
    call = await call_via(ami, svc, "5001")
    await call.wait_dial("answer1-soc1", ended=True)
    await call.hang_up()
    await call.wait_no_channels()
    deadline = time.monotonic() + 5
    while not any('"call.end"' in line for line in svc.lines()):
        assert time.monotonic() < deadline, svc.lines()[-5:]
        await asyncio.sleep(0.05)
    text = "\n".join(svc.lines())
    assert '"call.answered"' in text and '"caller": "070*****67"' in text
    assert ami_login.secret not in text
    assert "0701234567" not in text


# --- #12 the fail-safe at any size ----------------------------------------------------------------


def _large_municipality(people: int, big_unit: int) -> dict[str, Any]:
    """municipality() grown to `people` more people, `big_unit` of them in unit big (6000),
    whose phones together do not fit one AstDB value (the sandbox's Local phones are long)."""
    data = with_outbound(municipality())
    extra = [
        {
            "id": f"p{n}",
            "name": f"Person {n}",
            "unit": "big" if n < big_unit else "soc",
            "extension": str(20000 + n),
            "device": phone("ring", f"p{n}"),
            "voicemail": "5001@default",
        }
        for n in range(people)
    ]
    data["people"] += extra
    data["units"][0]["members"] = ["soc1", "soc2"]  # soc keeps its two; the rest are listed by unit
    data["units"].append(
        {
            "id": "big",
            "name": "Stor enhet",
            "number": "6000",
            "telephone_officer": "p0",
            "duty_phone": "20000",
            "voicemail": "5000@default",
        }
    )
    return data


async def test_r3_a_large_config_gets_every_fail_safe_entry_and_a_big_unit_rings_all_its_phones(
    service_process: StartProcess, ami: Ami
) -> None:
    """2,000 more people, a unit of 60: the service writes every entry (none refused), is
    killed, and Asterisk alone rings the file's last person, every phone of the big unit, and
    puts an ordinary call out through the trunk."""
    data = _large_municipality(2000, 60)
    svc = await service_process(data)
    synced = next(e for e in _events(svc) if e["event"] == "astdb.synced")
    assert synced["refused"] == 0 and synced["entries"] > 6000
    assert not [e for e in _events(svc) if e["event"] in ("astdb.entry_refused", "ami.action_failed")]
    svc.kill()

    last = await call_via(ami, svc, "21999")  # the last person of the file
    ring = await last.wait_dial("ring-p1999", ended=True)
    assert ring["DialStatus"] == "NOANSWER"
    await ends_in_voicemail(last, "5001@default")

    unit = await call_via(ami, svc, "6000")
    await unit.wait_app("VoiceMail", 20, data_contains="5000@default")  # after its ring limit
    rung = {
        e["DestChannel"].split("@")[0].removeprefix("Local/")
        for e in ami.events
        if e.name == "DialBegin" and e["Linkedid"] == unit.call_id and "@sandbox-phones" in e["DialString"]
    }
    assert rung == {f"ring-p{n}" for n in range(60)}  # every one of the 60, through the groups
    await unit.hang_up()
    await unit.wait_no_channels()

    ordinary = await call_via(ami, svc, "0701234567", context="routing-outbound", caller="5002")
    await ordinary.wait_dial("answer1-0701234567@sandbox-phones", ended=True)
    await ordinary.hang_up()
