"""`routing demo`: real calls through the sandbox Asterisk with the admin's config.

Every device in the config is replaced by a simulated phone of the sandbox (a Local channel
that rings, answers, is busy or unavailable as each scenario needs) and the ring period is
shortened to 1 s so the demo takes a minute, not ten. Everything else — hours, units, covers,
chains, referrals, prompts — is the config's own. Each scenario's call enters Asterisk as a
real call; the service decides every step; the log shows what happened.
"""

from __future__ import annotations

import asyncio
import io
import json
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from panoramisk.message import Message

from routing.ami.client import AmiClient
from routing.calllog import readable
from routing.calllog.events import CallStart
from routing.calllog.setup import configure_logging
from routing.config.schema import Config
from routing.policy.directory import Directory
from routing.policy.hours import OpenState, open_state
from routing.policy.referral import Reason, Referral
from routing.policy.steps import Finish, Voicemail
from routing.sandbox.lifecycle import RunningSandbox
from routing.service.asterisk_link import answer_report
from routing.service.failsafe import FAMILY, TOKEN_KEY
from routing.service.referrals import MemoryReferrals
from routing.service.runner import Service
from routing.store.sqlite import SqliteStore

DEMO_RING_PERIOD_S = 1.0
TALK_S = 2.0  # how long a demo caller talks once answered
IN_MAILBOX_S = 3.0  # how long a demo caller stays in voicemail
CALL_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class Scenario:
    title: str
    called: str
    at: datetime
    phones: dict[str, str]  # extension -> sandbox behaviour (ring, answer2, busy, unavail)
    caller: str | None = "0701234567"
    internal: bool = False
    referral: Referral | None = None


@dataclass
class ScenarioRun:
    scenario: Scenario
    events: list[dict[str, Any]] = field(default_factory=list)


def _device(behaviour: str, extension: str) -> str:
    return f"Local/{behaviour}-{extension}@sandbox-phones"


def demo_config(config: Config, phones: dict[str, str], default: str = "answer2") -> Config:
    """The config with every device a simulated phone and a 1 s ring period."""
    data = config.model_dump(mode="json", exclude_none=True)
    data["ring"]["ring_period_s"] = DEMO_RING_PERIOD_S
    data["ring"]["progress_timeout_s"] = 3
    for entry in [*data["people"], *data["phones"], data["switchboard"]]:
        entry["device"] = _device(phones.get(entry["extension"], default), entry["extension"])
    data["outbound"]["trunk"] = "Local/ring-mobile-{number}@sandbox-phones"
    return Config.model_validate(data)


def _moments(start: datetime) -> list[datetime]:
    """Every quarter of an hour for two weeks from `start`."""
    return [start + timedelta(minutes=15 * i) for i in range(14 * 24 * 4)]


