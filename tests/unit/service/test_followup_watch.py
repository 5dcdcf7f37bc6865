"""R4: the service reports an overdue callback once, as a policy.violation."""

from __future__ import annotations

import io
import json

from routing.calllog.setup import configure_logging
from routing.service.followup_watch import FollowUpWatch
from routing.store import open_store
from tests.unit.policy.builders import at, directory


def test_r4_overdue_callback_is_a_violation_reported_once(store_url: str) -> None:
    out = io.StringIO()
    configure_logging("json", stream=out)
    store = open_store(store_url)
    late = store.add_callback(call_id="1", caller="0701234567", target="soc1", at=at("2026-12-01 08:00"))
    store.add_callback(call_id="2", caller="0701234567", target="soc2", at=at("2026-12-01 13:00"))
    done = store.add_callback(call_id="3", caller="0701234567", target="kc1", at=at("2026-12-01 08:00"))
    store.mark_done(done, at=at("2026-12-01 09:00"), by="7001")
    clock = [at("2026-12-01 14:30")]
    d = directory()
    watch = FollowUpWatch(lambda: d, store, lambda: clock[0])
    assert [o.id for o in watch.check()] == [late]
    assert watch.check() == []  # once
    (line,) = [json.loads(x) for x in out.getvalue().splitlines()]
    assert line["event"] == "policy.violation" and line["rule"] == "R4" and line["callback_id"] == late
    assert "open 6.5 working hours (limit 4)" in line["detail"]
