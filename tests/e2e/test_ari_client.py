"""routing.ari against the real sandbox Asterisk: the REST calls the switchboard makes, the
events WebSocket, a dropped connection and its resync, and what Asterisk does with a channel in
Stasis whose app has gone (#13 items 7 and 8; docs/ari.md has the measured facts)."""

from __future__ import annotations

import array
import asyncio
import contextlib
import json
import subprocess
import sys
import time
import wave
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import structlog
from aiohttp import WSMsgType, web
from structlog.testing import CapturingLogger

from routing.ari.backoff import Backoff
from routing.ari.client import AriClient
from routing.ari.errors import AriError
from routing.ari.events import (
    AriEvent,
    ChannelDestroyed,
    ChannelEnteredBridge,
    PlaybackFinished,
    StasisEnd,
    StasisStart,
    UnknownEvent,
)
from routing.ari.stream import AriEventStream, Resync
from routing.calllog.masking import mask_processor
from routing.sandbox import RunningSandbox
from tests.e2e.harness import Ami
from tests.ports import free_port

pytestmark = pytest.mark.e2e

APP = "routing"
# sandbox-phones answer<N>-<x>: rings N s, answers, stays up 10 minutes (extensions_sandbox_phones.conf)
ANSWERING = "Local/answer0-{}@sandbox-phones"
E = TypeVar("E", bound=AriEvent)


@dataclass
class Seen:
    """What a stream handed its handlers, in order, with a way to wait for the next match."""

    events: list[AriEvent] = field(default_factory=list)
    resyncs: list[Resync] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_event(self, event: AriEvent) -> None:
        self.events.append(event)
        self.changed.set()

    async def on_resync(self, resync: Resync) -> None:
        self.resyncs.append(resync)
        self.changed.set()

    async def wait_for(self, kind: type[E], match: Callable[[E], bool] = lambda _: True, timeout: float = 10) -> E:
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if isinstance(event, kind) and match(event):
                    return event
            self.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {kind.__name__} within {timeout} s; saw {[e.type for e in self.events]}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)

    async def wait_resyncs(self, count: int, timeout: float = 10) -> Resync:
        deadline = time.monotonic() + timeout
        while len(self.resyncs) < count:
            self.changed.clear()
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.resyncs)} resyncs within {timeout} s, wanted {count}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), max(0.01, deadline - time.monotonic()))
        return self.resyncs[count - 1]


def client_for(sandbox: RunningSandbox, password: str | None = None, app: str = APP) -> AriClient:
    return AriClient(
        f"http://127.0.0.1:{sandbox.settings.http_port}",
        sandbox.ari_username,
        password if password is not None else sandbox.ari_password,
        app,
    )


def captured() -> tuple[CapturingLogger, Any]:
    """A logger of its own, rendered as the service renders (numbers masked, JSON)."""
    capture = CapturingLogger()
    return capture, structlog.wrap_logger(capture, processors=[mask_processor, structlog.processors.JSONRenderer()])


def lines(capture: CapturingLogger) -> list[dict[str, Any]]:
    return [json.loads(call.args[0]) for call in capture.calls]


def ids(capture: CapturingLogger) -> list[str]:
    return [line["event"] for line in lines(capture)]


@dataclass
class Running:
    client: AriClient
    stream: AriEventStream
    seen: Seen
    capture: CapturingLogger
    task: asyncio.Task[None]


@pytest.fixture
async def ari(sandbox_exclusive: RunningSandbox) -> AsyncIterator[Running]:
    client = client_for(sandbox_exclusive)
    capture, logger = captured()
    seen = Seen()
    stream = AriEventStream(client, seen.on_event, seen.on_resync, backoff=Backoff(0.2, 2), logger=logger)
    task = asyncio.create_task(stream.run())
    await asyncio.wait_for(stream.connected.wait(), 10)
    try:
        yield Running(client, stream, seen, capture, task)
    finally:
        await stream.stop()
        await asyncio.wait_for(task, 10)
        await client.close()


async def test_health_check_names_asterisk_22(ari: Running) -> None:
    info = await ari.client.info()
    assert info.version.startswith("22.")
    assert info.entity_id and info.startup_time


