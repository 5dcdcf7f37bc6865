"""R11 referral feature codes: what each dialled code sets, and refusals that change nothing."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.policy.feature_codes import (
    ClearReferral,
    FeatureCodeError,
    SetReferral,
    parse_feature_code,
)
from routing.policy.referral import Reason, Referral
from tests.unit.policy.builders import at

NOW = at("2026-12-01 10:15")  # a Tuesday


def parse(code: str) -> object:
    return parse_feature_code(code, person="soc1", now=NOW)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("*211", Referral("soc1", Reason.LUNCH)),
        ("*2111300", Referral("soc1", Reason.LUNCH, at("2026-12-01 13:00"))),
        ("*2120900", Referral("soc1", Reason.MEETING, at("2026-12-02 09:00"))),  # 09:00 has passed: tomorrow
        ("*2131015", Referral("soc1", Reason.ERRAND, at("2026-12-02 10:15"))),  # now exactly: tomorrow
        ("*2151207", Referral("soc1", Reason.VACATION, date(2026, 12, 7))),
        ("*2150107", Referral("soc1", Reason.VACATION, date(2027, 1, 7))),  # January: next year
        ("*214", Referral("soc1", Reason.SICK)),
        ("*2171201", Referral("soc1", Reason.PARENTAL_LEAVE, date(2027, 12, 1))),  # today's date: next year
        ("*218*1224", Referral("soc1", Reason.OTHER, date(2026, 12, 24))),
        ("*216*0110", Referral("soc1", Reason.COURSE, date(2027, 1, 10))),
    ],
)
def test_r11_set_referral_codes(code: str, expected: Referral) -> None:
    assert parse(code) == SetReferral(expected)


def test_r11_clear_code() -> None:
    assert parse("#21") == ClearReferral("soc1")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("*21", "the reason digit is missing"),
        ("*219", "'9' is not a reason digit (1–8)"),
        ("*210", "'0' is not a reason digit (1–8)"),
        ("*21113", "'13' is not a return time HHMM or date MMDD"),
        ("*2112460", "24:60 is not a time"),
        ("*2111260", "12:60 is not a time"),
        ("*2151332", "32/13 is not a coming date"),
        ("*2150229", "29/02 is not a coming date"),
        ("*211*12", "'*12' is not a return time HHMM or date MMDD"),
        ("*211#300", "'#300' is not a return time HHMM or date MMDD"),
        ("*22", "'*22' is not a referral code"),
        ("#22", "'#22' is not a referral code"),
    ],
)
def test_r11_malformed_codes_are_refused(code: str, message: str) -> None:
    with pytest.raises(FeatureCodeError) as error:
        parse(code)
    assert str(error.value) == message


def test_configurable_codes() -> None:
    assert parse_feature_code("*551", person="x", now=NOW, set_code="*55", clear_code="#55") == SetReferral(
        Referral("x", Reason.LUNCH)
    )
    assert parse_feature_code("#55", person="x", now=NOW, set_code="*55", clear_code="#55") == ClearReferral("x")


@given(st.text(alphabet="0123456789*#", max_size=12))
def test_r11_any_dialled_string_parses_or_is_refused_cleanly(code: str) -> None:
    try:
        result = parse(code)
    except FeatureCodeError:
        return
    assert isinstance(result, SetReferral | ClearReferral)
    until = result.referral.until if isinstance(result, SetReferral) else None
    if isinstance(until, datetime):
        assert until > NOW
    elif until is not None:
        assert until > NOW.date()
