"""AmiClient against a fake AMI server on 127.0.0.1 (tests/unit/ami/fake_server.py): waiting
for the login, the framing of list values, list actions, the event recorder, no keep-alive,
timeouts and the client's own logger. The e2e tests drive it against the real Asterisk."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable

import pytest
import structlog
from panoramisk.message import Message
from structlog.testing import CapturingLogger, capture_logs
from structlog.typing import FilteringBoundLogger

from routing.ami.client import AmiClient, AmiError, AmiTimeout
from routing.ami.events import AmiEvent, AmiRecorder
from tests.ports import free_port
from tests.unit.ami.fake_server import SECRET, FakeAmi, first


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    async with FakeAmi.running() as server:
        yield server


async def logged_in_client(
    fake: FakeAmi,
    *,
    recorder: AmiRecorder | None = None,
    keepalive: bool = True,
    logger: FilteringBoundLogger | None = None,
) -> AmiClient:
    client = AmiClient(
        "127.0.0.1",
        fake.port,
        "routing",
        SECRET,
        action_timeout_s=1.0,
        recorder=recorder,
        keepalive=keepalive,
        logger=logger,
    )
    await client.connect(timeout_s=2, wait_for_login=True)
    return client


async def test_connect_can_wait_for_the_login(fake: FakeAmi) -> None:
    client = AmiClient("127.0.0.1", fake.port, "routing", SECRET)
    assert not client.logged_in
    assert client.protocol_version is None
    await client.connect(timeout_s=2, wait_for_login=True)
    try:
        assert client.logged_in
        assert client.protocol_version == "9.0.0"  # from the greeting `Asterisk Call Manager/9.0.0`
        (login,) = fake.named("Login")
        assert (first(login, "Username"), first(login, "Events")) == ("routing", "on")
    finally:
        client.close()
    assert not client.logged_in


async def test_a_refused_login_ends_the_wait_at_once() -> None:
    async with FakeAmi.running() as fake:
        client = AmiClient("127.0.0.1", fake.port, "routing", "wrong")
        started = time.monotonic()
        with capture_logs():
            with pytest.raises(AmiError, match="refused: Authentication failed"):
                await client.connect(timeout_s=5, wait_for_login=True)
            client.close()
        assert time.monotonic() - started < 2
        assert not client.logged_in


async def test_no_login_answer_is_a_timeout() -> None:
    async with FakeAmi.running(answer_login=False) as fake:
        client = AmiClient("127.0.0.1", fake.port, "routing", SECRET)
        started = time.monotonic()
        with pytest.raises(AmiTimeout, match=r"no AMI login within 0\.5 s"):
            await client.connect(timeout_s=0.5, wait_for_login=True)
        client.close()
        assert 0.45 < time.monotonic() - started < 1.5


async def test_nothing_listening_is_an_error_when_waiting_for_the_login() -> None:
    client = AmiClient("127.0.0.1", free_port(), "routing", SECRET)
    with capture_logs(), pytest.raises(AmiError, match="cannot log in"):
        await client.connect(timeout_s=1, wait_for_login=True)
    client.close()


async def test_a_list_value_is_sent_as_one_header_line_per_item(fake: FakeAmi) -> None:
    client = await logged_in_client(fake)
    try:
        await client.action(
            {"Action": "Originate", "Channel": "Local/1@ctx", "Variable": ["A=1", "B=x,y", "C="]}, as_list=False
        )
        (originate,) = fake.named("Originate")
        assert [value for key, value in originate if key == "Variable"] == ["A=1", "B=x,y", "C="]
        assert first(originate, "Channel") == "Local/1@ctx"  # a string stays one line
        assert sum(key == "Channel" for key, _ in originate) == 1
    finally:
        client.close()


async def test_a_list_action_returns_its_events_without_the_response_and_the_end(fake: FakeAmi) -> None:
    client = await logged_in_client(fake)
    try:
        found = await client.action_list({"Action": "CoreShowChannels"})
        assert [(m.get("Event"), m.get("Channel")) for m in found] == [
            ("CoreShowChannel", "PJSIP/1-0001"),
            ("CoreShowChannel", "PJSIP/2-0002"),
        ]
        fake.channels = ()
        assert await client.action_list({"Action": "CoreShowChannels"}) == []
        with pytest.raises(AmiError, match="DBGet failed: Database entry not found"):
            await client.action_list({"Action": "DBGet", "Family": "routing", "Key": "nothing"})
        with pytest.raises(AmiError, match="answered without a list"):
            await client.action_list({"Action": "Setvar", "Variable": "X", "Value": "1"})
        assert await client.channel_names() == set()  # the existing helper, unchanged
    finally:
        client.close()


async def test_an_unanswered_action_is_an_ami_timeout(fake: FakeAmi) -> None:
    client = await logged_in_client(fake)
    try:
        with pytest.raises(AmiTimeout, match=r"Silent timed out after 0\.2 s"):
            await client.action({"Action": "Silent"}, timeout_s=0.2)
        with pytest.raises(AmiTimeout):
            await client.action_list({"Action": "Silent"}, timeout_s=0.2)
    finally:
        client.close()


async def test_the_recorder_gets_every_event_with_its_arrival_time(fake: FakeAmi) -> None:
    recorder = AmiRecorder()
    client = await logged_in_client(fake, recorder=recorder)
    try:
        before = time.monotonic()
        await fake.push(("Event", "Newexten"), ("Uniqueid", "1.1"), ("Application", "Dial"))
        await fake.push(("Event", "VarSet"), ("Variable", "A"), ("Value", "1"), ("Value", "2"))
        second = await recorder.wait_for(lambda e: e.name == "VarSet", 2)
        assert second is not None
        first_event, second_event = recorder.events
        assert (first_event.name, first_event["Application"], first_event["Missing"]) == ("Newexten", "Dial", "")
        assert second_event["Value"] == "1\n2"  # a repeated header, joined
        assert before <= first_event.at <= second_event.at <= time.monotonic()
        # Action responses are the action's, not events.
        await client.set_global("X", "1")
        assert [e.name for e in recorder.events] == ["Newexten", "VarSet"]
    finally:
        client.close()


async def test_no_keepalive_sends_no_ping(fake: FakeAmi) -> None:
    quiet = await logged_in_client(fake, keepalive=False)
    chatty = await logged_in_client(fake)
    try:
        quiet._manager.ping()  # what panoramisk's timer calls after ping_delay
        chatty._manager.ping()
        await fake.wait_for_action("Ping")
        await asyncio.sleep(0.1)
        assert len(fake.named("Ping")) == 1
    finally:
        quiet.close()
        chatty.close()


async def test_the_clients_lines_go_to_its_own_logger(fake: FakeAmi) -> None:
    own = CapturingLogger()
    only_info = structlog.make_filtering_bound_logger(logging.INFO)
    logger = structlog.wrap_logger(own, processors=[], wrapper_class=only_info)
    with capture_logs() as global_lines:
        client = await logged_in_client(fake, logger=logger)
        client.close()
    assert [call.kwargs["event"] for call in own.calls] == ["ami.logged_in"]
    assert global_lines == []


# --- the recorder alone ----------------------------------------------------------------------------


def message(name: str, **headers: str) -> dict[str, str]:
    return {"Event": name, **headers}


async def test_recorder_wait_for_sees_later_events_and_respects_since() -> None:
    ticks = iter(range(100))
    recorder = AmiRecorder(clock=lambda: float(next(ticks)))
    recorder.record(message("Hangup", Uniqueid="old"))  # at 0

    async def later() -> None:
        await asyncio.sleep(0.05)
        recorder.record(message("Newchannel"))
        recorder.record(message("Hangup", Uniqueid="new"))

    task = asyncio.create_task(later())
    found = await recorder.wait_for(lambda e: e.name == "Hangup", 2, since=0.5)
    await task
    assert found is not None and found["Uniqueid"] == "new"
    assert recorder.select(lambda e: e.name == "Hangup") == [recorder.events[0], recorder.events[2]]
    assert recorder.select(lambda e: e.name == "Hangup", since=1) == [recorder.events[2]]
    assert await recorder.wait_for(lambda e: e.name == "Nothing", 0.05) is None


async def test_recorder_limit_keeps_the_newest() -> None:
    recorder = AmiRecorder(limit=3)
    for n in range(5):
        recorder.record(message("UserEvent", N=str(n)))
    assert [e["N"] for e in recorder.events] == ["2", "3", "4"]
    assert len(recorder) == 3
    assert [e["N"] for e in recorder.recent(2)] == ["3", "4"]

    async def more() -> None:
        await asyncio.sleep(0.02)
        for n in range(5, 10):
            recorder.record(message("UserEvent", N=str(n)))

    task = asyncio.create_task(more())
    found = await recorder.wait_for(lambda e: int(e["N"]) >= 7, 2)
    await task
    assert found is not None and found["N"] == "7"
    with pytest.raises(ValueError):
        AmiRecorder(limit=0)


def test_an_event_reads_like_its_headers() -> None:
    found = AmiEvent.of({"Event": "DialEnd", "Channel": "Local/a", "DialStatus": "ANSWER"}, 1.5)
    assert (found.name, found.at, found["DialStatus"]) == ("DialEnd", 1.5, "ANSWER")
    assert repr(found) == "<DialEnd @1.500 Channel='Local/a' DialStatus='ANSWER'>"


async def test_a_listener_stopped_hears_no_more_events_and_one_registered_later_hears_each_once(
    fake: FakeAmi,
) -> None:
    """A callback call's listener on the service's long-lived link is removed once its answer
    is in; one that stops itself while its event is dispatched does not disturb the others."""
    client = await logged_in_client(fake)
    heard: list[str] = []
    try:

        def first(message: Message) -> None:
            heard.append(f"first {message.get('N')}")
            stop_first()

        stop_first = client.on_event("UserEvent", first)
        client.on_event("UserEvent", lambda m: heard.append(f"second {m.get('N')}"))
        for n in ("1", "2"):
            await fake.push(("Event", "UserEvent"), ("UserEvent", "X"), ("N", n))
        await _until(lambda: len(heard) == 3)
        assert heard == ["first 1", "second 1", "second 2"]

        alone = client.on_event("Hangup", lambda m: heard.append("hangup"))
        alone()
        again = client.on_event("Hangup", lambda m: heard.append("hangup again"))
        await fake.push(("Event", "Hangup"))
        await _until(lambda: "hangup again" in heard)
        again()
        await fake.push(("Event", "Hangup"))
        await fake.push(("Event", "UserEvent"), ("UserEvent", "X"), ("N", "3"))
        await _until(lambda: "second 3" in heard)
        assert heard.count("hangup again") == 1 and "hangup" not in heard
    finally:
        client.close()


async def _until(condition: Callable[[], bool], timeout_s: float = 2.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.01)