async def test_a_channel_through_the_app_from_stasis_start_to_destroyed(ari: Running) -> None:
    client, seen = ari.client, ari.seen
    originated = await client.originate_into_app(ANSWERING.format("flow"), ["queue", "5000"], caller_id="0701234567")
    start = await seen.wait_for(StasisStart, lambda e: e.channel.id == originated.id)
    assert start.args == ("queue", "5000")
    assert start.channel.caller.number == "0701234567"
    assert start.channel.dialplan is not None and start.channel.dialplan.app_name == "Stasis"
    await client.answer(originated.id)
    assert (await client.channel(originated.id)).state == "Up"

    await client.set_variable(originated.id, "ROUTING_E2E", "queued")
    assert await client.get_variable(originated.id, "ROUTING_E2E") == "queued"

    playback = await client.play(originated.id, "sound:beep")
    assert playback.media_uri == "sound:beep" and playback.target_uri == f"channel:{originated.id}"
    finished = await seen.wait_for(PlaybackFinished, lambda e: e.playback.id == playback.id)
    assert finished.playback.state == "done"

    bridge = await client.create_bridge("mixing", name="e2e")
    await client.add_channel(bridge.id, originated.id)
    await seen.wait_for(ChannelEnteredBridge, lambda e: e.bridge.id == bridge.id)
    listed = {b.id: b for b in await client.bridges()}
    assert listed[bridge.id].channels == (originated.id,) and listed[bridge.id].bridge_type == "mixing"
    await client.start_bridge_moh(bridge.id)
    await client.stop_bridge_moh(bridge.id)

    await client.hangup(originated.id)
    await seen.wait_for(StasisEnd, lambda e: e.channel.id == originated.id)
    await seen.wait_for(ChannelDestroyed, lambda e: e.channel.id == originated.id)

    # The caller hung up mid-action: every later call on it is `gone`, not a crash.
    for late in (
        client.channel(originated.id),
        client.answer(originated.id),
        client.hangup(originated.id),
        client.play(originated.id, "sound:beep"),
        client.add_channel(bridge.id, originated.id),  # Asterisk says 400 "Channel not found" here
    ):
        with pytest.raises(AriError) as caught:
            await late
        assert caught.value.gone, caught.value
    await client.destroy_bridge(bridge.id)
    # Asterisk tears a bridge down on its own thread after answering the DELETE: once it says
    # so (BridgeDestroyed, an event this client does not type), the bridge is gone.
    await seen.wait_for(
        UnknownEvent, lambda e: e.type == "BridgeDestroyed" and e.raw.get("bridge", {}).get("id") == bridge.id
    )
    with pytest.raises(AriError) as caught:
        await client.bridge(bridge.id)
    assert caught.value.status == 404 and caught.value.gone


async def test_an_error_that_is_not_gone_keeps_asterisks_status_and_words(ari: Running) -> None:
    client = ari.client
    channel = await client.originate_into_app(ANSWERING.format("refused"))
    await ari.seen.wait_for(StasisStart, lambda e: e.channel.id == channel.id)
    bridge = await client.create_bridge()
    for wrong, status in (
        (client.hangup(channel.id, reason="no-such-reason"), 400),
        (client.remove_channel(bridge.id, channel.id), 422),  # not in this bridge
    ):
        with pytest.raises(AriError) as caught:
            await wrong
        assert caught.value.status == status and not caught.value.gone, caught.value
        assert caught.value.message
    await client.destroy_bridge(bridge.id)
    await client.hangup(channel.id)


async def test_a_dropped_socket_is_reconnected_logged_once_and_resynced(ari: Running) -> None:
    client, seen, stream = ari.client, ari.seen, ari.stream
    held = await client.originate_into_app(ANSWERING.format("held"), ["hold"])
    await seen.wait_for(StasisStart, lambda e: e.channel.id == held.id)
    assert (await seen.wait_resyncs(1)).channels == ()

    await stream.drop()  # closed from this side, as a network fault would
    resync = await seen.wait_resyncs(2)
    assert held.id in {c.id for c in resync.channels}
    assert stream.connections == 2

    # Abruptly: the kernel kills the TCP connections to Asterisk's HTTP port (no close frame).
    port = str(client.base_url.rsplit(":", 1)[1])
    subprocess.run(["ss", "-K", "dst", "127.0.0.1", "dport", "=", port], check=True, capture_output=True)
    resync = await seen.wait_resyncs(3)
    assert held.id in {c.id for c in resync.channels}
    assert next(c for c in resync.channels if c.id == held.id).dialplan.app_data.startswith(f"{APP},hold")  # type: ignore[union-attr]

    assert ids(ari.capture) == [
        "ari.connected",
        "ari.resynced",
        "ari.disconnected",
        "ari.connected",
        "ari.resynced",
        "ari.disconnected",
        "ari.connected",
        "ari.resynced",
    ]
    assert ari.client.app in {line["app"] for line in lines(ari.capture)}
    await client.hangup(held.id)
    await seen.wait_for(StasisEnd, lambda e: e.channel.id == held.id)


