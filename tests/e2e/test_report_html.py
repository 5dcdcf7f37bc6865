"""Issue #5: the HTML report in a real headless Chromium (Debian's chromium): it renders, its
four charts are there, and the bars it draws are the numbers of the JSON report."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from routing.config import load_config
from routing.reports.accessibility import render_json
from routing.reports.html import render_html
from routing.reports.period import report_for
from routing.store import SqliteStore
from tests.e2e.harness import CHROMIUM_FLAGS, chromium

pytestmark = [pytest.mark.e2e]

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.yaml"
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _report(tmp_path: Path) -> str:
    store = SqliteStore(tmp_path / "routing.db")
    outcomes = ["answered", "cover", "voicemail", "abandoned", "answered", "referral", "answered"]
    for n, outcome in enumerate(outcomes):
        at = (T0 + timedelta(minutes=37 * n)).isoformat()
        target, unit = ("soc1", "soc") if n % 2 else ("kc1", "kc")
        store.record_event(
            at=at, call_id=f"c{n}", event="call.start", fields={"target_kind": "person", "target": target, "unit": unit}
        )
        wait = None if outcome == "abandoned" else float(5 * n)
        store.record_event(
            at=at, call_id=f"c{n}", event="call.end", fields={"outcome": outcome, "wait_s": wait, "duration_s": 40.0}
        )
    store.add_callback(call_id="c2", caller="0701234567", target="soc1", at=T0)
    store.add_callback(call_id="c3", caller="0701234567", target="soc1", at=T0 + timedelta(hours=3))
    config = load_config(EXAMPLE)
    start, end = T0, T0 + timedelta(hours=6)
    report = report_for(config, store, start, end)
    (tmp_path / "report.json").write_text(render_json(report), encoding="utf-8")
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    return str(page)


def test_html_report_renders_in_chromium_with_its_charts_and_the_json_numbers(tmp_path: Path) -> None:
    browser_path = chromium()
    page = _report(tmp_path)
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [browser_path, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", f"file://{page}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert 'data-checked="ok"' in dom  # the page's own script found every bar equal to the JSON
    for chart in ("chart-answer-rate", "chart-calls-per-hour", "chart-waits", "chart-callback-ages"):
        assert f'id="{chart}"' in dom
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    hours = [
        int(v) for v in re.findall(r'data-value="(\d+)"', dom.split('id="chart-calls-per-hour"')[1].split("</svg>")[0])
    ]
    assert hours == data["calls_per_hour"] and sum(hours) == 7
    everyone = data["rows"][0]
    assert f"<td>{everyone['calls']}</td>" in dom

    shot = tmp_path / "report.png"
    subprocess.run(
        [
            browser_path,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            "--window-size=1200,900",
            f"file://{page}",
        ],
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert shot.stat().st_size > 10_000  # a page with charts, not a blank one
