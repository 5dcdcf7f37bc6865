"""`routing tail`: one readable line an event, one call or one unit followed."""

from __future__ import annotations

import io
import json

from routing.cli.tail import follow

LINES = [
    {
        "call_id": "1.1",
        "event": "call.start",
        "unit": "soc",
        "called": "5001",
        "caller": "070*****67",
        "level": "info",
        "timestamp": "2026-12-01T10:15:00.000+01:00",
    },
    {
        "call_id": "1.2",
        "event": "call.start",
        "unit": "kc",
        "called": "7001",
        "level": "info",
        "timestamp": "2026-12-01T10:15:01.000+01:00",
    },
    {
        "call_id": "1.1",
        "event": "call.step",
        "step": "person",
        "devices": ["PJSIP/5001"],
        "timeout_s": 30.0,
        "level": "info",
        "timestamp": "2026-12-01T10:15:02.000+01:00",
    },
    {
        "call_id": "1.2",
        "event": "call.end",
        "outcome": "voicemail",
        "level": "info",
        "timestamp": "2026-12-01T10:15:03.000+01:00",
    },
    {"event": "service.started", "level": "info", "timestamp": "2026-12-01T10:15:04.000+01:00"},
]


def run(**filters: str | None) -> list[str]:
    source = io.StringIO("\n".join(json.dumps(line) for line in LINES) + "\nnot json\n")
    out = io.StringIO()
    follow(source, out, call=filters.get("call"), unit=filters.get("unit"), follow_on=False)
    return out.getvalue().splitlines()


def test_tail_prints_one_readable_line_an_event() -> None:
    lines = run()
    assert len(lines) == 5
    assert lines[0].split() == ["10:15:00.000", "1.1", "call.start", "unit=soc", "called=5001", "caller=070*****67"]
    assert lines[2].split()[2:] == ["call.step", "step=person", "devices=PJSIP/5001", "timeout_s=30"]


def test_tail_follows_one_call_or_one_unit() -> None:
    assert [line.split()[2] for line in run(call="1.1")] == ["call.start", "call.step"]
    assert [line.split()[1] for line in run(unit="kc")] == ["1.2", "1.2"]