async def test_a_handler_that_raises_is_logged_masked_and_the_stream_goes_on(
    sandbox_exclusive: RunningSandbox,
) -> None:
    capture, logger = captured()
    seen = Seen()

    async def fragile(event: AriEvent) -> None:
        if isinstance(event, StasisStart):
            raise RuntimeError("handler bug")
        await seen.on_event(event)

    async with client_for(sandbox_exclusive) as client:
        stream = AriEventStream(client, fragile, seen.on_resync, logger=logger)
        task = asyncio.create_task(stream.run())
        await asyncio.wait_for(stream.connected.wait(), 10)
        channel = await client.originate_into_app(ANSWERING.format("fragile"), caller_id="0701234567")
        await asyncio.sleep(1)
        await client.hangup(channel.id)
        await seen.wait_for(StasisEnd, lambda e: e.channel.id == channel.id)
        await stream.stop()
        await task
    failed = [line for line in lines(capture) if line["event"] == "ari.handler_failed"]
    assert len(failed) == 1 and failed[0]["ari_event"] == "StasisStart" and failed[0]["channel"] == channel.id
    assert failed[0]["caller"] == "070*****67"
    assert "0701234567" not in json.dumps(lines(capture))


async def test_a_wrong_password_is_refused_once_and_never_logged(sandbox_exclusive: RunningSandbox) -> None:
    wrong = "wrong-password-e2e-5b7c"
    capture, logger = captured()
    attempts = 0

    class Counting(Backoff):
        def next_delay(self) -> float:
            nonlocal attempts
            attempts += 1
            return 0.05

    async def never(_: object) -> None:
        raise AssertionError("a refused stream hands nothing on")

    async with client_for(sandbox_exclusive, password=wrong) as client:
        stream = AriEventStream(client, never, never, backoff=Counting(), logger=logger)
        task = asyncio.create_task(stream.run())
        while attempts < 3:
            await asyncio.sleep(0.05)
        await stream.stop()
        await task
        with pytest.raises(AriError) as caught:
            await client.channels()
    assert ids(capture) == ["ari.refused"]
    assert lines(capture)[0]["status"] == 401
    assert wrong not in json.dumps(lines(capture)) and wrong not in str(caught.value)
    assert caught.value.status == 401


# --- #13 item 8: what Asterisk does with a channel in Stasis whose app has gone (docs/ari.md) ---

E2E_CONTEXT = "e2e-ari"


def add_stasis_extension(sandbox: RunningSandbox, exten: str, app: str) -> None:
    """`exten`@e2e-ari answers, enters Stasis(`app`,held) and, once Stasis() returns, records
    STASISSTATUS in the global E2E_<EXTEN> and waits (the next reset's dialplan reload removes it)."""
    for priority, step in enumerate(
        ("Answer()", f"Stasis({app},held)", f"Set(GLOBAL(E2E_{exten.upper()})=${{STASISSTATUS}})", "Wait(600)"),
        start=1,
    ):
        sandbox.rx(f"dialplan add extension {exten},{priority},{step} into {E2E_CONTEXT}")


async def global_var(client: AriClient, name: str) -> str | None:
    try:
        body = await client.request("GET", "/asterisk/variable", params={"variable": name})
    except AriError as exc:
        if exc.gone:
            return None
        raise
    value = body.get("value") if isinstance(body, dict) else None
    return value or None


async def wait_global(client: AriClient, name: str, timeout: float) -> tuple[str, float]:
    """The global's value once set, and how long that took."""
    started = time.monotonic()
    while (value := await global_var(client, name)) is None:
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{name} not set within {timeout} s")
        await asyncio.sleep(0.1)
    return value, time.monotonic() - started


