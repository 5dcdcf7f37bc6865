"""Harness for end-to-end tests of the routing service against the sandbox Asterisk.

- `Ami`: the tests' AMI session, on the product's own client (routing.ami.client.AmiClient,
  with an AmiRecorder: every event with its monotonic arrival time). It originates simulated
  callers, originates a channel into an application (and waits for its OriginateResponse),
  hangs channels up, sends DTMF and waits for conditions on the events. Every action is timed
  out (by AmiClient): an action sent while Asterisk is down would otherwise never resolve.
  Its own log lines go to stderr, never into the service's log the tests read. The `ami`
  fixture is one under the sandbox's lock; `Ami.session(sandbox)` is one without it, for a
  test that resets the sandbox itself (test_sandbox.py).
- `CallerCall`: one originated call and what Asterisk did in it (devices dialled and for how
  long, applications run with their data, channels left).
- `start_service`: the routing `Service` in-process on 127.0.0.1:0, its JSON log captured
  in a `ServiceLog`, ROUTING_AGI pointed at it, and a `TickingClock` that fixes the call's
  hour (Asterisk keeps real time, and so do durations).
- `municipality`: a small config dict whose devices are the sandbox's simulated phones.
- What the test modules check of a call: `finish` (its one call.end, no channel left),
  `agi_requests`, `step_results`, `call_started`, `prompt_path`, `assert_valid_prompt`,
  `wait_for_astdb`. The test modules import helpers from here only, never from each other.

What the harness relies on about Asterisk 22 (each fact is asserted by a test in
test_inbound.py):
- Originate's `ChannelId` names the caller's `;1` Local channel, which runs the routing
  dialplan; its uniqueid is the linkedid of every channel of the call, i.e. the service's
  call_id. `OtherChannelId` names the `;2` side, the caller itself.
- DTMF from the caller: AMI `PlayDTMF` on the caller's `;2` channel arrives on `;1` as
  received DTMF and ends `Read` and `VoiceMail` prompts; so does `SendDTMF` in a caller
  context (`e2e-caller`, below). (`PlayDTMF` with `Receive: yes` on `;1` works too.)
- A hidden caller: Originate with `Variable: CALLERID(num-pres)=prohib`.
- A device that never starts ringing: a Local channel that only `Wait()`s (`e2e-phones`):
  Dial's progress timeout (`timeout^progress`) gives it up as CHANUNAVAIL.
- The sandbox is shared (a demo or another test run may use it at the same time and set the
  ROUTING_AGI global too), so each call carries its own inherited `__ROUTING_AGI` channel
  variable, and channels are counted per call by linkedid.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import wave
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import structlog
import yaml
from panoramisk.message import Message
from structlog.typing import FilteringBoundLogger

from routing.ami.backoff import Backoff
from routing.ami.client import AmiClient, AmiTimeout, FieldValue
from routing.ami.client import AmiError as AmiClientError
from routing.ami.events import AmiEvent, AmiRecorder, EventPredicate, headers_of
from routing.calllog.setup import configure_logging
from routing.config.load import load_config_text
from routing.config.schema import Config
from routing.policy.referral import Referral
from routing.sandbox import RunningSandbox
from routing.service.asterisk_link import answer_report
from routing.service.failsafe import FAMILY as FAILSAFE_FAMILY
from routing.service.failsafe import TOKEN_KEY
from routing.service.prompts import Prompts
from routing.service.runner import Service
from routing.store import Store
from routing.switchboard.accounts import set_password
from tests.ports import free_port

ACTION_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 10.0
RECONNECT_S = 2.0  # after a drop (an Asterisk restart), log in again every 2 s
STOCKHOLM = ZoneInfo("Europe/Stockholm")
PROMPTS_DIR = Path("/var/lib/routing/prompts")
EXTERNAL_CALLER = "0701234567"


class HarnessError(AssertionError):
    """Asterisk or the service did not do what a test waited for: a test failure."""


class AmiError(HarnessError):
    pass


# --- AMI ----------------------------------------------------------------------------------------


def event(name: str, **fields: str) -> EventPredicate:
    """A predicate: the event is `name` and each given field has the given value."""

    def matches(found: AmiEvent) -> bool:
        return found.name == name and all(found[k] == v for k, v in fields.items())

    matches.__name__ = f"{name}({', '.join(f'{k}={v!r}' for k, v in fields.items())})"
    return matches


def _harness_log() -> FilteringBoundLogger:
    """The harness's AMI session logs its state changes as JSON lines to stderr (pytest shows
    them with a failure), not through the global structlog config: that is the service's log
    (ServiceLog), and a test counting its ami.* lines must see the service's only."""
    logger: FilteringBoundLogger = structlog.wrap_logger(
        structlog.PrintLogger(sys.stderr),
        processors=[structlog.processors.add_log_level, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    )
    return logger


class Ami:
    """The tests' AMI session on AmiClient: `ami = await Ami.connect(...)`, then `await ami.close()`."""

    def __init__(self, client: AmiClient, recorder: AmiRecorder) -> None:
        self.client = client
        self.recorder = recorder
        self._serial = itertools.count(1)

    @property
    def events(self) -> list[AmiEvent]:
        """Every event so far, in arrival order."""
        return self.recorder.events

    @property
    def protocol_version(self) -> str | None:
        """The version in Asterisk's greeting `Asterisk Call Manager/<version>`; None if the
        server greeted otherwise."""
        return self.client.protocol_version

    @classmethod
    async def connect(cls, host: str, port: int, username: str, secret: str) -> Ami:
        recorder = AmiRecorder()
        client = AmiClient(
            host,
            port,
            username,
            secret,
            action_timeout_s=ACTION_TIMEOUT_S,
            backoff=Backoff(first_s=RECONNECT_S, cap_s=RECONNECT_S),
            recorder=recorder,
            keepalive=False,  # no keep-alive pings during a short test
            logger=_harness_log(),
        )
        try:
            await client.connect(CONNECT_TIMEOUT_S, wait_for_login=True)
        except AmiClientError as exc:
            client.close()
            raise AmiError(f"no AMI login at {host}:{port} within {CONNECT_TIMEOUT_S}s: {exc}") from exc
        return cls(client, recorder)

    @classmethod
    @asynccontextmanager
    async def session(cls, sandbox: RunningSandbox) -> AsyncIterator[Ami]:
        """`async with Ami.session(sandbox) as ami:` an Ami logged in to the sandbox with its
        generated secret, closed at the end. Without the `ami` fixture's lock: for a test that
        resets the sandbox itself (the reset takes that lock)."""
        ami = await cls.connect(sandbox.ami_host, sandbox.ami_port, sandbox.ami_username, sandbox.ami_secret)
        try:
            yield ami
        finally:
            await ami.close()

    async def close(self) -> None:
        self.client.close()
        await asyncio.sleep(0)  # let the transport close

    # -- actions -----------------------------------------------------------------------------

    async def action(
        self,
        name: str,
        fields: Mapping[str, FieldValue] | None = None,
        *,
        timeout: float = ACTION_TIMEOUT_S,
        **more: str,
    ) -> dict[str, str]:
        """Send an action with `fields` and `more`, return its response; AmiError on an error
        or on no answer. A list value is sent as one header line per item (Originate's Variable)."""
        message: dict[str, FieldValue] = {"Action": name, **(fields or {}), **more}
        try:
            response = await self.client.action(message, as_list=False, timeout_s=timeout)
        except AmiTimeout:
            raise AmiError(f"AMI {name} got no response within {timeout}s (is Asterisk up?)") from None
        except AmiClientError as exc:
            raise AmiError(f"AMI {name} {fields} failed: {exc}") from None
        headers = headers_of(response)
        if headers.get("Response") not in ("Success", "Follows", "Goodbye"):
            raise AmiError(f"AMI {name} {fields} failed: {headers}")
        return headers

    async def action_list(self, name: str, *, timeout: float = ACTION_TIMEOUT_S, **fields: str) -> list[dict[str, str]]:
        """An action answered by a list of events (EventList … Complete): the events, without
        the response and the closing event. AmiError if Asterisk refuses the action."""
        try:
            found = await self.client.action_list({"Action": name, **fields}, timeout_s=timeout)
        except AmiTimeout:
            raise AmiError(f"AMI {name} list did not complete within {timeout}s") from None
        except AmiClientError as exc:
            raise AmiError(f"AMI {name} {fields} failed: {exc}") from None
        return [headers_of(m) for m in found]

    async def command(self, command: str) -> str:
        """A CLI command over AMI; its output."""
        return (await self.action("Command", Command=command)).get("Output", "")

    async def channel_count(self) -> int:
        """`core show channels count`: active channels of the whole sandbox."""
        output = await self.command("core show channels count")
        for line in output.splitlines():
            words = line.split()
            if len(words) >= 3 and words[1] == "active" and words[2].startswith("channel"):
                return int(words[0])
        raise AmiError(f"unexpected `core show channels count` output: {output!r}")

    async def channels(self) -> list[dict[str, str]]:
        """Every channel up now (CoreShowChannels), with Channel, Uniqueid and Linkedid."""
        return await self.action_list("CoreShowChannels")

    async def set_global(self, name: str, value: str) -> None:
        await self.action("Setvar", Variable=name, Value=value)

    async def get_global(self, name: str) -> str:
        return (await self.action("Getvar", Variable=name)).get("Value", "")

    async def db_get(self, family: str, key: str) -> str | None:
        """An AstDB value, or None if there is none."""
        try:
            found = await self.action_list("DBGet", Family=family, Key=key)
        except AmiError as exc:
            if "not found" in str(exc).lower():
                return None
            raise
        return found[0].get("Val") if found else None

    async def db_put(self, family: str, key: str, value: str) -> None:
        await self.action("DBPut", Family=family, Key=key, Val=value)

    async def db_del_tree(self, family: str) -> None:
        """Remove an AstDB family (no error if it is empty)."""
        try:
            await self.client.action({"Action": "DBDelTree", "Family": family}, as_list=False)
        except AmiTimeout:
            raise AmiError(f"AMI DBDelTree got no response within {ACTION_TIMEOUT_S}s") from None
        except AmiClientError:
            pass  # Asterisk refuses to delete a family it does not have: nothing to remove

    async def add_dialplan(self, context: str, exten: str, priorities: Sequence[tuple[str, str]]) -> None:
        """Add `exten` to `context` (created if need be) with priorities 1, 2, … at runtime.
        The reset's `dialplan reload` removes it again."""
        for priority, (application, data) in enumerate(priorities, start=1):
            await self.action(
                "DialplanExtensionAdd",
                Context=context,
                Extension=exten,
                Priority=str(priority),
                Application=application,
                ApplicationData=data,
                Replace="yes",
            )

    async def hangup(self, channel: str) -> None:
        await self.action("Hangup", Channel=channel)

    async def play_dtmf(self, channel: str, digit: str, *, duration_ms: int = 150, receive: bool = False) -> None:
        """AMI PlayDTMF: sends `digit` out of `channel` (to its peer), or with `receive`
        makes `channel` itself receive it."""
        fields = {"Channel": channel, "Digit": digit, "Duration": str(duration_ms)}
        if receive:
            fields["Receive"] = "yes"
        await self.action("PlayDTMF", fields)

    async def originate_application(
        self, channel: str, application: str, data: str = "", *, timeout_ms: int | None = None
    ) -> str:
        """Async Originate: `channel` is called and, once it answers, runs `application(data)`;
        `timeout_ms` is how long it may ring (None: Asterisk's default, 30 s). Returns the
        action's ActionID, which Asterisk's OriginateResponse carries (`originate_response`).
        AmiError unless Asterisk answers the action itself with Success."""
        action_id = f"e2e-originate-{time.monotonic_ns():x}-{next(self._serial)}"
        fields = {"ActionID": action_id, "Channel": channel, "Application": application, "Data": data, "Async": "true"}
        if timeout_ms is not None:
            fields["Timeout"] = str(timeout_ms)
        response = await self.action("Originate", fields)
        if response.get("Response") != "Success":
            raise AmiError(f"AMI Originate {fields} answered {response}")
        return action_id

    async def originate_response(self, action_id: str, timeout: float) -> AmiEvent:
        """The OriginateResponse of the async Originate `action_id`, once the channel answered
        (Response: Success) or gave up (Response: Failure, Reason: 3 no answer, 5 busy, …).
        panoramisk hands it to the recorder as an event: the action itself ended with its
        first response."""
        return await self.wait_for(event("OriginateResponse", ActionID=action_id), timeout)

    async def originate_caller(
        self,
        exten: str,
        *,
        context: str = "routing-inbound",
        caller: str | None = EXTERNAL_CALLER,
        name: str = "Test",
        hidden: bool = False,
        caller_context: str = "sandbox-caller",
        caller_exten: str | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> CallerCall:
        """A simulated caller (it answers and plays silence) calls `exten` in `context`
        (routing-inbound, or routing-internal with `caller` = the caller's extension)."""
        serial = next(self._serial)
        call_id = f"e2e-{time.monotonic_ns():x}-{serial}"
        fields: dict[str, FieldValue] = {
            "Channel": f"Local/{caller_exten or f'caller-{serial}'}@{caller_context}",
            "Context": context,
            "Exten": exten,
            "Priority": "1",
            "Async": "true",
            "Timeout": "10000",
            "ChannelId": call_id,
            "OtherChannelId": f"{call_id}-caller",
        }
        if caller is not None:
            fields["CallerID"] = f'"{name}" <{caller}>'
        chosen = dict(variables or {})
        if hidden:
            chosen["CALLERID(num-pres)"] = "prohib"
        if chosen:
            fields["Variable"] = [f"{key}={value}" for key, value in chosen.items()]
        started = time.monotonic()
        await self.action("Originate", fields)
        return CallerCall(self, call_id, started)

    # -- waiting -----------------------------------------------------------------------------

    def select(self, predicate: EventPredicate, *, since: float = 0.0) -> list[AmiEvent]:
        return self.recorder.select(predicate, since=since)

    async def wait_for(self, predicate: EventPredicate, timeout: float = 10.0, *, since: float = 0.0) -> AmiEvent:
        """The first event that arrived at `since` or later and matches, waiting up to `timeout`."""
        found = await self.recorder.wait_for(predicate, timeout, since=since)
        if found is None:
            what = getattr(predicate, "__name__", repr(predicate))
            recent = "\n".join(repr(e) for e in self.recorder.recent(20))
            raise HarnessError(f"no AMI event {what} within {timeout}s; the last events:\n{recent}")
        return found


# --- one call, as Asterisk saw it ---------------------------------------------------------------


@dataclass(frozen=True)
class Dial:
    """One device a Dial() called: its DialBegin, and its DialEnd unless it still rings."""

    dest_channel: str
    dest_uniqueid: str
    dial_string: str
    begun: float
    ended: float | None
    status: str | None

    @property
    def seconds(self) -> float:
        if self.ended is None:
            raise HarnessError(f"{self.dest_channel} has no DialEnd")
        return self.ended - self.begun


@dataclass(frozen=True)
class App:
    """An application the routing channel ran (one Newexten event)."""

    at: float
    application: str
    data: str
    context: str


@dataclass
class CallerCall:
    """An originated call. `call_id` is the uniqueid of the caller's ;1 Local channel, which
    runs the routing dialplan: the linkedid of the call and the service's call_id."""

    ami: Ami
    call_id: str
    started: float
    _names: dict[str, str] = field(default_factory=dict)

    @property
    def caller_uniqueid(self) -> str:
        return f"{self.call_id}-caller"

    def events(self, predicate: EventPredicate | None = None) -> list[AmiEvent]:
        """Events of any channel of this call (by linkedid)."""
        return [
            e
            for e in self.ami.events
            if self.call_id in (e["Linkedid"], e["Uniqueid"]) and (predicate is None or predicate(e))
        ]

    def channel_name(self, uniqueid: str) -> str:
        if uniqueid not in self._names:
            for found in self.ami.events:
                if found["Uniqueid"] == uniqueid and found["Channel"]:
                    self._names[uniqueid] = found["Channel"]
                    break
            else:
                raise HarnessError(f"no AMI event names the channel with uniqueid {uniqueid}")
        return self._names[uniqueid]

    @property
    def routing_channel(self) -> str:
        return self.channel_name(self.call_id)

    @property
    def caller_channel(self) -> str:
        return self.channel_name(self.caller_uniqueid)

    def dials(self) -> list[Dial]:
        """Every device the routing channel dialled, in order."""
        ends = {e["DestUniqueid"]: e for e in self.ami.events if e.name == "DialEnd" and e["Uniqueid"] == self.call_id}
        out: list[Dial] = []
        for begin in self.ami.events:
            if begin.name == "DialBegin" and begin["Uniqueid"] == self.call_id:
                end = ends.get(begin["DestUniqueid"])
                out.append(
                    Dial(
                        begin["DestChannel"],
                        begin["DestUniqueid"],
                        begin["DialString"],
                        begin.at,
                        end.at if end is not None else None,
                        end["DialStatus"] if end is not None else None,
                    )
                )
        return out

    def dialled(self) -> list[str]:
        """Dial strings in the order dialled, e.g. ['ring-soc1@sandbox-phones', …]."""
        return [d.dial_string for d in self.dials()]

    def apps(self, *names: str) -> list[App]:
        """Applications the routing channel ran (Newexten), optionally only those named."""
        return [
            App(e.at, e["Application"], e["AppData"], e["Context"])
            for e in self.ami.events
            if e.name == "Newexten" and e["Uniqueid"] == self.call_id and (not names or e["Application"] in names)
        ]

    def variable(self, name: str) -> list[str]:
        """Values the routing channel's variable `name` took (VarSet events), in order."""
        return [
            e["Value"]
            for e in self.ami.events
            if e.name == "VarSet" and e["Uniqueid"] == self.call_id and e["Variable"] == name
        ]

    async def wait_app(self, application: str, timeout: float = 15.0, *, data_contains: str = "") -> AmiEvent:
        call_id = self.call_id

        def ran(found: AmiEvent) -> bool:
            return (
                found.name == "Newexten"
                and found["Uniqueid"] == call_id
                and found["Application"] == application
                and data_contains in found["AppData"]
            )

        ran.__name__ = f"Newexten {application}(…{data_contains}…) on {call_id}"
        return await self.ami.wait_for(ran, timeout, since=self.started)

    async def wait_dial(self, dial_string_contains: str, timeout: float = 15.0, *, ended: bool = False) -> AmiEvent:
        """DialBegin (or with `ended`, DialEnd) of the device whose dial string contains the text."""
        call_id = self.call_id
        begin = await self.ami.wait_for(
            lambda e: e.name == "DialBegin" and e["Uniqueid"] == call_id and dial_string_contains in e["DialString"],
            timeout,
            since=self.started,
        )
        if not ended:
            return begin
        return await self.ami.wait_for(
            event("DialEnd", Uniqueid=call_id, DestUniqueid=begin["DestUniqueid"]), timeout, since=begin.at
        )

    async def wait_hangup(self, timeout: float = 15.0) -> AmiEvent:
        """The routing channel has hung up (its hangup handler has run by then)."""
        return await self.ami.wait_for(event("Hangup", Uniqueid=self.call_id), timeout, since=self.started)

    async def hang_up(self) -> None:
        """The caller hangs up: their own (;2) side of the Local pair goes away."""
        await self.ami.hangup(self.caller_channel)

    async def press(self, digit: str) -> None:
        """The caller presses a key: DTMF sent out of the caller's (;2) channel."""
        await self.ami.play_dtmf(self.caller_channel, digit)

    async def channels_left(self) -> list[dict[str, str]]:
        return [c for c in await self.ami.channels() if c.get("Linkedid") == self.call_id]

    async def wait_no_channels(self, timeout: float = 5.0) -> None:
        """No channel of this call is left in Asterisk (Local channels take a moment)."""
        deadline = time.monotonic() + timeout
        while left := await self.channels_left():
            if time.monotonic() > deadline:
                names = ", ".join(c.get("Channel", "?") for c in left)
                raise HarnessError(f"{len(left)} channels of {self.call_id} still up after {timeout}s: {names}")
            await asyncio.sleep(0.1)


# --- the service and its log --------------------------------------------------------------------


class TickingClock:
    """Starts at `start` and runs at real speed: the call's hour is fixed, durations are real."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock's start needs a time zone")
        self.start = start
        self._t0 = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._t0)


def stockholm(text: str) -> datetime:
    """A Stockholm wall-clock time, e.g. stockholm('2026-12-01 10:15') (a Tuesday)."""
    return datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM)


TUESDAY_MORNING = "2026-12-01 10:15"  # inside working hours and soc's telephone hours


class ServiceLog(io.StringIO):
    """The stream the service logs to: one JSON object a line, parsed on demand."""

    def records(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for line in self.getvalue().splitlines():
            if not line.strip():
                continue
            try:
                parsed = json.loads(line)
            except json.JSONDecodeError as exc:
                raise HarnessError(f"the service logged a line that is not JSON: {line!r}") from exc
            if not isinstance(parsed, dict):
                raise HarnessError(f"the service logged a JSON line that is not an object: {line!r}")
            out.append(parsed)
        return out

    def for_call(self, call_id: str, *names: str) -> list[dict[str, Any]]:
        return [r for r in self.records() if r.get("call_id") == call_id and (not names or r.get("event") in names)]

    def names(self, call_id: str) -> list[str]:
        return [str(r.get("event")) for r in self.for_call(call_id)]

    def one(self, call_id: str, name: str) -> dict[str, Any]:
        found = self.for_call(call_id, name)
        if len(found) != 1:
            raise HarnessError(f"expected one {name} for {call_id}, found {len(found)}: {self.names(call_id)}")
        return found[0]

    async def wait_for(self, call_id: str, name: str, timeout: float = 10.0, *, count: int = 1) -> dict[str, Any]:
        """The `count`-th record `name` of the call, waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        while len(found := self.for_call(call_id, name)) < count:
            if time.monotonic() > deadline:
                raise HarnessError(
                    f"no {name} (#{count}) logged for {call_id} within {timeout}s; it logged {self.names(call_id)}"
                )
            await asyncio.sleep(0.05)
        return found[count - 1]

    async def wait_end(self, call_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The call's call.end, after making sure no second one follows at once."""
        await self.wait_for(call_id, "call.end", timeout)
        await asyncio.sleep(0.2)
        return self.one(call_id, "call.end")


@dataclass(frozen=True)
class AmiLogin:
    """Where the service's own AMI link (AstDB fail-safe entries, device states) logs in."""

    host: str
    port: int
    username: str
    secret: str

    def config_section(self, state_dir: Path) -> dict[str, Any]:
        """The config's `asterisk.ami` for this login; the secret goes to a 0600 file in
        `state_dir`, never into the YAML (R12)."""
        secret_file = state_dir / "ami.secret"
        secret_file.write_text(self.secret + "\n", encoding="utf-8")
        secret_file.chmod(0o600)
        return {"host": self.host, "port": self.port, "username": self.username, "secret_file": str(secret_file)}


@dataclass
class RunningService:
    service: Service
    log: ServiceLog
    clock: TickingClock
    ami: Ami
    calls: list[CallerCall] = field(default_factory=list)
    linked: bool = False  # its own AMI link is on: it writes the AstDB fail-safe entries
    stopped: bool = False

    @property
    def agi_url(self) -> str:
        if self.service.agi_address is None:
            raise HarnessError("the service is not listening")
        host, port = self.service.agi_address
        return f"agi://{host}:{port}"

    @property
    def store(self) -> Store:
        return self.service.store

    async def call(
        self, exten: str, *, inherit_agi: bool = True, variables: Mapping[str, str] | None = None, **how: Any
    ) -> CallerCall:
        """Originate a caller to `exten` whose call (and every channel it dials, which inherits
        the variable) asks this service: `__ROUTING_AGI` is set on the call, so a concurrent
        user of the sandbox who moves the global cannot take the call. `inherit_agi=False`
        sets it on the caller's channel only: then dialled devices use the global."""
        chosen = {"__ROUTING_AGI" if inherit_agi else "ROUTING_AGI": self.agi_url, **(variables or {})}
        call = await self.ami.originate_caller(exten, variables=chosen, **how)
        self.calls.append(call)
        return call

    async def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            await self.service.stop()
            self.service.store.close()


def build_config(data: Mapping[str, Any]) -> Config:
    """A Config from a dict, through the YAML loader so every check of a real file runs."""
    return load_config_text(yaml.safe_dump(dict(data), allow_unicode=True, sort_keys=False), "e2e.yaml")


async def start_service(
    ami: Ami,
    data: Mapping[str, Any],
    *,
    state_dir: Path,
    at: datetime | None = None,
    referrals: Iterable[Referral] = (),
    listen: str = "127.0.0.1:0",
    ami_login: AmiLogin | None = None,
    store_url: str | None = None,
) -> RunningService:
    """Start the service for config `data` on `listen` (default a free port of 127.0.0.1),
    log to a ServiceLog (the log config is global: a later start takes the log over), point
    the ROUTING_AGI global at it.

    - `state_dir`: its store (callbacks, referrals) is `state_dir/routing.db`, never the
      machine's /var/lib/routing/routing.db; `referrals` are set in it.
    - `at`: where the clock starts (default a Tuesday 10:15).
    - `store_url`: another store than the SQLite file in `state_dir` (a PostgreSQL database).
    - `ami_login`: the service's own AMI link is started (it writes the AstDB fail-safe
      entries and follows device states); without it the link is off, so nothing but the
      FastAGI secret is written to the shared sandbox's AstDB (by the harness, as the link
      would: without it Asterisk could not speak to the service) and every device is tried.
    """
    log = ServiceLog()
    configure_logging("json", "info", stream=log)
    asterisk_section: dict[str, Any] = {
        **data["asterisk"],
        "agi": {**data["asterisk"].get("agi", {}), "listen": listen},
    }
    if ami_login is not None:
        asterisk_section["ami"] = ami_login.config_section(state_dir)
    store = {"url": store_url or f"sqlite:///{(state_dir / 'routing.db').as_posix().lstrip('/')}"}
    config = build_config({**data, "asterisk": asterisk_section, "store": store})
    clock = TickingClock(at or stockholm(TUESDAY_MORNING))
    service = Service(config, clock=clock, connect_ami=ami_login is not None)
    for referral in referrals:
        service.store.set_referral(referral, at=clock(), by="e2e")
    await service.start()
    if ami_login is None:
        await ami.db_put(FAILSAFE_FAMILY, TOKEN_KEY, service.agi_token)
        # Asterisk reports an answer as the AMI UserEvent RoutingAnswered, which the service's
        # own link hears: without the link, the harness's session passes the real event on to
        # the router, as the link would (call.answered is then logged while the call goes on).
        ami.client.on_event("UserEvent", partial(_relay_answer, service))
    running = RunningService(service, log, clock, ami, linked=ami_login is not None)
    await ami.set_global("ROUTING_AGI", running.agi_url)
    return running


def _relay_answer(service: Service, message: Message) -> None:
    answer = answer_report(message)
    if answer is not None:
        service.on_answered(*answer)


# --- what the tests check of a call (shared by the test modules) -------------------------------


def agi_requests(call: CallerCall, script: str = "step") -> list[list[str]]:
    """Arguments of the routing channel's AGI requests to `script` (from Newexten AppData),
    after the shared secret that comes first (the service's handlers never see it either)."""
    out: list[list[str]] = []
    for app in call.apps("AGI"):
        url, _secret, *args = app.data.split(",")
        if url.endswith(f"/{script}"):
            out.append(args)
    return out


def step_results(call: CallerCall) -> list[tuple[str, str]]:
    """(event, detail) the dialplan reported to the service after each step."""
    return [(args[0], args[1]) for args in agi_requests(call) if args and args[0] != "start"]


def call_started(call: CallerCall) -> float:
    """When the dialplan asked the service for the first step (the service's call.at)."""
    return call.apps("AGI")[0].at


async def finish(svc: RunningService, call: CallerCall, outcome: str, *, by: str | None = None) -> dict[str, Any]:
    """The one call.end (checked: no second one), its outcome, and no channel of the call left."""
    end = await svc.log.wait_end(call.call_id, timeout=15)
    assert end["outcome"] == outcome, svc.log.for_call(call.call_id)
    if by is not None:
        assert end["by"] == by
    await call.wait_no_channels()
    return end


async def prompt_path(text: str) -> str:
    """The sound file the service uses for `text` (the cache key of its generated speech)."""
    return await Prompts(PROMPTS_DIR, "sv").path_for(None, text)


def wav_info(path: Path) -> tuple[int, int, int, float]:
    """(rate, channels, bytes a sample, seconds) of a wav file; raises if it is not one."""
    with wave.open(str(path), "rb") as handle:
        rate = handle.getframerate()
        return rate, handle.getnchannels(), handle.getsampwidth(), handle.getnframes() / rate if rate else 0.0


def assert_valid_prompt(path: str) -> float:
    """A generated prompt Asterisk can play: under prompts/tts, 8 kHz 16-bit mono wav. Its seconds."""
    wav = Path(path + ".wav")
    assert wav.parent == PROMPTS_DIR / "tts"
    assert wav.is_file()
    rate, channels, width, seconds = wav_info(wav)
    assert (rate, channels, width) == (8000, 1, 2)
    assert seconds > 1.0
    return seconds


async def wait_for_astdb(ami: Ami, key: str, value: str, timeout: float = 5.0) -> None:
    """Until the service's AMI link has written `value` at routing/`key` in AstDB."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (found := await ami.db_get("routing", key)) != value:
        assert asyncio.get_running_loop().time() < deadline, f"AstDB routing/{key} is {found!r}, not {value!r}"
        await asyncio.sleep(0.1)


# --- a municipality of simulated phones ---------------------------------------------------------

E2E_PHONES = "e2e-phones"
E2E_CALLER = "e2e-caller"


def phone(behaviour: str, name: str) -> str:
    """A simulated device. sandbox-phones: ring (never answers), answer<N> (after N s), busy,
    unavail; e2e-phones: mute (never rings nor answers)."""
    if behaviour == "mute":
        return f"Local/mute-{name}@{E2E_PHONES}"
    return f"Local/{behaviour}-{name}@sandbox-phones"


def municipality(
    *,
    soc1: str = "ring",
    soc2: str = "ring",
    jour: str = "ring",
    switchboard: str = "ring",
    soc1_fallback: Sequence[str] | None = None,
    callback_timeout_s: float = 2,
) -> dict[str, Any]:
    """Unit soc "Soc" (number 5000, telephone hours mon–fri 09–11, duty phone 5099
    "Socialjouren", mailbox 5000) with soc1 "Anna" (5001, mobile, cover 5002, mailbox 5001)
    and soc2 "Erik" (5002, cover 5099, mailbox 5000); switchboard 9000 (mailbox 9000).
    Working hours mon–fri 08–17. Short timings: ring limit 3 × 1 s, progress timeout 2 s,
    callback offer 2 s. Short names keep the spoken messages short."""
    anna: dict[str, Any] = {
        "id": "soc1",
        "name": "Anna",
        "unit": "soc",
        "extension": "5001",
        "device": phone(soc1, "soc1"),
        "mobile": "+46701234567",
        "cover": "5002",
        "voicemail": "5001@default",
    }
    if soc1_fallback is not None:
        anna["fallback"] = list(soc1_fallback)
    return {
        "version": 1,
        "timezone": "Europe/Stockholm",
        "calendar": {"holidays": "SE"},
        "working_hours": {"mon-fri": "08:00-17:00"},
        "ring": {"max_rings": 3, "ring_period_s": 1, "progress_timeout_s": 2},
        "callback": {"digit": "1", "timeout_s": callback_timeout_s},
        "asterisk": {
            "ami": {"secret_env": "ROUTING_AMI_SECRET"},
            "ari": {"password_env": "ROUTING_ARI_PASSWORD"},
        },
        "switchboard": {"extension": "9000", "device": phone(switchboard, "switchboard"), "voicemail": "9000@default"},
        "units": [
            {
                "id": "soc",
                "name": "Soc",
                "number": "5000",
                "members": ["soc1", "soc2"],
                "telephone_officer": "soc1",
                "phone_hours": {"mon-fri": "09:00-11:00"},
                "duty_phone": "5099",
                "voicemail": "5000@default",
            }
        ],
        "people": [
            anna,
            {
                "id": "soc2",
                "name": "Erik",
                "unit": "soc",
                "extension": "5002",
                "device": phone(soc2, "soc2"),
                "cover": "5099",
                "voicemail": "5000@default",
            },
        ],
        "phones": [{"extension": "5099", "name": "Socialjouren", "device": phone(jour, "jour"), "unit": "soc"}],
        "prompts": {"dir": str(PROMPTS_DIR)},
    }


# --- test-only dialplan, added over AMI (the next reset's `dialplan reload` removes it) ---------


async def install_test_dialplan(ami: Ami) -> None:
    """[e2e-phones] mute-<x>: a device that neither rings nor answers (no Ringing(), no media).
    [e2e-caller] dtmf-<delay>-<digits>-<x>: a caller that answers, waits <delay> s, sends
    <digits> with SendDTMF, then plays silence like sandbox-caller."""
    await ami.add_dialplan(
        E2E_PHONES,
        "_mute-.",
        [("NoOp", "e2e phone ${EXTEN}: never rings, never answers"), ("Wait", "3600"), ("Hangup", "")],
    )
    await ami.add_dialplan(
        E2E_CALLER,
        "_dtmf-.",
        [
            ("NoOp", "e2e caller ${EXTEN}: sends DTMF after a delay"),
            ("Answer", ""),
            ("Wait", "${CUT(EXTEN,-,2)}"),
            ("SendDTMF", "${CUT(EXTEN,-,3)},150"),
            ("Playback", "silence/10"),
            ("Goto", "5"),
        ],
    )


# --- the switchboard's operators (#13): its own HTTP API, as the console uses it ------------------


class OperatorClient:
    """One operator logged in to the switchboard's API of a running service."""

    def __init__(self, base_url: str, operator: str, password: str) -> None:
        self.operator = operator
        self._password = password
        self.http = aiohttp.ClientSession(base_url, cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def __aenter__(self) -> OperatorClient:
        async with self.http.post("/api/login", json={"operator": self.operator, "password": self._password}) as r:
            if r.status != 200:
                raise HarnessError(f"{self.operator} cannot log in: {r.status} {await r.text()}")
            self.csrf = (await r.json())["csrf"]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.http.close()

    async def calls(self) -> list[dict[str, Any]]:
        async with self.http.get("/api/calls") as r:
            if r.status != 200:
                raise HarnessError(f"GET /api/calls: {r.status} {await r.text()}")
            calls: list[dict[str, Any]] = (await r.json())["calls"]
            return calls

    async def post(self, path: str, body: Mapping[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        async with self.http.post(path, json=dict(body or {}), headers={"X-CSRF-Token": self.csrf}) as r:
            answer: dict[str, Any] = await r.json()
            return r.status, answer

    async def act(self, call: str, action: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """An action that must succeed."""
        status, answer = await self.post(f"/api/calls/{call}/{action}", body)
        if status != 200:
            raise HarnessError(f"{self.operator} {action} {call}: {status} {answer}")
        return answer

    async def wait_call(self, call_id: str, timeout: float = 10.0, **wanted: Any) -> dict[str, Any]:
        """The call (by the service's call_id) once it is in the queue with every `wanted`
        field as given (e.g. place="returned")."""
        deadline = time.monotonic() + timeout
        seen: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            seen = [c for c in await self.calls() if c["call_id"] == call_id]
            if seen and all(seen[0].get(key) == value for key, value in wanted.items()):
                return seen[0]
            await asyncio.sleep(0.05)
        raise HarnessError(f"call {call_id} not in the queue with {wanted} within {timeout}s: {seen}")

    async def wait_gone(self, call_id: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while any(c["call_id"] == call_id for c in await self.calls()):
            if time.monotonic() > deadline:
                raise HarnessError(f"call {call_id} still in the queue after {timeout}s")
            await asyncio.sleep(0.05)


class TcpProxy:
    """A TCP relay to `port` of the loopback that a test can cut, as a network fault would:
    every connection through it closes at once and no new one is accepted."""

    def __init__(self, port: int) -> None:
        self._target = port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            if writer.transport is not None:
                writer.transport.abort()
        self._writers.clear()


# --- `routing run` in a process of its own (to be SIGKILLed) ---------------------------------------


@dataclass
class ServiceProcess:
    """`routing run` as its own process, as systemd would run it."""

    process: subprocess.Popen[bytes]
    log_path: Path
    agi_url: str

    def lines(self) -> list[str]:
        return self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()

    async def wait_logged(self, text: str, timeout: float = 15.0, *, or_text: str | None = None) -> None:
        deadline = time.monotonic() + timeout
        texts = (text,) if or_text is None else (text, or_text)
        while not any(t in line for line in self.lines() for t in texts):
            assert self.process.poll() is None, f"routing run exited {self.process.returncode}: {self.lines()[-10:]}"
            assert time.monotonic() < deadline, f"routing run never logged {text}: {self.lines()[-10:]}"
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(5)


StartProcess = Callable[..., Awaitable[ServiceProcess]]  # the conftest's service_process fixture


async def call_via(ami: Ami, svc: ServiceProcess, exten: str, **how: Any) -> CallerCall:
    return await ami.originate_caller(exten, variables={"__ROUTING_AGI": svc.agi_url}, **how)


async def ends_in_voicemail(call: CallerCall, mailbox: str, timeout: float = 20.0) -> None:
    """The caller reaches `mailbox`; then hangs up and nothing of the call is left."""
    await call.wait_app("VoiceMail", timeout, data_contains=mailbox)
    await call.hang_up()
    await call.wait_no_channels()


# --- the switchboard (#13, #14): a service with operators, its ARI link and its API -------------

RING_LIMIT_S = 3.0  # municipality(): 3 signals of 1 s
MARGIN_S = 1.5  # timings on a small, busy machine
PASSWORD = "ett långt lösenord"  # every operator's, in switchboard_config


def switchboard_config(
    tmp_path: Path,
    asterisk: RunningSandbox,
    *,
    operators: tuple[str, ...] = ("eva",),
    ari_port: int | None = None,
    queue_timeout_s: float = 60,
    hold_recall_s: float = 60,
    **phones: Any,
) -> dict[str, Any]:
    data = municipality(**phones)
    secret = tmp_path / "ari.secret"
    secret.write_text(asterisk.ari_password + "\n", encoding="utf-8")
    secret.chmod(0o600)
    data["asterisk"]["ari"] = {
        "url": f"http://127.0.0.1:{ari_port or asterisk.settings.http_port}",
        "username": asterisk.ari_username,
        "password_file": str(secret),
    }
    accounts = tmp_path / "operators"
    for operator in operators:
        set_password(accounts, operator, PASSWORD)
    data["switchboard"] |= {
        "operators": [
            {"id": op, "name": op.title(), "device": f"Local/answer1-{op}@sandbox-phones"} for op in operators
        ],
        "accounts_file": str(accounts),
        "listen": f"127.0.0.1:{free_port()}",
        "queue_timeout_s": queue_timeout_s,
        "hold_recall_s": hold_recall_s,
    }
    return data


async def started(
    routing: Callable[..., Awaitable[RunningService]], data: dict[str, Any], ami_login: AmiLogin
) -> RunningService:
    """The service with its own AMI link (transfers and holds move callers over AMI), its ARI
    stream connected and its fail-safe entries in AstDB."""
    svc = await routing(data, ami_login=ami_login)
    assert svc.service.link is not None and svc.service.ari_stream is not None
    await asyncio.wait_for(svc.service.link.synced.wait(), 15)
    await asyncio.wait_for(svc.service.ari_stream.connected.wait(), 15)
    return svc


def api(svc: RunningService) -> str:
    assert svc.service.switchboard is not None and svc.service.switchboard.address is not None
    host, port = svc.service.switchboard.address
    return f"http://{host}:{port}"


# --- a real headless browser (the HTML reports, the switchboard's console) ----------------------------

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    """Debian's chromium (scripts/bootstrap installs it); in CI its absence fails the run."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("chromium is not installed (scripts/bootstrap installs it)")
        pytest.skip("chromium is not installed")
    return found
