"""The AGI handler without Asterisk: dialplan requests in, channel variables and log lines out."""

from __future__ import annotations

import asyncio
import copy
import io
import json
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from routing.agi.protocol import AgiRequest
from routing.calllog.setup import configure_logging
from routing.config.schema import Config
from routing.policy.call import EventKind
from routing.policy.directory import Directory
from routing.policy.referral import Reason, Referral
from routing.policy.state import RoutingState
from routing.service import step_codec
from routing.service.call_router import CallRouter
from routing.service.prompts import Prompts
from routing.service.referrals import MemoryReferrals
from routing.service.step_codec import MAX_DIAL
from tests.unit.policy.builders import BASE, at

UNIQUEID = "1795816916.18"


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def fake_speech(text: str, voice: str, target: Path) -> None:
    target.write_text(f"{voice}: {text}", encoding="utf-8")


class Harness:
    def __init__(self, tmp_path: Path, when: str = "2026-12-01 10:15", config: dict[str, Any] | None = None) -> None:
        self.buffer = io.StringIO()
        configure_logging("json", stream=self.buffer)
        self.clock = Clock(at(when))
        self.referrals = MemoryReferrals()
        self.prompts_dir = tmp_path / "prompts"
        self.router = CallRouter(
            Directory.from_config(Config.model_validate(config or BASE)),
            self.referrals,
            Prompts(self.prompts_dir, synthesise=fake_speech),
            progress_timeout_s=4,
            clock=self.clock,
        )

    async def step(
        self,
        event: str,
        detail: str = "",
        *,
        called: str = "5001",
        caller: str = "0701234567",
        pres: str = "allowed_not_screened",
        internal: str = "0",
    ) -> dict[str, str]:
        headers = {
            "agi_network_script": "step",
            "agi_uniqueid": UNIQUEID,
            "agi_channel": "Local/caller-a@sandbox-caller-00000009;1",
            "agi_callerid": caller,
            "agi_extension": called,
        }
        request = AgiRequest(headers, (event, detail, "linked.1", internal, pres))
        return dict(await self.router(request))

    async def script(self, script: str, *args: str) -> None:
        await self.router(AgiRequest({"agi_network_script": script, "agi_uniqueid": UNIQUEID}, args))

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.buffer.getvalue().splitlines()]

    def named(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.events() if e["event"] == name]


