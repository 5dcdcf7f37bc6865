"""Going on with a call another instance was routing (#17): two routers, one store.

Instance A routes the start of a call and stops answering (killed); the dialplan asks instance
B with the call's place in its plan (ROUTING_PLACE). B reads the call's kept start from the
store, makes the plan again and goes on: the caller gets the rest of the plan, with the R2
answers they already had, and the call has exactly one call.end, B's.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import pytest
import yaml

from routing.agi.protocol import AgiRequest
from routing.calllog.recorder import EventRecorder
from routing.calllog.setup import configure_logging
from routing.config.load import load_config_text
from routing.config.schema import Config
from routing.policy.directory import Directory
from routing.policy.referral import Reason, Referral
from routing.service.call_resume import CallResumer
from routing.service.call_router import CallRouter
from routing.service.prompts import Prompts
from routing.service.referrals import MemoryReferrals
from routing.store.base import Store
from routing.store.sqlite import SqliteStore
from tests.unit.policy.builders import BASE, at, config, person
from tests.unit.service.test_call_router import Clock, fake_speech

UNIQUEID = "1795816916.18"
LINKEDID = "1795816916.18"


class Instances:
    """Two routers sharing one SQLite store, each with its instance id; one log."""

    def __init__(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        config_a: Config | None = None,
        config_b: Config | None = None,
    ) -> None:
        self.store = SqliteStore(tmp_path / "routing.db")
        self.buffer = io.StringIO()
        self.recorder = EventRecorder(self.store)
        configure_logging("json", stream=self.buffer, recorder=self.recorder)
        self.clock = Clock(at("2026-12-01 10:15"))
        # The log's timestamps (and so the store's) follow the routers' clock, as they do when
        # both are the wall clock: B dates the steps A gave from them.
        clock = self.clock

        class LogClock:
            @staticmethod
            def now(tz: tzinfo | None = None) -> datetime:
                return clock.now.astimezone(tz)

        monkeypatch.setattr("routing.calllog.setup.datetime", LogClock)
        monkeypatch.setattr("routing.calllog.recorder.datetime", LogClock)
        self.referrals = MemoryReferrals()
        self.a = self._router(tmp_path, "a", config_a or Config.model_validate(BASE))
        self.b = self._router(tmp_path, "b", config_b or Config.model_validate(BASE))

    def _router(self, tmp_path: Path, instance: str, cfg: Config) -> CallRouter:
        router: CallRouter

        def directory() -> Directory:
            return router.directory

        router = CallRouter(
            Directory.from_config(cfg),
            self.referrals,
            Prompts(tmp_path / "prompts", synthesise=fake_speech),
            progress_timeout_s=4,
            clock=self.clock,
            callbacks=self.store,
            instance=instance,
            resumer=CallResumer(self.store, instance, directory),
        )
        return router

    async def ask(
        self, router: CallRouter, script: str, event: str, detail: str = "", place: str = ""
    ) -> dict[str, str]:
        headers = {
            "agi_network_script": script,
            "agi_uniqueid": UNIQUEID,
            "agi_channel": "Local/caller-a@sandbox-caller-00000009;1",
            "agi_callerid": "0701234567",
            "agi_extension": "5001",
        }
        args = (event, detail, LINKEDID, "0", "allowed_not_screened", place)
        variables = dict(await router(AgiRequest(headers, args)))
        self.recorder.flush()  # the store has what the service logged, as it would a moment later
        return variables

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in self.buffer.getvalue().splitlines()]
        return [e for e in lines if name is None or e["event"] == name]

    def stored(self, name: str) -> list[Any]:
        events = self.store.call_events(LINKEDID)
        return [e for e in events if name == e.event.NAME]


def open_calls(store: Store) -> list[tuple[str, str]]:
    return [(c.call_id, c.instance) for owner in store.open_call_owners() for c in store.open_calls(owner)]


async def test_r2_the_standby_goes_on_down_the_plan_and_ends_the_call_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two = Instances(tmp_path, monkeypatch)
    first = await two.ask(two.a, "step", "start")
    assert (first["ROUTING_PLACE"], first["ROUTING_STEP"]) == ("0", "person")
    two.clock.advance(30)
    # A is gone: the dialplan asks B with the ring's result and the call's place.
    cover = await two.ask(two.b, "step", "dial", "NOANSWER//", place=first["ROUTING_PLACE"])
    assert (cover["ROUTING_PLACE"], cover["ROUTING_STEP"], cover["ROUTING_DIAL"]) == ("1", "cover", "PJSIP/5002")
    (resumed,) = two.events("call.resumed")
    assert resumed | {"place": "0", "step": "person", "from_instance": "a", "instance": "b"} == resumed
    assert open_calls(two.store) == [(LINKEDID, "b")]  # no orphan sweep ends it now
    assert two.events("call.no_answer")[0]["rings"] == 5  # dated from A's logged step
    two.clock.advance(30)
    mailbox = await two.ask(two.b, "step", "dial", "NOANSWER//", place=cover["ROUTING_PLACE"])
    assert mailbox["ROUTING_MAILBOX"] == "5001@default"
    two.clock.advance(20)
    await two.ask(two.b, "step", "voicemail", "SUCCESS", place=mailbox["ROUTING_PLACE"])
    await two.ask(two.b, "hangup", "voicemail", "", place=mailbox["ROUTING_PLACE"])
    (end,) = two.events("call.end")
    assert (end["outcome"], end["wait_s"], end["duration_s"]) == ("voicemail", 60.0, 80.0)
    assert len(two.stored("call.end")) == 1 and open_calls(two.store) == []


async def test_r11_a_referral_heard_before_the_failover_still_answers_and_is_not_rung(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two = Instances(tmp_path, monkeypatch)
    two.referrals.set(Referral("soc1", Reason.LUNCH))
    first = await two.ask(two.a, "step", "start")
    assert first["ROUTING_STEP"] == "referral"
    two.clock.advance(9)
    two.referrals.clear("soc1")  # B plans from what A saw, not from the referrals now
    cover = await two.ask(two.b, "step", "play", "SUCCESS", place=first["ROUTING_PLACE"])
    assert (cover["ROUTING_STEP"], cover["ROUTING_DIAL"]) == ("cover", "PJSIP/5002")  # soc1 not rung (R11)
    assert two.events("call.referral")[0]["person"] == "soc1"  # B logs the referral the caller heard
    two.clock.advance(5)
    await two.ask(two.b, "hangup", "dial", "CANCEL//", place=cover["ROUTING_PLACE"])
    (end,) = two.events("call.end")
    assert (end["outcome"], end["wait_s"], end["by"]) == ("referral", 0.0, "soc1")


async def test_r4_a_callback_accepted_on_the_standby_is_booked_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two = Instances(tmp_path, monkeypatch)
    place = (await two.ask(two.a, "step", "start"))["ROUTING_PLACE"]
    for detail in ("NOANSWER//", "NOANSWER//"):
        two.clock.advance(30)
        place = (await two.ask(two.a, "step", "dial", detail, place=place))["ROUTING_PLACE"]
    offer = await two.ask(two.a, "step", "voicemail", "FAILED", place=place)
    assert offer["ROUTING_ACTION"] == "offer"
    two.clock.advance(4)
    confirmation = await two.ask(two.b, "step", "read", "OK/1", place=offer["ROUTING_PLACE"])
    assert confirmation["ROUTING_PLACE"] == offer["ROUTING_PLACE"] + "c"
    (callback,) = two.store.callbacks()
    assert callback.target == "soc1"
    assert (await two.ask(two.b, "step", "play", "SUCCESS", place=confirmation["ROUTING_PLACE"]))["ROUTING_ACTION"] == (
        "finish"
    )
    await two.ask(two.b, "hangup", "play", "", place=confirmation["ROUTING_PLACE"])
    assert [e["outcome"] for e in two.events("call.end")] == ["callback"]


async def test_r2_a_caller_who_hangs_up_while_the_standby_is_asked_gets_one_call_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two = Instances(tmp_path, monkeypatch)
    first = await two.ask(two.a, "step", "start")
    two.clock.advance(12)
    await two.ask(two.b, "hangup", "start", "CANCEL//", place=first["ROUTING_PLACE"])
    (end,) = two.events("call.end")
    assert (end["outcome"], end["duration_s"]) == ("abandoned", 12.0)
    assert open_calls(two.store) == []


async def test_r2_the_standby_plans_again_under_the_config_the_call_started_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B runs a newer config (soc1's cover changed); a call A started goes on under A's."""
    text_a = yaml.safe_dump(BASE)
    changed = config()
    person(changed, "soc1")["cover"] = "7001"
    text_b = yaml.safe_dump(changed)
    cfg_a, cfg_b = load_config_text(text_a), load_config_text(text_b)
    two = Instances(tmp_path, monkeypatch, cfg_a, cfg_b)
    two.store.save_config_version(cfg_a.source_hash, cfg_a.source_text, at=datetime.now(UTC))
    first = await two.ask(two.a, "step", "start")
    cover = await two.ask(two.b, "step", "dial", "NOANSWER//", place=first["ROUTING_PLACE"])
    assert cover["ROUTING_DIAL"] == "PJSIP/5002"  # A's plan, not B's PJSIP/7001


