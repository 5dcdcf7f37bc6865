"""The README's demo command, as `scripts/demo` runs it: config/example.yaml's six scenarios
through the real sandbox Asterisk, each ending in an R2 answer (the demo is a contract with a
new user: a change that breaks it must fail here, not on their machine)."""

from __future__ import annotations

from pathlib import Path

import structlog

from routing.calllog.events import CallEnd
from routing.cli.demo_calls import run_demo
from routing.config import load_config
from routing.sandbox import RunningSandbox

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.yaml"


async def test_the_demo_gets_every_scenario_an_r2_answer(sandbox_exclusive: RunningSandbox) -> None:
    saved = structlog.get_config()
    shown: list[str] = []
    try:
        runs = await run_demo(load_config(EXAMPLE), sandbox_exclusive, show=shown.append)
    finally:
        structlog.configure(**saved)
    assert len(runs) == 6
    for run in runs:
        ends = [CallEnd.from_fields(e) for e in run.events if e["event"] == CallEnd.NAME]
        assert len(ends) == 1, (run.scenario.title, [e["event"] for e in run.events])
        assert ends[0].outcome.is_r2_answer, (run.scenario.title, ends[0])
        assert not [e for e in run.events if e["event"] in ("agi.refused", "prompt.not_played", "call.unknown")]
    assert any("call.referral" in line for line in shown)  # the referral was played and told
