"""FastAGI hardening: 36 bad inputs against the real server. None reaches the handler, none
leaves a task behind, and none makes the server spin (CPU time stays small)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping

import pytest

from routing.agi.protocol import MAX_HEADERS, MAX_LINE, AgiRequest
from routing.agi.server import FastAgiServer, Limits

HEADER = b"agi_network_script: step\n"

BAD_INPUTS: dict[str, bytes] = {
    "empty connection": b"",
    "one newline": b"\n",
    "crlf only": b"\r\n",
    "http get": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "http post": b"POST /agi HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
    "tls client hello": b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(range(48)),
    "ssh banner": b"SSH-2.0-OpenSSH_9.6\r\n",
    "smtp helo": b"HELO example.org\r\n",
    "nul bytes": b"\x00" * 64,
    "random binary": bytes((i * 37) % 256 for i in range(512)),
    "utf-16 text": "agi_network_script: step\n\n".encode("utf-16"),
    "latin-1 header": b"agi_callerid: caf\xe9\n\n",
    "no colon": b"agi_network_script step\n\n",
    "not agi prefix": b"network_script: step\n\n",
    "uppercase key": b"AGI_NETWORK_SCRIPT: step\n\n",
    "space in key": b"agi network: yes\n\n",
    "header cut off": HEADER,
    "headers without end": HEADER + b"agi_uniqueid: 1.1\n",
    "line just over the limit": b"agi_x: " + b"a" * MAX_LINE + b"\n\n",
    "huge line": b"agi_x: " + b"a" * (10 * MAX_LINE) + b"\n\n",
    "huge line without newline": b"a" * (10 * MAX_LINE),
    "too many headers": b"".join(f"agi_h{i}: x\n".encode() for i in range(MAX_HEADERS + 5)) + b"\n",
    "thousands of headers": b"".join(f"agi_h{i}: x\n".encode() for i in range(5000)) + b"\n",
    "header after blank line only": b"\nagi_network_script: step\n\n",
    "command instead of headers": b"SET VARIABLE X 1\n\n",
    "reply instead of headers": b"200 result=1\n\n",
    "hangup line": b"HANGUP\n\n",
    "only spaces": b"     \n\n",
    "headers but no script": b"agi_uniqueid: 1.1\nagi_channel: PJSIP/x\n\n",
    "newline flood": b"\n" * 10000,
    "carriage returns only": b"\r" * 5000,
    "very long key": b"agi_" + b"k" * 3000 + b": v\n\n",
    "emoji": "agi_network_script: 📞\nagi_x: ✓\n".encode(),
    "json": b'{"agi_network_script": "step"}\n\n',
    "xml": b"<agi><script>step</script></agi>\n\n",
    "slowloris start": b"agi_netw",
}


class NeverCalled:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, request: AgiRequest) -> Mapping[str, str]:
        self.calls += 1
        return {"ROUTING_ACTION": "ring"}


@pytest.fixture
async def server() -> AsyncIterator[tuple[FastAgiServer, NeverCalled, int]]:
    handler = NeverCalled()
    agi = FastAgiServer(handler, Limits(header_timeout_s=0.5, handler_timeout_s=0.5, reply_timeout_s=0.5))
    _, port = await agi.start("127.0.0.1", 0)
    yield agi, handler, port
    await agi.stop(grace_s=1)


def test_at_least_thirty_bad_inputs() -> None:
    assert len(BAD_INPUTS) >= 30


@pytest.mark.parametrize("payload", list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
async def test_bad_input_is_closed_quietly(payload: bytes, server: tuple[FastAgiServer, NeverCalled, int]) -> None:
    agi, handler, port = server
    cpu_before = time.process_time()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    # The peer stays connected (half-open, as a probe does): the server must close on its own.
    try:
        rest = await asyncio.wait_for(reader.read(), 2)
    except ConnectionResetError:
        rest = b""
    assert rest == b""  # nothing is ever sent back to garbage
    writer.close()
    await asyncio.sleep(0.05)
    assert handler.calls == 0
    assert agi.active == 0
    assert time.process_time() - cpu_before < 1.0  # no spinning while waiting for the timeout
