"""R19: the yearly review of mobiles and their approvals."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from routing.config import load_config
from routing.reports.mobiles import mobiles_review, render_mobiles

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "example.yaml"


def test_r19_mobiles_review_flags_approvals_older_than_a_year() -> None:
    config = load_config(EXAMPLE)
    assert [line.flags for line in mobiles_review(config, date(2026, 12, 1)) if line.person == "soc1"] == [()]
    (soc1,) = [line for line in mobiles_review(config, date(2027, 3, 2)) if line.person == "soc1"]
    assert soc1.flags == (
        "forwarding approval older than a year (R19)",
        "pay services approval older than a year (R19)",
    )
    assert soc1.forwarding == "Verksamhetschef Socialtjänsten, 2026-03-01"
    people = [line.person for line in mobiles_review(config, date(2026, 12, 1))]
    assert people == ["bygg1", "kc3", "soc1", "soc2"]  # everyone with a mobile, by unit
    assert json.loads(render_mobiles(mobiles_review(config, date(2026, 12, 1)), "json"))[0]["mobile"] == "0703456789"
