"""The events stream against a port where nothing listens (a real refused connection, no fake
server): one ari.unreachable line however many attempts, the password in none of them, and a
REST request that gets no answer is an AriError that says so."""

from __future__ import annotations

import asyncio

import pytest
import structlog
from structlog.testing import CapturingLogger

from routing.ari.backoff import Backoff
from routing.ari.client import AriClient
from routing.ari.errors import AriError
from routing.ari.events import AriEvent
from routing.ari.stream import AriEventStream, Resync
from routing.calllog.masking import mask_processor
from tests.ports import free_port

PASSWORD = "s3cret-never-logged-7f1e"


async def nothing(_: AriEvent | Resync) -> None:
    raise AssertionError("nothing can arrive from a port where nothing listens")


def test_the_events_url_names_the_app_only_and_never_the_password() -> None:
    client = AriClient("http://127.0.0.1:8088/", "routing", PASSWORD, "switch board")
    assert client.events_url() == "ws://127.0.0.1:8088/ari/events?app=switch%20board&subscribeAll=false"
    assert AriClient("https://pbx:8089", "u", PASSWORD, "routing").events_url().startswith("wss://pbx:8089/ari/")


async def test_an_outage_is_one_line_with_no_secret_in_it() -> None:
    capture = CapturingLogger()
    logger = structlog.wrap_logger(capture, processors=[mask_processor, structlog.processors.JSONRenderer()])
    client = AriClient(f"http://127.0.0.1:{free_port()}", "routing", PASSWORD, "routing", timeout_s=1)
    attempts = 0

    class Counting(Backoff):
        def next_delay(self) -> float:
            nonlocal attempts
            attempts += 1
            return 0.01

    stream = AriEventStream(client, nothing, nothing, backoff=Counting(), logger=logger)
    task = asyncio.create_task(stream.run())
    while attempts < 5:
        await asyncio.sleep(0.01)
    await stream.stop()
    await asyncio.wait_for(task, 2)
    await client.close()
    lines = [call.args[0] for call in capture.calls]
    assert [line for line in lines if "ari.unreachable" in line] == lines and len(lines) == 1
    assert PASSWORD not in "".join(lines)
    assert stream.state == "stopped" and stream.connections == 0


async def test_a_request_without_an_answer_is_an_ari_error_without_the_password() -> None:
    async with AriClient(f"http://127.0.0.1:{free_port()}", "routing", PASSWORD, "routing", timeout_s=1) as client:
        with pytest.raises(AriError) as caught:
            await client.channels()
    assert caught.value.unanswered and not caught.value.gone
    assert caught.value.path == "/channels"
    assert PASSWORD not in str(caught.value)


async def test_stop_ends_the_wait_between_attempts_at_once() -> None:
    client = AriClient(f"http://127.0.0.1:{free_port()}", "routing", PASSWORD, "routing", timeout_s=1)
    stream = AriEventStream(client, nothing, nothing, backoff=Backoff(30, 30, jitter=0))
    task = asyncio.create_task(stream.run())
    while stream.state != "unreachable":
        await asyncio.sleep(0.01)
    await stream.stop()
    await asyncio.wait_for(task, 1)  # not the 30 s the backoff asked for
    await client.close()
    assert getattr(stream, "state") == "stopped"  # noqa: B009  (mypy keeps the loop's narrowing)
