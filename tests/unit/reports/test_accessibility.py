"""`routing report` over synthetic call records: every figure, and the three formats."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from routing.cli.main import main
from routing.config import load_config
from routing.reports.accessibility import Report, build_report, render_csv, render_json, render_table
from routing.store import Store, open_store

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "example.yaml"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _call(
    store: Store,
    n: int,
    *,
    target: str,
    kind: str,
    unit: str | None,
    outcome: str,
    wait: float | None,
    step: str | None = None,
    duration: float = 60.0,
) -> None:
    at = (T0 + timedelta(minutes=n)).isoformat()
    call_id = f"c{n}"
    store.record_event(
        at=at,
        call_id=call_id,
        event="call.start",
        fields={"called": "x", "target_kind": kind, "target": target, "unit": unit},
    )
    if step is not None:
        store.record_event(
            at=at, call_id=call_id, event="call.answered", fields={"by": target, "step": step, "rings": 2}
        )
    store.record_event(
        at=at, call_id=call_id, event="call.end", fields={"outcome": outcome, "wait_s": wait, "duration_s": duration}
    )


@pytest.fixture
def store(store_url: str) -> Store:
    db = open_store(store_url)
    _call(db, 1, target="soc1", kind="person", unit="soc", outcome="answered", wait=12.0, step="person")
    _call(db, 2, target="soc1", kind="person", unit="soc", outcome="cover", wait=40.0, step="cover")
    _call(db, 3, target="soc", kind="unit", unit="soc", outcome="voicemail", wait=33.0)
    _call(db, 4, target="soc", kind="unit", unit="soc", outcome="abandoned", wait=None, duration=8.0)
    _call(db, 5, target="kc1", kind="person", unit="kc", outcome="referral", wait=0.0)
    at = (T0 + timedelta(minutes=2)).isoformat()
    db.record_event(at=at, call_id="c2", event="policy.violation", fields={"rule": "R1", "detail": "x"})
    db.record_event(at=at, call_id=None, event="mobile.forward", fields={"person": "soc1"})
    db.record_event(at=at, call_id=None, event="call.private", fields={"extension": "5002"})
    db.record_event(
        at=at,
        call_id=None,
        event="outbound.blocked",
        fields={
            "extension": "7001",
            "rule": "R18",
            "reason": "0900 is a premium-rate prefix and kc1 has no written permission",
        },
    )
    first = db.add_callback(call_id="c9", caller="0701234567", target="soc1", at=T0)
    db.mark_done(first, at=T0 + timedelta(hours=2), by="5001")
    late = db.add_callback(call_id="c10", caller="0701234567", target="soc1", at=T0)
    db.mark_overdue(late, at=T0 + timedelta(hours=5))
    return db


def _report(store: Store) -> Report:
    config = load_config(EXAMPLE)
    start, end = T0 - timedelta(hours=1), T0 + timedelta(hours=6)
    tally = store.tally_between(start, end, within_s=31.0, zone=ZoneInfo(config.timezone))
    return build_report(config, start, end, tally, store.callbacks())


def test_report_figures(store: Store) -> None:
    rows = {(r.kind, r.id): r for r in _report(store).rows}
    everyone, soc, soc1, kc = rows[("all", "")], rows[("unit", "soc")], rows[("person", "soc1")], rows[("unit", "kc")]
    assert (everyone.calls, soc.calls, soc1.calls, kc.calls) == (5, 4, 2, 1)
    assert soc1.answered_personally == 1 and soc.answered_personally == 1
    assert everyone.r2_within_limit == 2  # 12 s and 0 s; 33 s and 40 s are past the 30 s limit
    assert everyone.within_limit_pct == 40.0
    assert soc.outcomes["abandoned"] == 1 and soc.abandoned_after_median_s == 8.0
    assert everyone.wait_median_s == 22.5 and everyone.wait_p90_s == 40.0  # of 0, 12, 33, 40
    assert soc.violations == {"R1": 1} and kc.violations == {}
    assert (soc1.mobile_forwards, rows[("person", "soc2")].private_calls, kc.premium_blocked) == (1, 1, 1)
    assert (soc1.callbacks_opened, soc1.callbacks_done, soc1.callbacks_overdue, soc1.callback_median_h) == (
        2,
        1,
        1,
        2.0,
    )


def test_report_formats(store: Store) -> None:
    report = _report(store)
    data = json.loads(render_json(report))
    assert data["ring_limit_s"] == 30 and data["rows"][0]["calls"] == 5 and data["rows"][0]["within_limit_pct"] == 40.0
    rows = list(csv.reader(io.StringIO(render_csv(report))))
    assert rows[0][:3] == ["kind", "id", "calls"] and rows[1][:3] == ["all", "", "5"]
    table = render_table(report).splitlines()
    assert table[0].startswith("Calls 2026-12-01 08:00 – 2026-12-01 15:00; ring limit 30 s (R1)")
    assert table[2].split()[:4] == ["kind", "id", "calls", "personal"]


def test_report_command(tmp_path: Path, store_url: str, store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "routing.yaml"
    config.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace("sqlite:///var/lib/routing/routing.db", store_url),
        encoding="utf-8",
    )
    assert (
        main(["report", "--config", str(config), "--from", "2026-12-01", "--to", "2026-12-02", "--format", "json"]) == 0
    )
    assert json.loads(capsys.readouterr().out)["rows"][0]["calls"] == 5
    assert main(["report", "--config", str(config), "--from", "2026-12-02", "--to", "2026-12-01"]) == 2
    assert main(["report", "--config", str(config), "--from", "yesterday"]) == 2


def test_messages_asterisk_did_not_play_are_counted_for_the_call_and_outside_calls(store: Store) -> None:
    at = (T0 + timedelta(minutes=3)).isoformat()
    fields: dict[str, object] = {
        "step": "announcement",
        "target": "soc",
        "prompt": "/p/x",
        "status": "FAILED",
        "rules": ["R9"],
    }
    store.record_event(at=at, call_id="c3", event="prompt.not_played", fields=fields)
    refusal = {**fields, "step": "outbound", "target": "7001", "rules": ["R18"]}
    store.record_event(at=at, call_id="out-1", event="prompt.not_played", fields=refusal)
    rows = {(r.kind, r.id): r for r in _report(store).rows}
    assert rows[("all", "")].not_played == 2
    assert rows[("unit", "soc")].not_played == 1 and rows[("unit", "kc")].not_played == 0


def test_the_switchboards_figures_operator_answers_queue_wait_transfers_and_recalls(store: Store) -> None:
    """#13 item 10: c1 waited 4 s, was answered by an operator, put through to Anna, came back
    (återfall) and was put through again and answered; c2 waited 10 s, was held and recalled
    (two connections, one call); c3 came back from an operator's phone that did not answer
    (not an återfall)."""
    at = (T0 + timedelta(minutes=1)).isoformat()

    def sb(call_id: str, event: str, **fields: object) -> None:
        store.record_event(at=at, call_id=call_id, event=event, fields=fields)

    sb("c1", "switchboard.answered", operator="eva", queue_wait_s=4.2, place="waiting")
    sb("c1", "switchboard.connected", operator="eva")
    sb("c1", "switchboard.transfer", operator="eva", kind="person", target="soc1")
    sb("c1", "switchboard.queued", place="returned", returned_from="Anna (5001)", why="no answer")
    sb("c1", "switchboard.answered", operator="eva", queue_wait_s=30.0, place="returned")
    sb("c1", "switchboard.connected", operator="eva")
    sb("c1", "switchboard.transfer", operator="eva", kind="person", target="soc2")
    sb("c1", "switchboard.put_through", target="soc2", returns=1)
    sb("c2", "switchboard.answered", operator="olle", queue_wait_s=10.0, place="waiting")
    sb("c2", "switchboard.connected", operator="olle")
    sb("c2", "switchboard.answered", operator="olle", queue_wait_s=70.0, place="held", recalled=True)
    sb("c2", "switchboard.connected", operator="olle")
    sb("c3", "switchboard.queued", place="returned", returned_from="operator eva", why="operator did not answer")
    rows = {(r.kind, r.id): r for r in _report(store).rows}
    everyone, soc1 = rows[("all", "")], rows[("person", "soc1")]
    assert (everyone.sb_answered, everyone.sb_transfers, everyone.sb_recalls, everyone.sb_recalls_put_through) == (
        2,
        2,
        1,
        1,
    )
    assert (everyone.sb_queue_wait_median_s, everyone.sb_queue_wait_p90_s) == (7.0, 10.0)  # of 4 and 10 s
    assert (soc1.sb_answered, soc1.sb_recalls) == (2, 1)  # c1 and c2 were calls to Anna
    table = render_table(_report(store))
    assert "sb answered" in table and "1/1" in table