# A service in a process of its own, to be SIGKILLed: its events stream prints each StasisStart.
KILLABLE_SERVICE = """
import asyncio, sys
import structlog
from routing.ari.client import AriClient
from routing.ari.events import StasisStart
from routing.ari.stream import AriEventStream

async def main():
    client = AriClient(sys.argv[1], sys.argv[2], sys.stdin.readline().strip(), sys.argv[3])
    async def on_event(event):
        if isinstance(event, StasisStart):
            print("StasisStart", event.channel.id, flush=True)
    async def on_resync(_):
        print("connected", flush=True)
    await AriEventStream(client, on_event, on_resync).run()

structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))  # stdout is for the test
asyncio.run(main())
"""


@pytest.mark.parametrize("how", ["closed", "killed"])
async def test_a_channel_in_stasis_stays_when_the_socket_goes_and_new_calls_fail_at_once(
    sandbox_exclusive: RunningSandbox, how: str
) -> None:
    sandbox = sandbox_exclusive
    add_stasis_extension(sandbox, "first", APP)
    add_stasis_extension(sandbox, "second", APP)
    async with client_for(sandbox) as client:
        if how == "closed":
            seen = Seen()
            stream = AriEventStream(client, seen.on_event, seen.on_resync)
            task = asyncio.create_task(stream.run())
            await asyncio.wait_for(stream.connected.wait(), 10)
            sandbox.rx(f"channel originate Local/first@{E2E_CONTEXT} application Wait 600")
            held_id = (await seen.wait_for(StasisStart, lambda e: e.args == ("held",))).channel.id
            await stream.stop()  # the service stops: its socket is closed
            await task
        else:
            held_id = await start_and_kill_a_service(sandbox, client)

        await asyncio.sleep(5)
        still = await client.channel(held_id)
        assert still.dialplan is not None and still.dialplan.app_name == "Stasis"
        assert await global_var(client, "E2E_FIRST") is None  # Stasis() has not returned

        # A call reaching Stasis() while no socket serves the app: it returns at once, FAILED.
        sandbox.rx(f"channel originate Local/second@{E2E_CONTEXT} application Wait 600")
        status, took = await wait_global(client, "E2E_SECOND", 5)
        assert status == "FAILED" and took < 2

        # The next service finds the held channel in its resync and can send it on.
        seen = Seen()
        stream = AriEventStream(client, seen.on_event, seen.on_resync)
        task = asyncio.create_task(stream.run())
        resync = await seen.wait_resyncs(1)
        assert held_id in {c.id for c in resync.channels}
        await client.continue_in_dialplan(held_id)
        status, _ = await wait_global(client, "E2E_FIRST", 5)
        assert status == "SUCCESS"
        await stream.stop()
        await task


