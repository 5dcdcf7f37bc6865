"""The call as it arrives: who can be called back (R4), moments that carry their zone."""

from __future__ import annotations

import pytest

from routing.policy.call import caller_number


@pytest.mark.parametrize(
    ("number", "presentation"),
    [
        ("0701234567", "prohib_passed_screen"),
        ("0701234567", "prohib"),
        ("0701234567", "unavailable"),
        ("", "allowed_not_screened"),
        ("   ", ""),
        ("anonymous", ""),
        ("Unknown", "allowed"),
        ("restricted", ""),
    ],
)
def test_r4_a_hidden_caller_has_no_number_to_call_back(number: str, presentation: str) -> None:
    assert caller_number(number, presentation) is None


def test_r4_a_presented_number_is_kept_without_surrounding_space() -> None:
    assert caller_number(" 0701234567 ", "allowed_not_screened") == "0701234567"
    assert caller_number("+46701234567", "") == "+46701234567"
