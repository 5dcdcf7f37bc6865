"""R17 private calls and R18 premium-rate numbers from the municipality's phones."""

from __future__ import annotations

import pytest

from routing.policy.outbound import Outbound, Refused, decide_outbound
from tests.unit.policy.builders import config, directory, person

APPROVAL = {"approved_by": "Verksamhetschef", "approved_on": "2026-03-01"}


def outbound_config(**extra: object) -> dict[str, object]:
    data = config(outbound={"trunk": "PJSIP/{number}@operator", "private_prefix": "*7", **extra})
    person(data, "soc1")["pay_services"] = APPROVAL
    return data


def test_ordinary_call_goes_out_through_the_trunk() -> None:
    assert decide_outbound("0701234567", "5002", directory(outbound_config())) == Outbound(
        "0701234567", "PJSIP/0701234567@operator", False, ()
    )


@pytest.mark.parametrize("number", ["0900123456", "0939111", "0944000000", "099123"])
def test_r18_premium_rate_refused_without_permission(number: str) -> None:
    result = decide_outbound(number, "5002", directory(outbound_config()))
    assert isinstance(result, Refused) and result.rule == "R18"
    assert result.reason.endswith("is a premium-rate prefix and soc2 has no written permission")


def test_r18_permission_lets_the_call_through() -> None:
    result = decide_outbound("0900123456", "5001", directory(outbound_config()))
    assert result == Outbound("0900123456", "PJSIP/0900123456@operator", False, ("R18",))


def test_r18_unknown_phone_is_refused_premium_numbers() -> None:
    result = decide_outbound("0900123456", "4444", directory(outbound_config()))
    assert isinstance(result, Refused) and "extension 4444 has no written permission" in result.reason


def test_r17_private_prefix_is_stripped_and_recorded() -> None:
    assert decide_outbound("*70701234567", "5002", directory(outbound_config())) == Outbound(
        "0701234567", "PJSIP/0701234567@operator", True, ("R17",)
    )


def test_r17_r18_a_private_call_to_a_premium_number_is_still_barred() -> None:
    result = decide_outbound("*70900123456", "5002", directory(outbound_config()))
    assert isinstance(result, Refused) and result.rule == "R18"


@pytest.mark.parametrize("dialled", ["*7", "12a4", "*", "+", ""])
def test_not_a_number_is_refused(dialled: str) -> None:
    assert isinstance(decide_outbound(dialled, "5002", directory(outbound_config())), Refused)