def scenarios(config: Config, today: datetime) -> list[Scenario]:
    """Scenarios that show the config's own rules, at moments where those rules apply."""
    d = Directory.from_config(config)
    zone = ZoneInfo(config.timezone)
    monday = (today.astimezone(zone) + timedelta(days=7 - today.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    moments = _moments(monday)
    chosen: list[Scenario] = []

    def first(unit_id: str | None, wanted: OpenState) -> datetime | None:
        """The middle of the first stretch of time in the `wanted` state: a moment well
        inside the hours, not on their edge."""
        hours = d.phone_hours.get(unit_id) if unit_id else None
        stretch: list[datetime] = []
        for moment in moments:
            if open_state(d.calendar, d.working_hours, hours, moment, internal=False) is wanted:
                stretch.append(moment)
            elif stretch:
                break
        return stretch[len(stretch) // 2] if stretch else None

    open_moment = first(None, OpenState.OPEN)
    person = next((p for p in config.people if p.cover is not None), None)
    if person is not None and open_moment is not None:
        chosen.append(
            Scenario(
                f"R1/R2: {person.name} does not answer within the ring limit; the cover position answers",
                person.extension,
                open_moment,
                {person.extension: "ring"},
            )
        )
        chosen.append(
            Scenario(
                f"R11/R15: {person.name} has a referral (meeting); the caller hears it, then the cover answers",
                person.extension,
                open_moment,
                {},
                referral=Referral(person.id, Reason.MEETING, open_moment + timedelta(hours=2)),
            )
        )
    unit = next((u for u in config.units if u.phone_hours is not None), None)
    if unit is not None and (moment := first(unit.id, OpenState.PHONE_HOURS_CLOSED)) is not None:
        chosen.append(
            Scenario(
                f"R8/R9: {unit.name} outside its telephone hours: announcement, then the duty phone answers",
                unit.number,
                moment,
                {},
            )
        )
        colleague = next((p for p in config.people if p.unit != unit.id), None)
        if colleague is not None:
            chosen.append(
                Scenario(
                    f"R7: the same hour, an internal call from {colleague.name} rings {unit.name}'s members",
                    unit.number,
                    moment,
                    {},
                    caller=colleague.extension,
                    internal=True,
                )
            )
    closed = first(None, OpenState.CLOSED)
    some_unit = unit or (config.units[0] if config.units else None)
    if some_unit is not None and closed is not None:
        chosen.append(
            Scenario(
                f"R6/R9: {some_unit.name} outside working hours: announcement, then voicemail",
                some_unit.number,
                closed,
                {},
            )
        )
    if person is not None and open_moment is not None:
        everyone_rings = {p.extension: "ring" for p in config.people}
        everyone_rings.update({p.extension: "ring" for p in config.phones})
        everyone_rings[config.switchboard.extension] = "ring"
        chosen.append(
            Scenario(
                f"R3/R4: nobody answers a hidden caller to {person.name}: voicemail, no callback offer",
                person.extension,
                open_moment,
                everyone_rings,
                caller=None,
            )
        )
    return chosen


class _Clock:
    """The call's moment for the policy: the scenario's time, moving on in real time."""

    def __init__(self) -> None:
        self.base = datetime.now().astimezone()
        self.started = asyncio.get_running_loop().time()

    def set(self, moment: datetime) -> None:
        self.base = moment
        self.started = asyncio.get_running_loop().time()

    def __call__(self) -> datetime:
        return self.base + timedelta(seconds=asyncio.get_running_loop().time() - self.started)


async def run_demo(config: Config, sandbox: RunningSandbox, *, show: Any = print) -> list[ScenarioRun]:
    log_buffer = io.StringIO()
    configure_logging("json", stream=log_buffer, mask_numbers=config.logging.mask_numbers)
    listen = config.model_copy(
        update={
            "asterisk": config.asterisk.model_copy(
                update={"agi": config.asterisk.agi.model_copy(update={"listen": "127.0.0.1:0"})}
            )
        }
    )
    clock = _Clock()
    referrals = MemoryReferrals()
    # The demo's calls stay out of the site's store: a store of its own, gone afterwards.
    scratch = tempfile.TemporaryDirectory(prefix="routing-demo-")
    service = Service(listen, referrals=referrals, store=SqliteStore(Path(scratch.name) / "demo.db"), clock=clock)
    await service.start()
    assert service.agi_address is not None
    ami = AmiClient(sandbox.ami_host, sandbox.ami_port, sandbox.ami_username, sandbox.ami_secret)
    await ami.connect()
    if service.link is None:
        # No AMI link of its own (its secret is not in the environment): the service hears who
        # answered, the AMI UserEvent RoutingAnswered, through the demo's session instead.
        ami.on_event("UserEvent", partial(_relay_answer, service))
    outcomes: list[ScenarioRun] = []
    try:
        await ami.set_global("ROUTING_AGI", f"agi://127.0.0.1:{service.agi_address[1]}")
        # The service's own AMI link (if the environment has its secret) writes the FastAGI
        # secret too; the demo writes it at once with the sandbox's login, so no call waits.
        await ami.db_put(FAMILY, TOKEN_KEY, service.agi_token)
        for number, scenario in enumerate(scenarios(config, datetime.now().astimezone()), start=1):
            show(f"\n{number}. {scenario.title}")
            show(f"   call to {scenario.called} at {scenario.at:%A %Y-%m-%d %H:%M} (policy time)")
            service.router.directory = Directory.from_config(demo_config(config, scenario.phones))
            for person in list(config.people):
                referrals.clear(person.id)
            if scenario.referral is not None:
                referrals.set(scenario.referral)
            clock.set(scenario.at)
            mark = len(log_buffer.getvalue())
            await _place_call(ami, service, scenario, number)
            outcome = ScenarioRun(scenario, [json.loads(line) for line in log_buffer.getvalue()[mark:].splitlines()])
            start = next((e for e in outcome.events if e["event"] == CallStart.NAME), None)
            call_id = start["call_id"] if start else None
            for event in outcome.events:
                if event.get("call_id") == call_id:
                    show(f"   {readable.describe(event)}")
            outcomes.append(outcome)
    finally:
        ami.close()
        await service.stop()
        service.store.close()
        scratch.cleanup()
    return outcomes


def _relay_answer(service: Service, message: Message) -> None:
    answer = answer_report(message)
    if answer is not None:
        service.router.answered(*answer)


async def _place_call(ami: AmiClient, service: Service, scenario: Scenario, number: int) -> None:
    before = set(service.router.calls)
    variables = {"CALLERID(num-pres)": "prohib"} if scenario.caller is None else None
    caller_id = f'"Demo" <{scenario.caller or "0700000000"}>'
    await ami.originate(
        f"Local/caller-demo{number}@sandbox-caller",
        context="routing-internal" if scenario.internal else "routing-inbound",
        exten=scenario.called,
        caller_id=caller_id,
        variables=variables,
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CALL_TIMEOUT_S
    uniqueid: str | None = None
    hang_up_at: float | None = None
    while loop.time() < deadline:
        await asyncio.sleep(0.2)
        if uniqueid is None:
            new = set(service.router.calls) - before
            uniqueid = next(iter(new), None)
            continue
        active = service.router.calls.get(uniqueid)
        if active is None:
            return  # the hangup reached the service: the call is over
        step = active.flow.step
        if hang_up_at is None and isinstance(step, Finish):
            hang_up_at = loop.time() + TALK_S
        elif hang_up_at is None and isinstance(step, Voicemail):
            hang_up_at = loop.time() + IN_MAILBOX_S
        if hang_up_at is not None and loop.time() >= hang_up_at:
            await ami.action({"Action": "Hangup", "Channel": active.channel})
            hang_up_at = deadline  # once
    await ami.command("channel request hangup all")
