"""The FastAGI server on loopback: one request served, probes and garbage handled quietly."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping

import pytest
from structlog.testing import capture_logs

from routing.agi.protocol import AgiRequest
from routing.agi.server import FastAgiServer, Handler, Limits

REQUEST = b"agi_network_script: step\nagi_uniqueid: 1.1\nagi_arg_1: start\n\n"


class Recorder:
    def __init__(self, answer: Mapping[str, str], delay: float = 0.0) -> None:
        self.answer = answer
        self.delay = delay
        self.requests: list[AgiRequest] = []

    async def __call__(self, request: AgiRequest) -> Mapping[str, str]:
        self.requests.append(request)
        await asyncio.sleep(self.delay)
        return self.answer


@contextlib.asynccontextmanager
async def serving(handler: Handler, limits: Limits | None = None) -> AsyncIterator[tuple[FastAgiServer, int]]:
    """A FastAgiServer for `handler` on a free loopback port, stopped afterwards."""
    server = FastAgiServer(handler, limits or Limits())
    _, port = await server.start("127.0.0.1", 0)
    try:
        yield server, port
    finally:
        await server.stop(grace_s=1)


@pytest.fixture
async def served() -> AsyncIterator[tuple[FastAgiServer, Recorder, int]]:
    recorder = Recorder({"ROUTING_DIAL": "PJSIP/5001", "ROUTING_ACTION": "ring"})
    async with serving(recorder, Limits(header_timeout_s=0.5, handler_timeout_s=0.5, reply_timeout_s=0.5)) as (
        server,
        port,
    ):
        yield server, recorder, port


async def _asterisk_side(port: int, request: bytes, replies: list[bytes]) -> list[bytes]:
    """Play Asterisk: send the request, answer each command, return the commands seen."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    seen: list[bytes] = []
    for reply in replies:
        line = await asyncio.wait_for(reader.readline(), 2)
        if not line:
            break
        seen.append(line)
        writer.write(reply)
        await writer.drain()
    assert await asyncio.wait_for(reader.read(), 2) == b""  # the server closes when done
    writer.close()
    return seen


async def test_one_request_sets_every_variable_in_one_mset(served: tuple[FastAgiServer, Recorder, int]) -> None:
    _, recorder, port = served
    seen = await _asterisk_side(port, REQUEST, [b"200 result=0\n"])
    # One round trip, and the server's end of the connection follows it (no wait for a close).
    assert seen == [b'EXEC MSet "ROUTING_DIAL=PJSIP/5001,ROUTING_ACTION=ring"\n']
    assert recorder.requests[0].args == ("start",)


async def test_values_mset_cannot_carry_are_set_one_at_a_time_in_order() -> None:
    async with serving(Recorder({"ROUTING_PROMPT": "/var/lib/routing/a,b", "ROUTING_ACTION": "play"})) as (_, port):
        seen = await _asterisk_side(port, REQUEST, [b"200 result=1\n", b"200 result=1\n"])
    assert seen == [b'SET VARIABLE ROUTING_PROMPT "/var/lib/routing/a,b"\n', b'SET VARIABLE ROUTING_ACTION "play"\n']


async def test_an_asterisk_without_mset_gets_set_variable_from_then_on(
    served: tuple[FastAgiServer, Recorder, int],
) -> None:
    _, _, port = served
    with capture_logs() as logs:
        first = await _asterisk_side(port, REQUEST, [b"200 result=-2\n"])  # no such application
    second = await _asterisk_side(port, REQUEST, [b"200 result=1\n", b"200 result=1\n"])
    assert first == [b'EXEC MSet "ROUTING_DIAL=PJSIP/5001,ROUTING_ACTION=ring"\n']
    assert "agi.mset_refused" in [entry["event"] for entry in logs]
    assert second == [b'SET VARIABLE ROUTING_DIAL "PJSIP/5001"\n', b'SET VARIABLE ROUTING_ACTION "ring"\n']


async def test_hangup_line_before_a_reply_is_skipped(served: tuple[FastAgiServer, Recorder, int]) -> None:
    _, _, port = served
    with capture_logs() as logs:
        seen = await _asterisk_side(port, REQUEST, [b"HANGUP\n200 result=0\n"])
    assert len(seen) == 1
    assert [entry["event"] for entry in logs if entry["log_level"] != "debug"] == []


async def test_refused_command_stops_the_session() -> None:
    async with serving(Recorder({"ROUTING_PROMPT": "a|b", "ROUTING_ACTION": "play"})) as (_, port):
        seen = await _asterisk_side(port, REQUEST, [b"510 Invalid or unknown command\n", b"200 result=1\n"])
    assert len(seen) == 1


@pytest.mark.parametrize(
    "payload",
    [
        b"",  # a port probe: connect and close
        b"GET / HTTP/1.0\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(64)),  # a TLS hello
        b"agi_network_script: step\n",  # headers cut off
        b"agi_x: " + b"y" * 20000 + b"\n\n",  # one huge line
        b"\n",  # an empty request
    ],
)
async def test_probes_and_garbage_close_quietly(payload: bytes, served: tuple[FastAgiServer, Recorder, int]) -> None:
    server, recorder, port = served
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    if payload:
        writer.write_eof()
    assert await asyncio.wait_for(reader.read(), 2) == b""
    writer.close()
    await asyncio.sleep(0.05)
    assert recorder.requests == []
    assert server.active == 0


async def test_silent_peer_is_timed_out(served: tuple[FastAgiServer, Recorder, int]) -> None:
    server, _, port = served
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert await asyncio.wait_for(reader.read(), 2) == b""  # closed after header_timeout_s
    writer.close()
    assert server.active == 0


async def test_slow_handler_is_timed_out_and_nothing_is_sent() -> None:
    async with serving(Recorder({"ROUTING_ACTION": "ring"}, delay=5), Limits(handler_timeout_s=0.2)) as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(REQUEST)
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 2) == b""
        writer.close()


async def test_many_connections_at_once(served: tuple[FastAgiServer, Recorder, int]) -> None:
    server, recorder, port = served
    results = await asyncio.gather(*(_asterisk_side(port, REQUEST, [b"200 result=0\n"]) for _ in range(50)))
    assert all(len(seen) == 1 for seen in results)
    assert len(recorder.requests) == 50
    assert server.active == 0


async def test_a_failing_handler_is_logged_and_the_request_gets_no_answer() -> None:
    async def broken(request: AgiRequest) -> Mapping[str, str]:
        raise RuntimeError("the store is on fire")

    async with serving(broken) as (server, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(REQUEST)
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 2) == b""  # closed: the dialplan's fail-safe
        writer.close()
        # The server still serves the next request.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(REQUEST)
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 2) == b""
        writer.close()
        assert server.active == 0
