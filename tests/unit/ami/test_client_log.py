"""panoramisk's log lines become one line per state change in the JSON log (#6)."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import time

import pytest

from routing.ami.backoff import Backoff
from routing.ami.client import AmiClient, AmiError, PanoramiskLog
from routing.calllog.setup import configure_logging
from tests.ports import free_port


def test_reconnect_attempts_are_logged_once_per_outage() -> None:
    out = io.StringIO()
    configure_logging("json", stream=out)
    quiet = PanoramiskLog("127.0.0.1", 5038)
    quiet.error("Connection lost")
    quiet.info("Try to connect again in %d second(s)", 2)
    for _ in range(5):
        quiet.warning("Not able to reconnect")
    quiet.logged_in()
    quiet.exception("Not able to connect")
    quiet.debug("chatter")
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(e["event"], e["level"]) for e in events] == [("ami.unreachable", "warning")] * 2
    assert events[0]["host"] == "127.0.0.1" and events[0]["port"] == 5038


def test_reconnect_backoff_doubles_to_a_cap_and_starts_over_after_a_login() -> None:
    backoff = Backoff(first_s=1, cap_s=30)
    assert [backoff.failed() for _ in range(7)] == [2, 4, 8, 16, 30, 30, 30]
    assert backoff.reset() == 1
    assert backoff.failed() == 2


def test_each_failed_attempt_sets_the_next_delay_and_the_outage_is_logged_with_it() -> None:
    out = io.StringIO()
    configure_logging("json", stream=out)
    backoff = Backoff(first_s=1, cap_s=8)
    quiet = PanoramiskLog("127.0.0.1", 5038, on_failed_attempt=backoff.failed)
    for _ in range(5):
        quiet.warning("Not able to reconnect")
    assert backoff.delay_s == 8
    (line,) = [json.loads(x) for x in out.getvalue().splitlines()]
    assert (line["event"], line["next_s"]) == ("ami.unreachable", 2)


async def test_the_client_waits_longer_after_each_refused_connection() -> None:
    """The backoff drives panoramisk's real reconnect loop (here against a closed port)."""
    attempts: list[float] = []

    class Recorded(Backoff):
        def failed(self) -> float:
            attempts.append(time.monotonic())
            return super().failed()

    port = free_port()  # nothing listens there
    client = AmiClient("127.0.0.1", port, "routing", "secret", backoff=Recorded(first_s=0.05, cap_s=0.2))
    with pytest.raises(AmiError):
        await client.connect(timeout_s=1)
    await asyncio.sleep(1.0)
    client.close()
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert len(gaps) >= 4
    # Waits of 0.1, 0.2, then the cap: each at least what the backoff said, never shrinking.
    assert gaps[0] >= 0.09 and gaps[1] >= 0.19 and all(g >= 0.19 for g in gaps[2:])
    assert all(g < 1.0 for g in gaps)  # capped (uncapped, 1 s would not hold four waits)
