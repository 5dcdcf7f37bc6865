"""The demo's pure parts: the scenarios it picks from the config, the devices it swaps in."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from routing.cli.demo_calls import demo_config, scenarios
from routing.config import load_config
from routing.policy.directory import Directory
from routing.policy.hours import OpenState, open_state

EXAMPLE = load_config(Path(__file__).resolve().parents[3] / "config" / "example.yaml")
TODAY = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm"))


def test_scenarios_happen_at_moments_where_their_rule_applies() -> None:
    chosen = scenarios(EXAMPLE, TODAY)
    assert len(chosen) == 6
    d = Directory.from_config(EXAMPLE)
    by_rule = {s.title.split(":")[0]: s for s in chosen}
    r8 = by_rule["R8/R9"]
    assert open_state(d.calendar, d.working_hours, d.phone_hours["soc"], r8.at, internal=False) is (
        OpenState.PHONE_HOURS_CLOSED
    )
    assert by_rule["R7"].internal and by_rule["R7"].at == r8.at
    assert open_state(d.calendar, d.working_hours, None, by_rule["R6/R9"].at, internal=False) is OpenState.CLOSED
    assert by_rule["R3/R4"].caller is None
    assert by_rule["R11/R15"].referral is not None and by_rule["R11/R15"].referral.person == "soc1"
    assert all(s.at > TODAY for s in chosen)


def test_demo_config_swaps_every_device_and_shortens_the_ring() -> None:
    config = demo_config(EXAMPLE, {"5001": "ring"})
    devices = [p.device for p in config.people] + [p.device for p in config.phones] + [config.switchboard.device]
    assert all(d.endswith("@sandbox-phones") for d in devices)
    assert next(p.device for p in config.people if p.id == "soc1") == "Local/ring-5001@sandbox-phones"
    assert next(p.device for p in config.people if p.id == "soc2") == "Local/answer2-5002@sandbox-phones"
    assert config.ring.ring_period_s == 1 and config.ring.max_rings == EXAMPLE.ring.max_rings
    assert config.units == EXAMPLE.units  # hours, covers and chains stay the admin's
