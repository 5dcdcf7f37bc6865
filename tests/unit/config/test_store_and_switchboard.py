"""store: retention of calls (R12) and of the daily totals (#12); switchboard: its operators (#13)."""

from __future__ import annotations

import pydantic
import pytest

from routing.config.schema import StoreConfig


def test_daily_totals_are_kept_five_years_by_default() -> None:
    assert (StoreConfig().retention_days, StoreConfig().totals_retention_days) == (90, 1826)


def test_daily_totals_cannot_go_before_the_calls_they_keep_the_figures_of() -> None:
    with pytest.raises(pydantic.ValidationError, match=r"totals_retention_days \(300\) must be at least"):
        StoreConfig(retention_days=400, totals_retention_days=300)


def test_an_operator_listed_twice_is_an_error() -> None:
    from routing.config.schema import Switchboard

    operator = {"id": "eva", "name": "Eva", "device": "PJSIP/9001"}
    with pytest.raises(pydantic.ValidationError, match="operator 'eva' is listed twice"):
        Switchboard(extension="9000", device="PJSIP/9000", voicemail="9000@default", operators=[operator, operator])
