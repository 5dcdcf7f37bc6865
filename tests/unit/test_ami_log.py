"""panoramisk's log lines become one line per state change in the JSON log (#6)."""

from __future__ import annotations

import io
import json

from routing.ami.client import PanoramiskLog
from routing.structured_log import configure_logging


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