async def test_r1_first_step_rings_the_person_for_the_ring_limit(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    variables = await h.step("start")
    assert variables == {
        "ROUTING_PLACE": "0",  # where the call stands in its plan: another instance goes on from here (#17)
        "ROUTING_STEP": "person",
        "ROUTING_TARGET": "soc1",
        "ROUTING_DIAL": "PJSIP/5001",
        "ROUTING_TIMEOUT": "30",
        "ROUTING_PROGRESS_TIMEOUT": "4",
        "ROUTING_ACTION": "ring",
    }
    assert list(variables)[-1] == "ROUTING_ACTION"  # the dialplan acts only once all is set
    start = h.named("call.start")[0]
    assert start["call_id"] == "linked.1" and start["caller"] == "070*****67" and start["target"] == "soc1"


async def test_r2_no_answer_then_cover_answers_and_call_end_at_hangup(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await h.step("start")
    h.clock.advance(30)
    variables = await h.step("dial", "NOANSWER//")
    assert variables["ROUTING_STEP"] == "cover" and variables["ROUTING_DIAL"] == "PJSIP/5002"
    h.clock.advance(4)
    await h.script("answered", UNIQUEID)
    assert h.named("call.no_answer")[0] | {"rings": 5, "target": "soc1"} == h.named("call.no_answer")[0]
    answered = h.named("call.answered")[0]
    assert answered["by"] == "soc2" and answered["wait_s"] == 34.0 and answered["step"] == "cover"
    assert h.named("call.end") == []  # the conversation is still going on
    h.clock.advance(60)
    await h.script("hangup", "dial", "ANSWER/1795816946.000/1795816950.000")
    (end,) = h.named("call.end")
    assert end["outcome"] == "cover" and end["wait_s"] == 34.0 and end["duration_s"] == 94.0
    assert h.router.calls == {}


async def test_answer_known_only_at_hangup_is_dated_by_asterisk_times(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await h.step("start")
    h.clock.advance(70)
    await h.script("hangup", "dial", "ANSWER/1795816900.250/1795816907.750")  # answered after 7.5 s
    assert h.named("call.answered")[0]["wait_s"] == 7.5
    assert h.named("call.end")[0]["outcome"] == "answered"


async def test_r3_voicemail_then_finish(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await h.step("start")
    await h.step("dial", "BUSY//")
    variables = await h.step("dial", "CHANUNAVAIL//")
    assert variables["ROUTING_ACTION"] == "voicemail" and variables["ROUTING_MAILBOX"] == "5001@default"
    assert [e["event"] for e in h.events()].count("call.busy") == 1
    assert len(h.named("call.unavailable")) == 1
    assert await h.step("voicemail", "SUCCESS") == {"ROUTING_STEP": "voicemail", "ROUTING_ACTION": "finish"}
    await h.script("hangup", "voicemail", "CHANUNAVAIL//")
    assert [e["outcome"] for e in h.named("call.end")] == ["voicemail"]


async def test_r4_callback_pressed(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await h.step("start")
    await h.step("dial", "NOANSWER//")
    await h.step("dial", "NOANSWER//")
    offer = await h.step("voicemail", "FAILED")
    assert offer["ROUTING_ACTION"] == "offer" and offer["ROUTING_TIMEOUT"] == "8"
    assert Path(offer["ROUTING_PROMPT"] + ".wav").read_text(encoding="utf-8").startswith("sv: Vill du bli uppringd?")
    confirm = await h.step("read", "OK/1")
    assert confirm["ROUTING_ACTION"] == "play" and confirm["ROUTING_STEP"] == "callback"
    assert h.named("callback.requested")[0]["target"] == "soc1"
    assert (await h.step("play", "SUCCESS"))["ROUTING_ACTION"] == "finish"
    await h.script("hangup", "play", "")
    assert h.named("call.end")[0]["outcome"] == "callback"


async def test_r11_referral_is_played_and_logged(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.referrals.set(Referral("soc1", Reason.MEETING, at("2026-12-01 13:00")))
    play = await h.step("start")
    assert play["ROUTING_ACTION"] == "play" and play["ROUTING_STEP"] == "referral"
    assert play["ROUTING_RANG"] == "1"  # should the service die now, the fail-safe rings no one
    spoken = Path(play["ROUTING_PROMPT"] + ".wav").read_text(encoding="utf-8")
    assert "sitter i möte och är tillbaka klockan 13" in spoken and "0 7 0 1 2 3 4 5 6 7" in spoken  # R15
    assert h.named("call.referral") == []  # told once Asterisk has played it
    cover = await h.step("play", "SUCCESS")
    assert cover["ROUTING_STEP"] == "cover"
    referral = h.named("call.referral")[0]
    assert referral["reason"] == "meeting" and referral["until"].startswith("2026-12-01T13:00")


async def test_r2_r11_a_referral_asterisk_could_not_play_is_an_error_and_the_answer_is_dated_at_the_cover(
    tmp_path: Path,
) -> None:
    h = Harness(tmp_path)
    h.referrals.set(Referral("soc1", Reason.MEETING, at("2026-12-01 13:00")))
    play = await h.step("start")
    h.clock.advance(0.3)
    cover = await h.step("play", "FAILED")
    assert cover["ROUTING_STEP"] == "cover"  # at once, to the next step
    (failed,) = h.named("prompt.not_played")
    assert failed["level"] == "error" and failed["call_id"] == "linked.1"
    assert (failed["step"], failed["target"], failed["prompt"], failed["status"]) == (
        "referral",
        "soc1",
        play["ROUTING_PROMPT"],
        "FAILED",
    )
    assert failed["rules"] == ["R2", "R11", "R15"]
    assert h.named("call.referral") == []  # nobody was told
    h.clock.advance(6)
    await h.script("answered", UNIQUEID)
    h.clock.advance(60)
    await h.script("hangup", "dial", "ANSWER//")
    end = h.named("call.end")[0]
    assert (end["outcome"], end["by"], end["wait_s"]) == ("cover", "soc2", 6.3)


async def test_r4_a_callback_offer_asterisk_could_not_play_is_an_error_and_goes_on_to_voicemail(tmp_path: Path) -> None:
    data = copy.deepcopy(BASE)
    data["people"][0]["fallback"] = ["callback", "voicemail"]
    h = Harness(tmp_path, config=data)
    await h.step("start")
    h.clock.advance(30)
    offer = await h.step("dial", "NOANSWER//")
    assert offer["ROUTING_ACTION"] == "offer"
    following = await h.step("read", "ERROR/")  # what Read reports when its prompt cannot be played
    assert following["ROUTING_ACTION"] == "voicemail"
    (failed,) = h.named("prompt.not_played")
    assert (failed["step"], failed["status"], failed["prompt"]) == ("callback", "ERROR", offer["ROUTING_PROMPT"])
    assert h.named("callback.requested") == []


async def test_r9_recorded_prompt_is_preferred(tmp_path: Path) -> None:
    h = Harness(tmp_path, "2026-12-01 13:00")
    h.prompts_dir.mkdir(parents=True)
    (h.prompts_dir / "soc-telefontid.wav").write_bytes(b"RIFF")
    play = await h.step("start", called="5000")
    assert play["ROUTING_PROMPT"] == str(h.prompts_dir / "soc-telefontid")
    assert "ROUTING_RANG" not in play  # an announcement says nothing about anyone being away


async def test_r4_hidden_caller_gets_no_offer(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await h.step("start", pres="prohib_passed_screen")
    assert h.named("call.start")[0]["hidden"] is True
    await h.step("dial", "NOANSWER//")
    variables = await h.step("dial", "NOANSWER//")
    assert variables["ROUTING_ACTION"] == "voicemail"
    assert (await h.step("voicemail", "FAILED"))["ROUTING_MAILBOX"] == "9000@default"


async def test_caller_hangs_up_while_ringing(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await h.step("start")
    h.clock.advance(12)
    await h.script("hangup", "start", "CANCEL//")
    (end,) = h.named("call.end")
    assert end["outcome"] == "abandoned" and end["wait_s"] is None and end["duration_s"] == 12.0


async def test_unknown_call_gets_the_failsafe(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    assert await h.step("dial", "NOANSWER//") == {"ROUTING_ACTION": "failsafe"}
    assert h.named("call.unknown")[0]["event"] == "call.unknown"


async def test_result_that_does_not_fit_the_step_moves_on(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await h.step("start")
    variables = await h.step("voicemail", "SUCCESS")  # but a Ring step was running
    assert variables["ROUTING_STEP"] == "cover"
    assert h.named("agi.bad_result")[0]["level"] == "error"


async def test_r1_overlong_ringing_is_a_violation(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await h.step("start")
    h.clock.advance(35)
    await h.step("dial", "NOANSWER//")
    violation = h.named("policy.violation")[0]
    assert violation["rule"] == "R1" and "rang 35.0 s, limit 30 s" in violation["detail"]


async def test_one_call_end_even_if_hangup_arrives_twice(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await h.step("start")
    await h.script("hangup", "start", "CANCEL//")
    await h.script("hangup", "start", "CANCEL//")
    assert len(h.named("call.end")) == 1


async def test_service_letting_go_ends_calls_in_progress_once(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await h.step("start")
    h.clock.advance(5)
    h.router.let_go()
    (end,) = h.named("call.end")
    assert end["outcome"] == "failsafe" and end["lost"] is True and end["duration_s"] == 5.0
    await h.script("hangup", "dial", "CANCEL//")  # the hangup of a call let go is ignored
    assert len(h.named("call.end")) == 1 and h.router.calls == {}


async def test_answer_without_asterisk_times_is_dated_when_reported(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await h.step("start")
    h.clock.advance(9)
    await h.script("hangup", "dial", "ANSWER//")
    assert h.named("call.answered")[0]["wait_s"] == 9.0


async def test_calls_asterisk_lost_in_a_restart_end_once_as_failed(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await h.step("start")
    loop_now = asyncio.get_running_loop().time()
    h.router.forget_gone_channels({"Local/other;1"}, asked_at=loop_now - 10)  # asked before the call: kept
    assert h.router.calls and h.named("call.end") == []
    h.router.forget_gone_channels({"Local/other;1"}, asked_at=loop_now + 1)
    (end,) = h.named("call.end")
    assert end["outcome"] == "failed" and end["lost"] is True
    assert h.named("policy.violation")[0]["detail"] == "the call was cut off: Asterisk restarted"
    assert h.router.calls == {}


async def test_r1_a_unit_of_250_phones_rings_every_one_in_groups_that_each_fit_an_agi_command(
    tmp_path: Path,
) -> None:
    """#12: AGI cuts a command line at 2048 bytes; the unit's phones go in groups instead."""
    data = copy.deepcopy(BASE)
    data["people"] += [
        {"id": f"big{n}", "name": f"P{n}", "unit": "kc", "extension": str(7100 + n), "device": f"PJSIP/{7100 + n}"}
        for n in range(250)
    ]
    h = Harness(tmp_path, config=data)
    variables = await h.step("start", called="7000")
    legs = variables["ROUTING_DIAL"].split("&")
    assert legs[0] == "Local/g1@routing-ring-group" and len(legs) > 1
    groups = [variables[f"__ROUTING_GROUP_{n}"] for n in range(1, len(legs) + 1)]
    assert all(len(group) <= MAX_DIAL for group in groups)
    rung = "&".join(groups).split("&")
    assert {f"PJSIP/{7100 + n}" for n in range(250)} <= set(rung)  # never a silent subset
    assert variables["ROUTING_TIMEOUT"] == "30"  # one ring limit for all (R1)


class ThreadNoting(MemoryReferrals):
    """Referrals and callbacks behind a network round trip (as PostgreSQL's) that note which
    thread asked for them."""

    io_off_loop = True

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[int] = []

    def snapshot(self) -> RoutingState:
        self.threads.append(threading.get_ident())
        return super().snapshot()

    def add_callback(self, *, call_id: str, caller: str, target: str, at: datetime) -> int:
        self.threads.append(threading.get_ident())
        return 7


async def test_the_store_is_read_and_written_off_the_event_loop_while_a_call_waits(tmp_path: Path) -> None:
    """#12: a call's referrals and its booked callback go to a remote store (PostgreSQL) from a
    worker thread: each is a network round trip, which must not hold up other calls."""
    data = copy.deepcopy(BASE)
    data["people"][0]["fallback"] = ["callback", "voicemail"]
    h = Harness(tmp_path, config=data)
    noting = ThreadNoting()
    h.router._referrals = noting
    h.router._callbacks = noting
    await h.step("start")
    h.clock.advance(30)
    await h.step("dial", "NOANSWER//")
    await h.step("read", "OK/1")
    loop_thread = threading.get_ident()
    assert len(noting.threads) == 2 and loop_thread not in noting.threads
    assert h.named("callback.requested")[0]["callback_id"] == 7


# --- #12 item 9: the answer reported over AMI, the Dial's result with the hangup -------------------


def with_mobile() -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["people"][0]["forward_to_mobile"] = {"approved_by": "Verksamhetschef", "approved_on": "2026-03-01"}
    return data


async def test_an_answer_reported_over_ami_is_logged_at_once_and_the_hangup_ends_the_call(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await h.step("start")
    h.clock.advance(6)
    h.router.answered(UNIQUEID, "PJSIP/5001-00000003", "linked.1")  # UserEvent RoutingAnswered
    answered = h.named("call.answered")[0]
    assert (answered["by"], answered["wait_s"], answered["rings"]) == ("soc1", 6.0, 1)
    assert h.named("call.end") == []  # the conversation goes on; the store has the answer already
    h.clock.advance(60)
    # The dialplan does not ask after an answered Dial: the hangup handler reports it.
    await h.script("hangup", "start", "ANSWER/1795816900.000/1795816906.000/PJSIP/5001-00000003")
    assert len(h.named("call.answered")) == 1
    (end,) = h.named("call.end")
    assert (end["outcome"], end["by"], end["wait_s"], end["duration_s"]) == ("answered", "soc1", 6.0, 66.0)


async def test_an_answer_over_ami_naming_another_call_or_coming_after_the_end_changes_nothing(
    tmp_path: Path,
) -> None:
    h = Harness(tmp_path)
    await h.step("start")
    h.router.answered(UNIQUEID, "PJSIP/5001-00000003", "another.call")
    assert h.named("call.answered") == []
    h.clock.advance(8)
    await h.script("hangup", "start", "ANSWER/1795816900.000/1795816907.000/PJSIP/5001-00000003")
    h.router.answered(UNIQUEID, "PJSIP/5001-00000003", "linked.1")  # late: the call has ended
    assert [a["wait_s"] for a in h.named("call.answered")] == [7.0]  # dated by Asterisk's clock
    assert [e["outcome"] for e in h.named("call.end")] == ["answered"]


async def test_r14_r20_the_mobile_taking_the_call_is_logged_from_the_answer_report_or_from_the_hangup(
    tmp_path: Path,
) -> None:
    live = Harness(tmp_path, config=with_mobile())
    assert "Local/mobile@routing-mobile" in (await live.step("start"))["ROUTING_DIAL"]
    live.router.answered(UNIQUEID, "Local/mobile@routing-mobile-00000004;1", "linked.1")
    assert [f["person"] for f in live.named("mobile.forward")] == ["soc1"]
    await live.script("hangup", "start", "ANSWER/1795816900.000/1795816907.000/Local/mobile@routing-mobile-00000004;1")
    assert len(live.named("mobile.forward")) == 1

    # No answer report reached the service (AMI down): the hangup says who answered.
    late = Harness(tmp_path, config=with_mobile())
    await late.step("start")
    await late.script("hangup", "start", "ANSWER/1795816900.000/1795816907.000/Local/mobile@routing-mobile-00000005;1")
    assert [f["person"] for f in late.named("mobile.forward")] == ["soc1"]
    assert late.named("call.end")[0]["outcome"] == "answered"

    desk = Harness(tmp_path, config=with_mobile())
    await desk.step("start")
    await desk.script("hangup", "start", "ANSWER/1795816900.000/1795816907.000/PJSIP/5001-00000006")
    assert desk.named("mobile.forward") == []


def test_dial_result_reads_the_answering_channel_whose_name_has_slashes_of_its_own() -> None:
    started = at("2026-12-01 10:15")
    event, rang = step_codec.dial_result("ANSWER/100.000/107.500/Local/mobile@routing-mobile-1;1", started, started)
    assert (event.kind, rang, event.at) == (EventKind.ANSWERED, 7.5, started + timedelta(seconds=7.5))
    assert step_codec.answering_channel("ANSWER/100.000/107.500/Local/mobile@routing-mobile-1;1") == (
        "Local/mobile@routing-mobile-1;1"
    )
    assert step_codec.answering_channel("NOANSWER/100.000/") == ""
    assert step_codec.dial_result("NOANSWER/100.000/", started, started)[0].kind is EventKind.NO_ANSWER


def with_operators() -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["switchboard"]["operators"] = [{"id": "op1", "name": "Olle", "device": "PJSIP/op1"}]
    return data


async def test_switchboard_queue_step_history_and_an_operators_answer(tmp_path: Path) -> None:
    """#13: after Anna rings out, her cover chain reaches the switchboard's queue; the queue
    knows what happened before, and an operator's answer ends the flow, by the operator."""
    data = with_operators()
    anna = next(p for p in data["people"] if p["id"] == "soc1")
    anna["cover"] = "9000"
    h = Harness(tmp_path, config=data)
    await h.step("start")
    h.clock.advance(30)
    variables = await h.step("dial", "NOANSWER//")
    assert (variables["ROUTING_ACTION"], variables["ROUTING_NUMBER"], variables["ROUTING_FS_NUMBER"]) == (
        "queue",
        "5001",
        "9000",
    )
    assert h.router.calls[UNIQUEID].history == ["Anna Lindqvist (5001): no answer after 5 signals"]
    h.clock.advance(7)
    h.router.answered(UNIQUEID, "PJSIP/op1-00000004", "linked.1", by="operator:op1")
    answered = h.named("call.answered")[0]
    assert (answered["by"], answered["step"], answered["wait_s"]) == ("operator:op1", "switchboard", 37.0)
    await h.script("hangup", "start", "ANSWER///")
    (end,) = h.named("call.end")
    assert (end["outcome"], end["wait_s"]) == ("answered", 37.0)


async def test_r3_an_unserved_switchboard_queue_rings_the_switchboards_phone(tmp_path: Path) -> None:
    h = Harness(tmp_path, config=with_operators())
    assert (await h.step("start", called="9000"))["ROUTING_ACTION"] == "queue"
    variables = await h.step("queue", "FAILED", called="9000")
    assert (variables["ROUTING_ACTION"], variables["ROUTING_DIAL"]) == ("ring", "PJSIP/9000")
    assert h.named("call.unavailable")[0]["status"] == "queue_unserved"
    h.clock.advance(30)
    variables = await h.step("dial", "NOANSWER//", called="9000")
    assert (variables["ROUTING_ACTION"], variables["ROUTING_MAILBOX"]) == ("voicemail", "9000@default")