async def start_and_kill_a_service(sandbox: RunningSandbox, client: AriClient) -> str:
    """A service process takes a call into Stasis and is SIGKILLed: the held channel's id."""
    service = subprocess.Popen(
        [sys.executable, "-c", KILLABLE_SERVICE, client.base_url, sandbox.ari_username, APP],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert service.stdin is not None and service.stdout is not None
        service.stdin.write(sandbox.ari_password + "\n")  # never on a command line
        service.stdin.flush()
        assert (await asyncio.wait_for(asyncio.to_thread(service.stdout.readline), 20)).strip() == "connected"
        sandbox.rx(f"channel originate Local/first@{E2E_CONTEXT} application Wait 600")
        line = await asyncio.wait_for(asyncio.to_thread(service.stdout.readline), 10)
        assert line.startswith("StasisStart ")
        service.kill()
        return line.split()[1]
    finally:
        service.kill()
        service.wait()


# --- Asterisk 22.5+ outbound WebSockets, per call: Asterisk connects to the service for each call

PER_CALL_APP = "e2e-pc"
# The service's side of a per-call connection, in a process of its own so it can be SIGKILLed:
# it accepts Asterisk's connection and says when the call's StasisStart came.
SERVICE_SIDE = """
import json, sys
from aiohttp import web, WSMsgType

async def events(request):
    ws = web.WebSocketResponse(protocols=("ari",))
    await ws.prepare(request)
    async for message in ws:
        if message.type == WSMsgType.TEXT and json.loads(message.data).get("type") == "StasisStart":
            print("StasisStart", flush=True)
    return ws

app = web.Application()
app.router.add_get("/events", events)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


@contextlib.contextmanager
def outbound_websocket(sandbox: RunningSandbox, connection_type: str, app: str) -> Iterator[int]:
    """websocket_client.conf (`connection_type`, 500 ms connection timeout, 500 ms between 2
    attempts) and an outbound_websocket in ari.conf serving `app` at a free port (yielded); the
    sandbox's own files and modules back afterwards."""
    port = free_port()
    etc = sandbox.settings.etc_dir
    # Put back by hand: `reset` takes the sandbox lock this test already holds.
    shipped = {
        name: (etc / name).read_bytes() for name in ("ari.conf", "websocket_client.conf") if (etc / name).exists()
    }
    (etc / "websocket_client.conf").write_text(
        f"[e2e_ws]\ntype = websocket_client\nconnection_type = {connection_type}\n"
        f"uri = ws://127.0.0.1:{port}/events\nprotocols = ari\n"
        "connection_timeout = 500\nreconnect_interval = 500\nreconnect_attempts = 2\n",
        encoding="utf-8",
    )
    with open(etc / "ari.conf", "a", encoding="utf-8") as ari_conf:
        ari_conf.write(
            "\n[e2e_ws_out]\ntype = outbound_websocket\nwebsocket_client_id = e2e_ws\n"
            f"apps = {app}\nlocal_ari_user = {sandbox.ari_username}\n"
        )
    try:
        for module in ("res_websocket_client.so", "res_ari.so"):
            sandbox.rx(f"module reload {module}")
        assert connection_type in sandbox.rx("ari show outbound-websockets")
        yield port
    finally:
        (etc / "websocket_client.conf").unlink(missing_ok=True)
        for name, content in shipped.items():
            (etc / name).write_bytes(content)
        for module in ("res_websocket_client.so", "res_ari.so"):
            sandbox.rx(f"module reload {module}")


@pytest.fixture
def per_call(sandbox_exclusive: RunningSandbox) -> Iterator[tuple[RunningSandbox, int]]:
    sandbox = sandbox_exclusive
    with outbound_websocket(sandbox, "per_call_config", PER_CALL_APP) as port:
        for exten in ("nobody", "killed", "dropped"):
            add_stasis_extension(sandbox, exten, PER_CALL_APP)
        yield sandbox, port


async def test_a_persistent_outbound_app_holds_calls_in_stasis_while_no_service_is_connected(
    sandbox_exclusive: RunningSandbox,
) -> None:
    """connection_type = persistent: the app exists (and is active) without any connection, so
    a call entering Stasis() while the service is down is held there, not FAILED."""
    sandbox = sandbox_exclusive
    with outbound_websocket(sandbox, "persistent", "e2e-persistent"):
        add_stasis_extension(sandbox, "waiting", "e2e-persistent")
        async with client_for(sandbox) as client:
            apps = await client.request("GET", "/applications")
            assert "e2e-persistent" in {app["name"] for app in apps}
            sandbox.rx(f"channel originate Local/waiting@{E2E_CONTEXT} application Wait 600")
            await asyncio.sleep(5)
            assert await global_var(client, "E2E_WAITING") is None
            held = (await client.application("e2e-persistent")).channel_ids
            assert len(held) == 1
            assert (await client.channel(held[0])).dialplan.app_name == "Stasis"  # type: ignore[union-attr]


async def test_per_call_stasis_fails_over_to_the_dialplan_when_the_service_is_absent_or_killed(
    per_call: tuple[RunningSandbox, int],
) -> None:
    sandbox, port = per_call
    async with client_for(sandbox) as client:
        # Nothing listens: Stasis() returns FAILED after its attempts (measured 1.5 s).
        sandbox.rx(f"channel originate Local/nobody@{E2E_CONTEXT} application Wait 600")
        status, took = await wait_global(client, "E2E_NOBODY", 10)
        assert status == "FAILED" and took < 3

        # The service takes the call, then is SIGKILLed mid-call: Stasis() returns FAILED.
        service = subprocess.Popen([sys.executable, "-c", SERVICE_SIDE, str(port)], stdout=subprocess.PIPE, text=True)
        try:
            await wait_listening(port)
            sandbox.rx(f"channel originate Local/killed@{E2E_CONTEXT} application Wait 600")
            assert service.stdout is not None
            line = await asyncio.wait_for(asyncio.to_thread(service.stdout.readline), 10)
            assert line.strip() == "StasisStart"
            service.kill()
            status, took = await wait_global(client, "E2E_KILLED", 10)
        finally:
            service.kill()
            service.wait()
        assert status == "FAILED" and took < 3


async def test_per_call_stasis_stays_when_the_service_closes_the_socket_but_still_listens(
    per_call: tuple[RunningSandbox, int],
) -> None:
    sandbox, port = per_call
    connections: list[web.WebSocketResponse] = []
    types: list[str] = []
    started = asyncio.Event()

    async def events(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("ari",))
        await ws.prepare(request)
        connections.append(ws)
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                types.append(json.loads(message.data).get("type", ""))
                if types[-1] == "StasisStart":
                    started.set()
        return ws

    app = web.Application()
    app.router.add_get("/events", events)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        async with client_for(sandbox) as client:
            sandbox.rx(f"channel originate Local/dropped@{E2E_CONTEXT} application Wait 600")
            await asyncio.wait_for(started.wait(), 10)
            await connections[0].close()
            await asyncio.sleep(3)
            # Asterisk connected again at once, replayed no StasisStart, and kept the call in Stasis.
            assert len(connections) == 2
            assert types.count("StasisStart") == 1 and types.count("ApplicationRegistered") == 2
            assert await global_var(client, "E2E_DROPPED") is None

            # Then the service goes for good (no listener, its sockets closed): FAILED, at once.
            await site.stop()
            for ws in connections:
                await ws.close()
            status, took = await wait_global(client, "E2E_DROPPED", 10)
            assert status == "FAILED" and took < 3
    finally:
        for ws in connections:
            await ws.close()
        await runner.cleanup()


async def wait_listening(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return


async def test_an_ami_redirect_takes_a_held_channel_out_of_a_dead_apps_stasis(
    ami: Ami, sandbox_exclusive: RunningSandbox
) -> None:
    """The rescue path AMI offers: Redirect moves a channel stuck in Stasis to any dialplan
    place, at once (the priority after Stasis() is not run: STASISSTATUS stays unset)."""
    sandbox = sandbox_exclusive
    add_stasis_extension(sandbox, "first", APP)
    sandbox.rx(f"dialplan add extension rescued,1,Set(GLOBAL(E2E_RESCUED)=${{CHANNEL(name)}}) into {E2E_CONTEXT}")
    sandbox.rx(f"dialplan add extension rescued,2,Wait(600) into {E2E_CONTEXT}")
    async with client_for(sandbox) as client:
        held_id = await start_and_kill_a_service(sandbox, client)
        held = await client.channel(held_id)
        await asyncio.sleep(1)
        await ami.action(
            "Redirect", {"Channel": held.name, "Context": E2E_CONTEXT, "Exten": "rescued", "Priority": "1"}
        )
        rescued, took = await wait_global(client, "E2E_RESCUED", 5)
        assert rescued == held.name and took < 1
        after = await client.channel(held_id)
        assert after.dialplan is not None and after.dialplan.app_name != "Stasis"
        assert await global_var(client, "E2E_FIRST") is None


def loudness_after(path: Path, start_s: float) -> tuple[float, float]:
    """(seconds of audio in the WAV file after `start_s`, their RMS on 0..1)."""
    with wave.open(str(path), "rb") as wav:
        assert (wav.getsampwidth(), wav.getnchannels()) == (2, 1)
        rate = wav.getframerate()
        samples = array.array("h", wav.readframes(wav.getnframes()))
    tail = samples[int(start_s * rate) :]
    if not tail:
        return 0.0, 0.0
    return len(tail) / rate, (sum(x * x for x in tail) / len(tail)) ** 0.5 / 32768


@pytest.mark.parametrize("media", [None, "tone:ring"])
async def test_what_a_caller_held_in_stasis_hears_once_the_service_is_gone(
    sandbox_exclusive: RunningSandbox, media: str | None
) -> None:
    """The caller's side (the ;1 half of the Local pair) records what reaches it for 8 s while
    the ;2 half is in Stasis and the service dies 1 s in: nothing at all when nothing played; a
    playback started before (here an endless ringing tone) goes on after it."""
    sandbox = sandbox_exclusive
    add_stasis_extension(sandbox, "first", APP)
    name = f"e2e-heard-{'tone' if media else 'nothing'}"
    recording = sandbox.settings.root_dir / "tmp" / f"{name}.wav"
    recording.unlink(missing_ok=True)
    async with client_for(sandbox) as client:
        seen = Seen()
        stream = AriEventStream(client, seen.on_event, seen.on_resync)
        task = asyncio.create_task(stream.run())
        await asyncio.wait_for(stream.connected.wait(), 10)
        # Record(file,silence 0 = never stop on silence,8 s at most,q quiet k keep)
        sandbox.rx(f"channel originate Local/first@{E2E_CONTEXT} application Record /tmp/{name}.wav,0,8,qk")
        held = (await seen.wait_for(StasisStart, lambda e: e.args == ("held",))).channel
        if media is not None:
            await client.play(held.id, media)
        await asyncio.sleep(1)
        await stream.stop()
        await task
        deadline = time.monotonic() + 15
        while recording_open(sandbox, held.name):  # Record() ends after 8 s, then the pair hangs up
            assert time.monotonic() < deadline, "Record() did not end within its 8 s"
            await asyncio.sleep(0.25)
    try:
        seconds, rms = loudness_after(recording, 3.0)  # 2 s after the service went
        if media is None:
            assert recording.stat().st_size == 44 and seconds == 0  # a WAV header, not one frame of audio
        else:
            assert seconds > 3 and rms > 0.05
    finally:
        recording.unlink(missing_ok=True)


def recording_open(sandbox: RunningSandbox, held_name: str) -> bool:
    """The caller's half (;1 of the held ;2) still runs Record()."""
    caller = held_name.removesuffix(";2") + ";1"
    return any(
        line.startswith(f"{caller}!") and "!Record!" in line
        for line in sandbox.rx("core show channels concise").splitlines()
    )


# --- #13 item 8: a lease (TIMEOUT(absolute)) gets a caller out of Stasis (docs/switchboard.md) ---


def add_leased_extension(sandbox: RunningSandbox, exten: str, app: str, lease_s: int) -> None:
    """`exten`@e2e-ari answers, takes a lease of `lease_s` (TIMEOUT(absolute)) and enters
    Stasis(`app`,leased); its context's `T` extension notes the moment in the global E2E_T
    (the channel goes on, up, in the dialplan: where the fail-safe would be)."""
    steps = ("Answer()", f"Set(TIMEOUT(absolute)={lease_s})", f"Stasis({app},leased)", "Set(GLOBAL(E2E_AFTER)=1)")
    for priority, step in enumerate(steps, start=1):
        sandbox.rx(f"dialplan add extension {exten},{priority},{step} into {E2E_CONTEXT}")
    for priority, step in enumerate(("Set(GLOBAL(E2E_T)=${CHANNEL(state)})", "Wait(600)"), start=1):
        sandbox.rx(f"dialplan add extension T,{priority},{step} into {E2E_CONTEXT}")


@pytest.mark.parametrize("where", ["alone", "in a holding bridge with music on hold"])
async def test_a_lease_takes_a_caller_out_of_stasis_when_nobody_renews_it(
    sandbox_exclusive: RunningSandbox, where: str
) -> None:
    """The service gone (its socket closed, no renewal): the caller leaves Stasis at the
    lease's end, to T, still up; renewed over ARI, the lease is pushed on each time."""
    sandbox = sandbox_exclusive
    add_leased_extension(sandbox, "leased", APP, 3)
    async with client_for(sandbox) as client:
        seen = Seen()
        stream = AriEventStream(client, seen.on_event, seen.on_resync)
        task = asyncio.create_task(stream.run())
        await asyncio.wait_for(stream.connected.wait(), 10)
        sandbox.rx(f"channel originate Local/leased@{E2E_CONTEXT} application Wait 600")
        start = await seen.wait_for(StasisStart, lambda e: e.args == ("leased",))
        began = time.monotonic()
        if where != "alone":
            bridge = await client.create_bridge("holding")
            await client.add_channel(bridge.id, start.channel.id)
            await client.start_bridge_moh(bridge.id)
        for _ in range(3):  # renewed every second for three seconds: it must stay
            await asyncio.sleep(1)
            await client.set_variable(start.channel.id, "TIMEOUT(absolute)", "3")
        renewed_until = time.monotonic() + 3
        await stream.stop()  # the service is gone
        await task
        assert await global_var(client, "E2E_T") is None, "left before the renewed lease ran out"
        state, _ = await wait_global(client, "E2E_T", 6)
        left_after = time.monotonic() - began
        assert state == "Up" and await global_var(client, "E2E_AFTER") is None  # to T, not past Stasis()
        assert renewed_until - began - 0.5 <= left_after <= renewed_until - began + 2.5, left_after
