"""R4: the service reports an overdue callback once, as a policy.violation."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import date
from pathlib import Path

from routing.calllog.setup import configure_logging
from routing.policy.followup import Overdue
from routing.service.followup_watch import FollowUpWatch
from routing.store import SqliteStore, open_store
from routing.store.tally import Measure, TallyKey
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


def test_r12_the_round_prunes_old_calls_and_keeps_their_figures(store_url: str) -> None:
    """#12: calls past store.retention_days (90 by default) go; their day's figures stay in the
    daily totals, logged as store.rolled_up and store.pruned."""
    out = io.StringIO()
    configure_logging("json", stream=out)
    store = open_store(store_url)
    start: dict[str, object] = {"target_kind": "unit", "target": "soc", "unit": "soc"}
    for call_id, when in (("old", "2026-08-01 10:00"), ("kept", "2026-11-30 10:00")):
        stamp = at(when).isoformat()
        store.record_event(at=stamp, call_id=call_id, event="call.start", fields=start)
        store.record_event(at=stamp, call_id=call_id, event="call.end", fields={"outcome": "voicemail", "wait_s": 3.0})
    d = directory()
    FollowUpWatch(lambda: d, store, lambda: at("2026-12-01 14:30")).check()
    assert [c.call_id for c in store.calls_between(at("2026-01-01 00:00"), at("2026-12-02 00:00"))] == ["kept"]
    assert store.raw_kept_from() == date(2026, 9, 2)  # 90 days before 2026-12-01
    totals = store.daily_totals(date(2026, 8, 1), date(2026, 8, 1))
    assert totals[TallyKey("soc", "unit", "soc", Measure.ANSWER, "voicemail/")] == 1
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [(x["event"], x.get("first"), x.get("events")) for x in lines] == [
        ("store.rolled_up", "2026-08-01", None),
        ("store.pruned", None, 2),
    ]


class CountedWatch(FollowUpWatch):
    rounds = 0

    def check(self) -> list[Overdue]:
        self.rounds += 1
        return []


async def test_r4_only_the_active_instance_runs_the_round(tmp_path: Path) -> None:
    """#17: of two instances sharing a store, the round (overdue callbacks, retention) runs on
    the active one only: each overdue callback is reported once, by it."""
    store = SqliteStore(tmp_path / "routing.db")
    d = directory()
    active = CountedWatch(lambda: d, store, lambda: at("2026-12-01 14:30"), interval_s=0.01, active=lambda: True)
    standby = CountedWatch(lambda: d, store, lambda: at("2026-12-01 14:30"), interval_s=0.01, active=lambda: False)
    tasks = [asyncio.create_task(active.run()), asyncio.create_task(standby.run())]
    await asyncio.sleep(0.2)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert active.rounds >= 3 and standby.rounds == 0
