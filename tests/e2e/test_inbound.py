"""Inbound routing end to end (issue #3): the service in-process, the product's dialplan in the
sandbox Asterisk 22, simulated phones and callers. Every test asserts what Asterisk did (AMI:
devices dialled and for how long, applications run with their data) and what the service
logged (JSON events, exactly one call.end per call with its outcome and wait).

Timings of the test municipality (harness.municipality): ring limit 3 × 1 s = 3 s, progress
timeout 2 s, callback offer 2 s after its prompt.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import pytest

from routing.policy.call import Call
from routing.policy.planner import plan_call
from routing.policy.referral import Reason, Referral
from routing.policy.spoken_swedish import CALLBACK_CONFIRMATION, CALLBACK_OFFER
from routing.policy.steps import Message, StepKind
from routing.sandbox import RunningSandbox
from tests.e2e.harness import (
    E2E_CALLER,
    Ami,
    AmiLogin,
    RunningService,
    agi_requests,
    assert_valid_prompt,
    call_started,
    finish,
    municipality,
    prompt_path,
    step_results,
    stockholm,
    wait_for_astdb,
)
from tests.ports import free_port

pytestmark = [pytest.mark.e2e]

Routing = Callable[..., Awaitable[RunningService]]

MARGIN_S = 0.8  # AMI timestamps against Asterisk's timers
RING_LIMIT_S = 3.0
PROGRESS_TIMEOUT_S = 2.0
AT_ONCE_S = 0.5  # "the next step starts at once": within this of the previous one's end
SATURDAY = "2026-12-05 10:00"  # outside working hours
TUESDAY_AFTERNOON = "2026-12-01 13:00"  # inside working hours, outside soc's telephone hours
CHAIN_WITH_OFFER = ["cover", "callback", "voicemail"]  # the offer before voicemail (R4)


# --- R1 ring limit, R2 answers --------------------------------------------------------------------


async def test_r1_r2_unanswered_person_rings_the_limit_then_cover_answers(routing: Routing) -> None:
    svc = await routing(municipality(soc1="ring", soc2="answer1"))
    call = await svc.call("5001")
    await svc.log.wait_for(call.call_id, "call.answered", timeout=10)
    await asyncio.sleep(1.0)  # a second of conversation
    await call.hang_up()
    end = await finish(svc, call, "cover", by="soc2")

    # Asterisk: the person rang exactly the ring limit, then the cover rang at once and answered.
    person, cover = call.dials()
    assert (person.dial_string, person.status) == ("ring-soc1@sandbox-phones", "NOANSWER")
    assert person.seconds == pytest.approx(RING_LIMIT_S, abs=MARGIN_S)
    assert (cover.dial_string, cover.status) == ("answer1-soc2@sandbox-phones", "ANSWER")
    assert person.ended is not None and 0 <= cover.begun - person.ended < AT_ONCE_S
    assert cover.seconds == pytest.approx(1.0, abs=MARGIN_S)
    dials = call.apps("Dial")
    assert [d.data.split(",")[:2] for d in dials] == [
        ["Local/ring-soc1@sandbox-phones", "3^2"],
        ["Local/answer1-soc2@sandbox-phones", "3^2"],
    ]
    # The dialplan reports each Dial as STATUS/RING_AT/ANSWERED_AT (Asterisk's clock, epoch s):
    # no answer time after an unanswered Dial …
    ((event, detail),) = step_results(call)
    status, ring_at, answered_at = detail.split("/")
    assert (event, status, answered_at) == ("dial", "NOANSWER", "")
    assert float(ring_at) == pytest.approx(time.time(), abs=60)
    # … and after an answered one, the ring of that Dial (Dial's own DIALEDTIME_MS and
    # ANSWEREDTIME_MS are the caller channel's age and up time, not this Dial's: not used).
    # (reported by the hangup handler: the dialplan does not ask after an answered Dial), and
    # who answered (DIALEDPEERNAME, a channel name with a slash of its own).
    status, ring_at, answered_at, answerer = agi_requests(call, "hangup")[0][1].split("/", 3)
    assert status == "ANSWER" and answerer.startswith("Local/answer1-soc2@sandbox-phones-")
    assert float(answered_at) - float(ring_at) == pytest.approx(cover.seconds, abs=0.3)

    # The service's log: call_id is the linkedid of the call; one line per step and result.
    log = svc.log
    assert log.names(call.call_id) == [
        "call.start",
        "call.step",
        "call.no_answer",
        "call.step",
        "call.answered",
        "call.end",
    ]
    start = log.one(call.call_id, "call.start")
    assert start["channel"] == call.routing_channel
    assert all(e["Linkedid"] == call.call_id for e in call.events() if e["Linkedid"])
    assert (start["called"], start["target_kind"], start["target"]) == ("5001", "person", "soc1")
    assert start["hours"] == "open"
    assert start["caller"] == "070*****67" and start["hidden"] is False and start["internal"] is False  # R12 mask
    steps = log.for_call(call.call_id, "call.step")
    assert [(s["step"], s["target"], s["devices"], s["timeout_s"]) for s in steps] == [
        ("person", "soc1", ["Local/ring-soc1@sandbox-phones"], RING_LIMIT_S),
        ("cover", "soc2", ["Local/answer1-soc2@sandbox-phones"], RING_LIMIT_S),
    ]
    no_answer = log.one(call.call_id, "call.no_answer")
    assert no_answer["target"] == "soc1" and no_answer["rings"] == 3
    assert no_answer["rang_s"] == pytest.approx(person.seconds, abs=MARGIN_S)
    answered = log.one(call.call_id, "call.answered")
    assert (answered["by"], answered["step"]) == ("soc2", "cover")
    assert cover.ended is not None
    assert answered["wait_s"] == pytest.approx(cover.ended - call_started(call), abs=MARGIN_S)
    assert end["wait_s"] == answered["wait_s"]


async def test_r1_device_that_never_rings_is_given_up_after_the_progress_timeout(routing: Routing) -> None:
    svc = await routing(municipality(soc1="mute", soc2="answer1"))
    call = await svc.call("5001")
    await svc.log.wait_for(call.call_id, "call.answered", timeout=10)
    await call.hang_up()
    await finish(svc, call, "cover", by="soc2")

    mute, cover = call.dials()
    assert mute.dial_string == "mute-soc1@e2e-phones"
    assert mute.status == "CHANUNAVAIL"  # Dial's progress timeout (3^2) gives up as unavailable
    assert mute.seconds == pytest.approx(PROGRESS_TIMEOUT_S, abs=0.5)
    assert mute.seconds < RING_LIMIT_S - 0.5
    assert mute.ended is not None and 0 <= cover.begun - mute.ended < AT_ONCE_S
    assert call.apps("Dial")[0].data.startswith("Local/mute-soc1@e2e-phones,3^2,U(routing-answered^")
    assert [(e, d.split("/")[0], d.split("/")[2]) for e, d in step_results(call)] == [("dial", "CHANUNAVAIL", "")]
    unavailable = svc.log.one(call.call_id, "call.unavailable")
    assert (unavailable["target"], unavailable["status"]) == ("soc1", "unavailable")
    assert [s["step"] for s in svc.log.for_call(call.call_id, "call.step")] == ["person", "cover"]


async def test_r1_busy_and_unavailable_go_on_at_once(routing: Routing) -> None:
    svc = await routing(municipality(soc1="busy", soc2="unavail"))
    call = await svc.call("5001")
    voicemail = await call.wait_app("VoiceMail")
    await call.hang_up()
    await finish(svc, call, "voicemail", by="5001@default")

    busy, unavailable = call.dials()
    assert (busy.dial_string, busy.status) == ("busy-soc1@sandbox-phones", "BUSY")
    assert (unavailable.dial_string, unavailable.status) == ("unavail-soc2@sandbox-phones", "CHANUNAVAIL")
    assert busy.seconds < AT_ONCE_S and unavailable.seconds < AT_ONCE_S
    assert busy.ended is not None and unavailable.ended is not None
    assert 0 <= unavailable.begun - busy.ended < AT_ONCE_S
    assert 0 <= voicemail.at - unavailable.ended < AT_ONCE_S
    assert voicemail["AppData"] == "5001@default,u"
    assert [(e, d.split("/")[0]) for e, d in step_results(call)] == [("dial", "BUSY"), ("dial", "CHANUNAVAIL")]
    assert svc.log.one(call.call_id, "call.busy")["target"] == "soc1"
    assert svc.log.one(call.call_id, "call.unavailable")["target"] == "soc2"


async def test_r2_voicemail_when_caller_leaves_a_message(routing: Routing, asterisk: RunningSandbox) -> None:
    svc = await routing(municipality(soc1="busy", soc2="busy"))
    call = await svc.call("5001")
    voicemail = await call.wait_app("VoiceMail")
    assert voicemail["AppData"] == "5001@default,u"  # the person's own mailbox
    await asyncio.sleep(0.5)
    await call.press("#")  # skips the greeting
    await asyncio.sleep(2.5)
    await call.press("#")  # ends the message
    end = await finish(svc, call, "voicemail", by="5001@default")

    assert call.variable("VMSTATUS") == ["SUCCESS"]
    assert step_results(call)[-1] == ("voicemail", "SUCCESS")
    assert call.apps("Hangup"), "after the message the dialplan hangs up on the service's word (finish)"
    inbox = asterisk.root_dir / "var/spool/asterisk/voicemail/default/5001/INBOX"
    assert len(list(inbox.glob("msg*.txt"))) == 1
    assert end["wait_s"] == pytest.approx(voicemail.at - call_started(call), abs=MARGIN_S)
    step = svc.log.for_call(call.call_id, "call.step")[-1]
    assert (step["step"], step["mailbox"], step["rules"]) == ("voicemail", "5001@default", ["R2"])


# --- R3 no call unanswered ------------------------------------------------------------------------


async def test_r3_everything_unanswered_ends_in_voicemail(routing: Routing) -> None:
    svc = await routing(municipality(soc1="ring", soc2="ring"))
    call = await svc.call("5001")
    voicemail = await call.wait_app("VoiceMail", timeout=15)
    await asyncio.sleep(0.5)
    await call.hang_up()
    end = await finish(svc, call, "voicemail", by="5001@default")

    person, cover = call.dials()
    for dial in (person, cover):
        assert dial.status == "NOANSWER"
        assert dial.seconds == pytest.approx(RING_LIMIT_S, abs=MARGIN_S)
    assert call.dialled() == ["ring-soc1@sandbox-phones", "ring-soc2@sandbox-phones"]
    assert cover.ended is not None and 0 <= voicemail.at - cover.ended < AT_ONCE_S
    assert voicemail["AppData"] == "5001@default,u"
    assert end["wait_s"] == pytest.approx(2 * RING_LIMIT_S, abs=MARGIN_S)
    assert [r["target"] for r in svc.log.for_call(call.call_id, "call.no_answer")] == ["soc1", "soc2"]


async def test_r3_failsafe_voicemail_when_the_service_is_down(routing: Routing, ami: Ami) -> None:
    svc = await routing(municipality())
    await svc.stop()
    host, port = svc.service.agi_address or ("", 0)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(host, port)  # nothing listens on ROUTING_AGI's port
    assert await ami.db_get("routing", "failsafe/mailbox") is None  # no service ever wrote AstDB

    call = await svc.call("5001")
    voicemail = await call.wait_app("VoiceMail")
    assert voicemail["AppData"] == "9000@default,u"  # ROUTING_FAILSAFE_MAILBOX
    assert voicemail.at - call_started(call) < 1.0  # never left in silence
    assert call.variable("AGISTATUS")[0] == "FAILURE"
    assert any("fail-safe" in app.data for app in call.apps("NoOp"))
    assert call.dials() == []
    await asyncio.sleep(0.5)
    await call.hang_up()
    await call.wait_hangup()
    await call.wait_no_channels()
    assert svc.log.for_call(call.call_id) == []


async def test_r3_failsafe_from_astdb_rings_the_number_then_its_mailbox(
    routing: Routing, ami: Ami, ami_login: AmiLogin
) -> None:
    svc = await routing(municipality(), ami_login=ami_login)
    await wait_for_astdb(ami, "ext/5001/dial", "Local/ring-soc1@sandbox-phones")
    assert await ami.db_get("routing", "ext/5001/mailbox") == "5001@default"
    assert await ami.db_get("routing", "ext/5001/timeout") == "3"
    await svc.stop()

    call = await svc.call("5001")
    voicemail = await call.wait_app("VoiceMail", timeout=10)
    await call.hang_up()
    await call.wait_hangup()
    await call.wait_no_channels()

    (dial,) = call.dials()  # Asterisk alone: the number's device within the ring limit (R1) …
    assert (dial.dial_string, dial.status) == ("ring-soc1@sandbox-phones", "NOANSWER")
    assert dial.seconds == pytest.approx(RING_LIMIT_S, abs=MARGIN_S)
    assert dial.ended is not None and 0 <= voicemail.at - dial.ended < AT_ONCE_S
    assert voicemail["AppData"] == "5001@default,u"  # … then the number's own mailbox (R2/R3)
    assert svc.log.for_call(call.call_id) == []


async def test_r3_mailbox_asterisk_does_not_have_falls_to_the_switchboard_mailbox(routing: Routing) -> None:
    data = municipality(soc1="busy", soc2="busy", soc1_fallback=["cover", "voicemail"])
    data["people"][0]["voicemail"] = "5009@default"  # valid, but not in the sandbox's voicemail.conf
    svc = await routing(data)
    call = await svc.call("5001")
    last_resort = await call.wait_app("VoiceMail", data_contains="9000@default")
    await call.hang_up()
    end = await finish(svc, call, "voicemail", by="9000@default")

    assert [a.data for a in call.apps("VoiceMail")] == ["5009@default,u", "9000@default,u"]
    assert ("voicemail", "FAILED") in step_results(call)
    assert last_resort.at - call.apps("VoiceMail")[0].at < AT_ONCE_S
    steps = svc.log.for_call(call.call_id, "call.step")
    assert [(s["step"], s.get("mailbox"), s["rules"]) for s in steps[-2:]] == [
        ("voicemail", "5009@default", ["R2"]),
        ("voicemail", "9000@default", ["R3"]),
    ]
    assert end["wait_s"] == pytest.approx(last_resort.at - call_started(call), abs=MARGIN_S)


@pytest.mark.faults_expected
async def test_r3_failsafe_when_the_service_restarts_mid_call(routing: Routing, ami: Ami, ami_login: AmiLogin) -> None:
    first = await routing(municipality(soc1="ring"), ami_login=ami_login)
    await wait_for_astdb(ami, "ext/5001/mailbox", "5001@default")
    call = await first.call("5001")
    await call.wait_dial("ring-soc1")
    host, port = first.service.agi_address or ("", 0)
    await first.stop()
    second = await routing(municipality(soc1="ring"), listen=f"{host}:{port}", ami_login=ami_login)
    voicemail = await call.wait_app("VoiceMail", timeout=10)
    await asyncio.sleep(0.5)
    await call.hang_up()
    await call.wait_hangup()
    await call.wait_no_channels()

    # Asterisk: after the ring limit the new service does not go on with the call: the first
    # let go of it at its stop (its call.end is logged, #17), and the dialplan's fail-safe
    # does not ring the number again; its mailbox answers at once.
    (dial,) = call.dials()
    assert dial.ended is not None and 0 <= voicemail.at - dial.ended < AT_ONCE_S
    assert voicemail["AppData"] == "5001@default,u"
    assert any("fail-safe" in app.data for app in call.apps("NoOp"))
    # (The in-process services of these tests keep no call events in the store: the reason is
    # that; `routing run`'s is that the call has ended, tests/e2e/test_standby.py.)
    refused = [r for r in second.log.records() if r.get("event") == "call.not_resumed"]
    assert [(r["uniqueid"], r["dialplan_event"]) for r in refused] == [(call.call_id, "dial"), (call.call_id, "hangup")]
    assert {r["why"] for r in refused} <= {"it has ended already", "its call.start is not in the store"}
    assert first.log.names(call.call_id) == ["call.start", "call.step", "call.end"]  # let go at its stop
    assert first.log.one(call.call_id, "call.end")["outcome"] == "failsafe"


@pytest.mark.faults_expected
async def test_r3_call_that_outlives_a_restart_still_gets_one_call_end(routing: Routing) -> None:
    first = await routing(municipality(soc1="ring"))
    call = await first.call("5001")
    await call.wait_dial("ring-soc1")
    host, port = first.service.agi_address or ("", 0)
    await first.stop()
    second = await routing(municipality(soc1="ring"), listen=f"{host}:{port}")
    await call.wait_app("VoiceMail", timeout=10)
    await call.hang_up()
    await call.wait_hangup()
    await asyncio.sleep(0.3)

    ends = first.log.for_call(call.call_id, "call.end") + [
        r for r in second.log.records() if r.get("event") == "call.end" and call.call_id in str(r)
    ]
    assert len(ends) == 1


# --- R4 callback offer ------------------------------------------------------------------------------


DTMF_WAYS = [
    "PlayDTMF out of the caller's channel (;2)",
    "PlayDTMF received on the routing channel (;1)",
    "SendDTMF in the caller's dialplan",
]


@pytest.mark.parametrize("how", DTMF_WAYS)
async def test_r4_caller_presses_1_at_the_offer(routing: Routing, ami: Ami, how: str) -> None:
    svc = await routing(municipality(soc1="busy", soc2="busy", soc1_fallback=CHAIN_WITH_OFFER))
    if how.startswith("SendDTMF"):
        # e2e-caller: answers, waits 2 s, SendDTMF(1): the offer's prompt is still playing then.
        call = await svc.call("5001", caller_context=E2E_CALLER, caller_exten="dtmf-2-1-x")
    else:
        call = await svc.call("5001")
        await call.wait_app("Read")
        await asyncio.sleep(0.5)
        if "(;2)" in how:
            await call.press("1")
        else:
            await ami.play_dtmf(call.routing_channel, "1", receive=True)
    end = await finish(svc, call, "callback", by="soc1")

    offer_prompt, confirmation = (
        await prompt_path(CALLBACK_OFFER.format(digit="1")),
        await prompt_path(CALLBACK_CONFIRMATION),
    )
    (read,) = call.apps("Read")
    assert read.data == f"ROUTING_DIGIT,{offer_prompt},1,,1,2"
    digits = call.events(lambda e: e.name == "DTMFEnd" and e["Uniqueid"] == call.call_id)
    assert [(e["Digit"], e["Direction"]) for e in digits] == [("1", "Received")]
    assert call.variable("READSTATUS")[-1] == "OK"
    assert ("read", "OK/1") in step_results(call)
    playbacks = call.apps("Playback")
    assert [p.data for p in playbacks] == [confirmation]  # the confirmation, after the key
    assert playbacks[0].at > read.at
    assert call.apps("Hangup"), "the dialplan hangs up after the confirmation"
    assert_valid_prompt(confirmation)

    requested = svc.log.one(call.call_id, "callback.requested")
    assert requested["target"] == "soc1" and requested["caller"] == "070*****67"
    (booked,) = [c for c in svc.store.callbacks() if c.call_id == call.call_id]  # kept until done (R4)
    assert (booked.id, booked.caller, booked.target, booked.status) == (
        requested["callback_id"],
        "0701234567",
        "soc1",
        "open",
    )
    steps = svc.log.for_call(call.call_id, "call.step")
    assert [s["step"] for s in steps] == ["person", "cover", "callback", "callback"]
    assert steps[-1]["prompt"] == confirmation
    assert end["wait_s"] == pytest.approx(digits[0].at - call_started(call), abs=MARGIN_S)


@pytest.mark.parametrize("key", [None, "2"])
async def test_r4_no_key_or_another_key_at_the_offer_goes_on_to_voicemail(routing: Routing, key: str | None) -> None:
    svc = await routing(municipality(soc1="busy", soc2="busy", soc1_fallback=CHAIN_WITH_OFFER))
    call = await svc.call("5001")
    read = await call.wait_app("Read")
    if key is not None:
        await asyncio.sleep(0.5)
        await call.press(key)
    voicemail = await call.wait_app("VoiceMail", timeout=20)
    await call.hang_up()
    await finish(svc, call, "voicemail", by="5001@default")

    assert voicemail["AppData"] == "5001@default,u"
    if key is None:
        offer_prompt = await prompt_path(CALLBACK_OFFER.format(digit="1"))
        prompt_s = assert_valid_prompt(offer_prompt)
        assert voicemail.at - read.at == pytest.approx(prompt_s + 2.0, abs=MARGIN_S)  # the prompt, 2 s for a key
        assert step_results(call)[-1] == ("read", "TIMEOUT/")
    else:
        assert voicemail.at - read.at < 0.5 + AT_ONCE_S
        assert step_results(call)[-1] == ("read", f"OK/{key}")
    assert call.apps("Playback") == []  # no confirmation
    assert svc.log.for_call(call.call_id, "callback.requested") == []
    assert [s["step"] for s in svc.log.for_call(call.call_id, "call.step")] == [
        "person",
        "cover",
        "callback",
        "voicemail",
    ]


async def test_r4_hidden_caller_gets_voicemail_without_an_offer(routing: Routing) -> None:
    svc = await routing(municipality(soc1="busy", soc2="busy", soc1_fallback=CHAIN_WITH_OFFER))
    call = await svc.call("5001", hidden=True)
    voicemail = await call.wait_app("VoiceMail")
    await call.hang_up()
    await finish(svc, call, "voicemail", by="5001@default")

    assert voicemail["AppData"] == "5001@default,u"
    assert call.apps("Read") == []
    assert agi_requests(call)[0][-2].startswith("prohib")  # CALLERID(num-pres) as the dialplan sends it
    start = svc.log.one(call.call_id, "call.start")
    assert start["hidden"] is True and start["caller"] is None
    steps = svc.log.for_call(call.call_id, "call.step")
    assert [s["step"] for s in steps] == ["person", "cover", "voicemail"]
    assert "R4" in steps[-1]["rules"]


# --- unit numbers, hours ----------------------------------------------------------------------------


async def test_unit_rings_present_members_together_then_duty_phone_then_unit_voicemail(routing: Routing) -> None:
    svc = await routing(municipality())
    call = await svc.call("5000")
    voicemail = await call.wait_app("VoiceMail", timeout=15)
    await call.hang_up()
    await finish(svc, call, "voicemail", by="5000@default")

    first_dial, _duty_dial = call.apps("Dial")
    assert first_dial.data.startswith("Local/ring-soc1@sandbox-phones&Local/ring-soc2@sandbox-phones,3^2,")
    soc1, soc2, jour = call.dials()
    assert (soc1.dial_string, soc2.dial_string, jour.dial_string) == (
        "ring-soc1@sandbox-phones",
        "ring-soc2@sandbox-phones",
        "ring-jour@sandbox-phones",
    )
    assert abs(soc1.begun - soc2.begun) < 0.2  # together, one Dial
    for dial in (soc1, soc2, jour):
        assert dial.status == "NOANSWER"
        assert dial.seconds == pytest.approx(RING_LIMIT_S, abs=MARGIN_S)
    assert soc1.ended is not None and 0 <= jour.begun - soc1.ended < AT_ONCE_S
    assert voicemail["AppData"] == "5000@default,u"
    steps = svc.log.for_call(call.call_id, "call.step")
    assert [(s["step"], s["target"]) for s in steps] == [
        ("unit", "soc"),
        ("duty_phone", "5099"),
        ("voicemail", "soc"),
    ]
    assert steps[0]["devices"] == ["Local/ring-soc1@sandbox-phones", "Local/ring-soc2@sandbox-phones"]


async def test_unit_does_not_ring_a_member_with_a_referral(routing: Routing) -> None:
    svc = await routing(municipality(), referrals=[Referral("soc1", Reason.COURSE, None)])
    call = await svc.call("5000")
    await call.wait_dial("ring-soc2")
    await call.hang_up()
    await finish(svc, call, "abandoned")

    assert call.dialled() == ["ring-soc2@sandbox-phones"]
    assert call.apps("Playback") == []
    step = svc.log.for_call(call.call_id, "call.step")[0]
    assert (step["step"], step["devices"]) == ("unit", ["Local/ring-soc2@sandbox-phones"])


async def test_r6_r9_outside_working_hours_announcement_then_voicemail_without_ringing(routing: Routing) -> None:
    svc = await routing(municipality(), at=stockholm(SATURDAY))
    call = await svc.call("5000")
    playback = await call.wait_app("Playback")
    voicemail = await call.wait_app("VoiceMail", timeout=20)
    await call.hang_up()
    await finish(svc, call, "voicemail", by="5000@default")

    seconds = assert_valid_prompt(playback["AppData"])
    assert voicemail.at - playback.at == pytest.approx(seconds, abs=MARGIN_S)  # played to its end
    assert call.variable("PLAYBACKSTATUS") == ["SUCCESS"]
    assert ("play", "SUCCESS") in step_results(call)
    assert voicemail["AppData"] == "5000@default,u"
    assert call.dials() == [] and call.apps("Dial") == []

    assert svc.log.one(call.call_id, "call.start")["hours"] == "closed"
    announcement, mailbox = svc.log.for_call(call.call_id, "call.step")
    assert (announcement["step"], announcement["rules"]) == ("announcement", ["R6", "R9"])
    assert announcement["prompt"] == playback["AppData"]
    assert mailbox["step"] == "voicemail"
    plan = plan_call(
        svc.service.router.directory,
        svc.store.snapshot(),
        Call("5000", "0701234567", False, stockholm(SATURDAY)),
    )
    text = next(s.text for s in plan.steps if isinstance(s, Message))
    assert "stängt" in text and "måndag till fredag klockan 8 till 17" in text
    assert await prompt_path(text) == playback["AppData"]


async def test_r7_internal_call_outside_telephone_hours_rings_the_members(routing: Routing) -> None:
    svc = await routing(municipality(soc2="answer1"), at=stockholm(TUESDAY_AFTERNOON))
    call = await svc.call("5000", context="routing-internal", caller="7001", name="Karin")
    await svc.log.wait_for(call.call_id, "call.answered")
    await call.hang_up()
    await finish(svc, call, "answered", by="soc")

    assert call.apps("Playback") == []
    assert call.dialled() == ["ring-soc1@sandbox-phones", "answer1-soc2@sandbox-phones"]
    assert agi_requests(call)[0][3] == "1"  # routing-internal says so to the service
    start = svc.log.one(call.call_id, "call.start")
    assert start["internal"] is True and start["hours"] == "open"
    assert svc.log.for_call(call.call_id, "call.step")[0]["step"] == "unit"


async def test_r7_r8_external_call_outside_telephone_hours_announcement_then_duty_phone(routing: Routing) -> None:
    svc = await routing(municipality(jour="answer1"), at=stockholm(TUESDAY_AFTERNOON))
    call = await svc.call("5000")
    playback = await call.wait_app("Playback")
    await svc.log.wait_for(call.call_id, "call.answered", timeout=20)
    await call.hang_up()
    await finish(svc, call, "answered", by="5099")

    seconds = assert_valid_prompt(playback["AppData"])
    (duty,) = call.dials()
    assert (duty.dial_string, duty.status) == ("answer1-jour@sandbox-phones", "ANSWER")
    assert duty.begun - playback.at == pytest.approx(seconds, abs=MARGIN_S)  # after the announcement
    assert svc.log.one(call.call_id, "call.start")["hours"] == "phone_hours_closed"
    steps = svc.log.for_call(call.call_id, "call.step")
    assert [(s["step"], s["rules"]) for s in steps] == [("announcement", ["R9"]), ("duty_phone", ["R1", "R8"])]
    assert steps[0]["prompt"] == playback["AppData"]


# --- R11/R15 referral -------------------------------------------------------------------------------


async def test_r11_r15_referral_message_then_cover_without_ringing_the_person(routing: Routing) -> None:
    back = stockholm("2026-12-01 13:00")
    svc = await routing(municipality(soc2="answer1"), referrals=[Referral("soc1", Reason.LUNCH, back)])
    call = await svc.call("5001")
    playback = await call.wait_app("Playback")
    await svc.log.wait_for(call.call_id, "call.answered", timeout=20)
    await call.hang_up()
    end = await finish(svc, call, "cover", by="soc2")

    assert call.dialled() == ["answer1-soc2@sandbox-phones"]  # soc1 is never dialled (R11)
    seconds = assert_valid_prompt(playback["AppData"])
    (cover,) = call.dials()
    assert cover.begun - playback.at == pytest.approx(seconds, abs=MARGIN_S)
    referral = svc.log.one(call.call_id, "call.referral")
    assert (referral["person"], referral["reason"]) == ("soc1", "lunch")
    assert referral["until"] == back.isoformat()
    step = svc.log.for_call(call.call_id, "call.step")[0]
    assert (step["step"], step["target"], step["rules"]) == ("referral", "soc1", ["R2", "R11", "R15"])
    assert step["prompt"] == playback["AppData"]
    # R15: the spoken text (the prompt's cache key) holds the mobile number.
    plan = plan_call(
        svc.service.router.directory,
        svc.store.snapshot(),
        Call("5001", "0701234567", False, stockholm("2026-12-01 10:15")),
    )
    (message,) = [s for s in plan.steps if isinstance(s, Message) and s.kind is StepKind.REFERRAL]
    assert "Anna är på lunch" in message.text and "klockan 13" in message.text
    assert "0 7 0 1 2 3 4 5 6 7" in message.text
    assert await prompt_path(message.text) == playback["AppData"]
    assert end["wait_s"] < 0.5  # R2: the referral message answered the caller


# --- the caller hangs up ----------------------------------------------------------------------------


class HangupPoint(NamedTuple):
    config: dict[str, Any]  # changes to municipality()
    at: str | None  # the clock's start, else a Tuesday morning
    referral: bool  # soc1 has a referral (in a meeting, no return time)
    application: str  # the caller hangs up while the routing channel runs this
    outcome: str  # call.end: abandoned, or the R2 answer reached so far
    called: str = "5001"


BUSY_TO_OFFER: dict[str, Any] = {"soc1": "busy", "soc2": "busy", "soc1_fallback": CHAIN_WITH_OFFER}
HANGUP_POINTS = {
    "while ringing": HangupPoint({}, None, False, "Dial", "abandoned"),
    "during the announcement": HangupPoint({}, SATURDAY, False, "Playback", "abandoned", called="5000"),
    "during the referral message": HangupPoint({}, None, True, "Playback", "referral"),
    "at the offer": HangupPoint(BUSY_TO_OFFER, None, False, "Read", "abandoned"),
    "in voicemail": HangupPoint({"soc1": "busy", "soc2": "busy"}, None, False, "VoiceMail", "voicemail"),
}


@pytest.mark.parametrize("point", list(HANGUP_POINTS))
async def test_caller_hangs_up_leaves_no_channel_and_one_call_end(routing: Routing, ami: Ami, point: str) -> None:
    how = HANGUP_POINTS[point]
    referrals = [Referral("soc1", Reason.MEETING, None)] if how.referral else []
    svc = await routing(municipality(**how.config), at=stockholm(how.at) if how.at else None, referrals=referrals)
    call = await svc.call(how.called)
    await call.wait_app(how.application)
    await asyncio.sleep(0.7)
    await call.hang_up()
    hung_up = await call.wait_hangup()
    end = await finish(svc, call, how.outcome)

    assert svc.log.names(call.call_id).count("call.end") == 1
    assert end["duration_s"] == pytest.approx(hung_up.at - call_started(call), abs=MARGIN_S)
    if point == "while ringing":
        (dial,) = call.dials()
        assert dial.status == "CANCEL"
        assert end["wait_s"] is None
    # Nothing of the call is left in Asterisk; `core show channels count` agrees with the list.
    foreign = [c for c in await ami.channels() if not c.get("Linkedid", "").startswith("e2e-")]
    if not foreign:  # a demo may share the sandbox: then only this call's channels are counted
        assert await ami.channel_count() == 0


# --- load -------------------------------------------------------------------------------------------


async def test_twenty_calls_at_once_each_get_an_r2_answer_and_one_call_end(routing: Routing) -> None:
    svc = await routing(municipality(soc1="busy", soc2="answer1"))
    calls = await asyncio.gather(*(svc.call("5001") for _ in range(20)))
    await asyncio.gather(*(svc.log.wait_for(c.call_id, "call.answered", timeout=20) for c in calls))
    await asyncio.gather(*(c.hang_up() for c in calls))
    ends = await asyncio.gather(*(finish(svc, c, "cover", by="soc2") for c in calls))

    assert len({c.call_id for c in calls}) == 20
    for call, end in zip(calls, ends, strict=True):
        assert call.dialled() == ["busy-soc1@sandbox-phones", "answer1-soc2@sandbox-phones"]
        assert end["wait_s"] == pytest.approx(1.0, abs=1.5)
        assert svc.log.names(call.call_id).count("call.end") == 1
    assert svc.service.router.calls == {}


# --- answer times ----------------------------------------------------------------------------------


async def test_r1_answer_time_is_right_when_the_answered_report_is_lost(routing: Routing, ami: Ami) -> None:
    svc = await routing(municipality(soc1="answer1"))
    # The device's U() routine uses the global ROUTING_AGI: point it where nothing listens,
    # so only the hangup handler (on the caller, with its own ROUTING_AGI) tells the service.
    await ami.set_global("ROUTING_AGI", f"agi://127.0.0.1:{free_port()}")
    call = await svc.call("5001", inherit_agi=False)
    answered_end = await call.wait_dial("answer1-soc1", ended=True)
    assert answered_end["DialStatus"] == "ANSWER"
    await asyncio.sleep(1.0)
    await call.hang_up()
    end = await finish(svc, call, "answered", by="soc1")
    (dial,) = call.dials()

    assert end["wait_s"] == pytest.approx(dial.seconds, abs=0.5)