@pytest.mark.parametrize(
    ("place", "why"),
    [
        ("", "no call id or place"),
        ("7", "the plan has"),
        ("1", "its logged step person soc1 at 1 is not the plan's"),
    ],
)
async def test_r3_a_call_that_cannot_be_resumed_gets_the_failsafe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, place: str, why: str
) -> None:
    two = Instances(tmp_path, monkeypatch)
    await two.ask(two.a, "step", "start")
    if place == "1":  # the store says step 0 rang someone else than the plan says
        two.store.record_event(
            at=(two.clock.now + timedelta(seconds=1)).astimezone(UTC).isoformat(),
            call_id=LINKEDID,
            event="call.step",
            fields={"step": "person", "target": "soc1", "rules": [], "place": "1"},
        )
    assert await two.ask(two.b, "step", "dial", "NOANSWER//", place=place) == {"ROUTING_ACTION": "failsafe"}
    (refused,) = two.events("call.not_resumed")
    assert why in refused["why"] and refused["level"] == "warning"
    assert open_calls(two.store) == [(LINKEDID, "a")]  # left to A's orphan sweep, not taken


async def test_r3_a_call_without_a_stored_start_or_already_ended_is_not_resumed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two = Instances(tmp_path, monkeypatch)
    assert await two.ask(two.b, "step", "dial", "NOANSWER//", place="0") == {"ROUTING_ACTION": "failsafe"}
    first = await two.ask(two.a, "step", "start")
    await two.ask(two.a, "hangup", "start", "CANCEL//", place=first["ROUTING_PLACE"])
    assert await two.ask(two.b, "step", "dial", "NOANSWER//", place="0") == {"ROUTING_ACTION": "failsafe"}
    await two.ask(two.b, "hangup", "dial", "NOANSWER//", place="0")  # its end is logged: nothing to say
    whys = [e["why"] for e in two.events("call.not_resumed")]
    assert whys == [
        "its call.start is not in the store",
        "it has ended already",
    ]
    assert len(two.events("call.end")) == 1


async def test_a_call_taken_over_while_its_first_instance_lives_gets_no_second_call_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A did not answer in time (a slow store, a stall): the dialplan asked B, which took the call
    over. A still holds the call in memory; when A lets it go (its stop, an Asterisk restart, the
    8 h limit) it logs no call.end: the call's end is B's."""
    two = Instances(tmp_path, monkeypatch)
    first = await two.ask(two.a, "step", "start")
    two.clock.advance(30)
    await two.ask(two.b, "step", "dial", "NOANSWER//", place=first["ROUTING_PLACE"])
    two.a.let_go()
    assert two.events("call.end") == [] and two.events("call.gone_elsewhere")[0]["how"] == "let_go"
    await two.ask(two.b, "hangup", "dial", "CANCEL//", place="1")
    two.b.let_go()
    assert len(two.events("call.end")) == 1 and len(two.stored("call.end")) == 1


async def test_a_call_that_is_its_instances_own_is_let_go_with_its_call_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two = Instances(tmp_path, monkeypatch)
    await two.ask(two.a, "step", "start")
    two.a.let_go()
    assert [(e["outcome"], e["lost"]) for e in two.events("call.end")] == [("failsafe", True)]
