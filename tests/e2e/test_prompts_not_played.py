"""Only what Asterisk really played counts (#11): prompts Asterisk cannot read.

The service's prompt folder is one the sandbox's Asterisk does not see (a folder of the test,
outside the sandbox's root), as on a site where Asterisk runs on another host or in a
container without the shared mount. Asterisk reports every message as not played
(PLAYBACKSTATUS=FAILED, READSTATUS=ERROR); the service logs each, counts none as an answer
and goes on to the next step at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from routing.calllog.events import PromptNotPlayed
from routing.calllog.recorder import EventRecorder
from routing.calllog.setup import configure_logging
from routing.policy.referral import Reason, Referral
from routing.policy.steps import Outcome
from tests.e2e.harness import RunningService, finish, municipality, stockholm

Routing = Callable[..., Awaitable[RunningService]]


def unseen_prompts(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    data = municipality(**changes)
    data["prompts"] = {"dir": str(tmp_path / "prompts-asterisk-cannot-see")}
    return data


@pytest.mark.faults_expected
async def test_r2_r11_a_referral_nobody_heard_goes_on_to_the_cover_and_the_answer_is_the_covers(
    routing: Routing, tmp_path: Path
) -> None:
    back = stockholm("2026-12-01 13:00")
    svc = await routing(unseen_prompts(tmp_path, soc2="answer2"), referrals=[Referral("soc1", Reason.LUNCH, back)])
    configure_logging("json", "info", stream=svc.log, recorder=EventRecorder(svc.store))  # the report's store too
    call = await svc.call("5001")
    playback = await call.wait_app("Playback")
    dialled = await call.wait_dial("soc2", timeout=5)
    assert dialled.at - playback.at < 1.0  # at once: nothing was played
    answered = await svc.log.wait_for(call.call_id, "call.answered", timeout=15)
    await call.hang_up()
    end = await finish(svc, call, "cover", by="soc2")

    assert call.variable("PLAYBACKSTATUS")[-1:] == ["FAILED"]
    (failed,) = svc.log.for_call(call.call_id, "prompt.not_played")
    assert (failed["level"], failed["step"], failed["target"], failed["status"]) == (
        "error",
        "referral",
        "soc1",
        "FAILED",
    )
    assert failed["prompt"] == playback["AppData"] and failed["rules"] == ["R2", "R11", "R15"]
    assert svc.log.for_call(call.call_id, "call.referral") == []  # nobody was told
    # R2: the caller's wait ended when the cover answered (about 2 s of ringing), not at 0 s.
    assert end["wait_s"] == pytest.approx(answered["wait_s"], abs=0.01)
    assert end["wait_s"] > 1.5
    now = datetime.now(UTC)
    (stored,) = svc.store.calls_between(now - timedelta(hours=1), now + timedelta(hours=1))
    assert (stored.outcome, stored.answered_by, stored.wait_s) == (Outcome.COVER, "soc2", end["wait_s"])
    events = svc.store.events_between(now - timedelta(hours=1), now + timedelta(hours=1), PromptNotPlayed)
    assert [e.call_id for e in events] == [call.call_id]  # kept for the report


@pytest.mark.faults_expected
async def test_r4_an_offer_nobody_heard_goes_on_to_voicemail_and_is_logged(routing: Routing, tmp_path: Path) -> None:
    data = unseen_prompts(tmp_path, soc1="busy", soc2="busy", soc1_fallback=["cover", "callback", "voicemail"])
    svc = await routing(data)
    call = await svc.call("5001")
    read = await call.wait_app("Read", timeout=15)
    mailbox = await call.wait_app("VoiceMail", timeout=10)
    assert mailbox.at - read.at < 2.0  # not the offer's whole wait: it was never heard
    await call.hang_up()
    await finish(svc, call, "voicemail")  # the mailbox is Asterisk's own: it answered

    assert call.variable("READSTATUS")[-1:] == ["ERROR"]
    failed = svc.log.for_call(call.call_id, "prompt.not_played")
    assert [(f["step"], f["status"]) for f in failed][:1] == [("callback", "ERROR")]
    assert svc.log.for_call(call.call_id, "callback.requested") == []


def _events(svc: RunningService, name: str) -> list[dict[str, Any]]:
    return [r for r in svc.log.records() if r.get("event") == name]


@pytest.mark.faults_expected
async def test_r18_a_refusal_nobody_heard_is_logged_and_asterisks_own_sound_is_played(
    routing: Routing, tmp_path: Path
) -> None:
    data = unseen_prompts(tmp_path)
    data["outbound"] = {"trunk": "Local/answer1-{number}@sandbox-phones", "barred_prefixes": ["0900"]}
    svc = await routing(data)
    call = await svc.call("0900123456", context="routing-outbound", caller="5002")
    await call.wait_hangup()
    played = [app.data for app in call.apps("Playback")]
    assert played[0].startswith(str(tmp_path)) and played[1:] == ["ss-noservice"]
    assert call.dials() == []  # still refused (R18)
    (failed,) = _events(svc, "prompt.not_played")
    assert (failed["step"], failed["target"], failed["status"], failed["rules"]) == (
        "outbound",
        "5002",
        "FAILED",
        ["R18"],
    )
    assert failed["prompt"] == played[0]


@pytest.mark.faults_expected
async def test_r11_a_feature_confirmation_nobody_heard_is_logged_and_a_tone_is_played(
    routing: Routing, tmp_path: Path
) -> None:
    svc = await routing(unseen_prompts(tmp_path))
    call = await svc.call("*212", context="routing-features", caller="5001")
    await call.wait_hangup()
    played = [app.data for app in call.apps("Playback")]
    assert played[1:] == ["beep"]  # the referral was set; the employee hears a tone instead of the words
    assert [r.person for r in svc.store.referrals()] == ["soc1"]
    (failed,) = _events(svc, "prompt.not_played")
    assert (failed["step"], failed["target"], failed["status"]) == ("feature", "5001", "FAILED")


async def test_with_prompts_served_over_http_asterisk_plays_them_without_seeing_the_folder(
    routing: Routing, tmp_path: Path
) -> None:
    """The same folder Asterisk cannot see, served by the service (prompts.http): the referral
    is played, told and answers the caller at once (R2, R11)."""
    back = stockholm("2026-12-01 13:00")
    data = unseen_prompts(tmp_path, soc2="answer1")
    data["prompts"]["http"] = {"listen": "127.0.0.1:0"}
    svc = await routing(data, referrals=[Referral("soc1", Reason.LUNCH, back)])
    call = await svc.call("5001")
    playback = await call.wait_app("Playback")
    await svc.log.wait_for(call.call_id, "call.answered", timeout=25)
    await call.hang_up()
    end = await finish(svc, call, "cover", by="soc2")  # the referral, then the cover as planned

    assert playback["AppData"].startswith("http://127.0.0.1:") and "/tts/" in playback["AppData"]
    assert call.variable("PLAYBACKSTATUS")[-1:] == ["SUCCESS"]
    assert svc.log.for_call(call.call_id, "prompt.not_played") == []
    assert svc.log.one(call.call_id, "call.referral")["person"] == "soc1"
    assert end["wait_s"] < 0.5  # R2: the referral message answered the caller


async def test_with_prompts_served_over_http_the_callback_offer_is_heard_and_waits_for_its_key(
    routing: Routing, tmp_path: Path
) -> None:
    data = unseen_prompts(tmp_path, soc1="busy", soc2="busy", soc1_fallback=["cover", "callback", "voicemail"])
    data["prompts"]["http"] = {"listen": "127.0.0.1:0"}
    svc = await routing(data)
    call = await svc.call("5001")
    read = await call.wait_app("Read", timeout=15)
    mailbox = await call.wait_app("VoiceMail", timeout=15)
    assert read["AppData"].split(",")[1].startswith("http://127.0.0.1:")
    assert mailbox.at - read.at > 2.0  # the offer was played, then its 2 s wait for a key ran out
    await call.hang_up()
    await finish(svc, call, "voicemail")
    assert call.variable("READSTATUS")[-1:] == ["TIMEOUT"]
    assert svc.log.for_call(call.call_id, "prompt.not_played") == []
