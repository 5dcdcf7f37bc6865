"""Where the switchboard puts a call through to (#13): R1 ring limit, phones passed over,
voicemail as an explicit choice, mobiles only confirmed (R15, R20), premium rate barred (R18)."""

from __future__ import annotations

import pytest

from routing.policy.referral import Reason, Referral
from routing.policy.state import RoutingState
from routing.policy.transfer import TargetKind, TransferRefused, transfer_target
from tests.unit.policy.builders import at, directory

NOW = at("2026-12-01 10:15")


def test_r1_a_person_by_extension_or_id_rings_their_phone_for_the_ring_limit() -> None:
    for to in ("5001", "soc1"):
        target = transfer_target(directory(), RoutingState(), to, NOW)
        assert (target.kind, target.devices, target.timeout_s, target.person) == (
            TargetKind.PERSON,
            ("PJSIP/5001",),
            30.0,
            "soc1",
        )
        assert target.label == "Anna Lindqvist (5001)"


@pytest.mark.parametrize(
    ("state", "why"),
    [
        (RoutingState(unavailable_devices=frozenset({"PJSIP/5001"})), "unregistered"),
        (RoutingState(busy_devices=frozenset({"PJSIP/5001"})), "busy"),
    ],
)
def test_a_phone_unregistered_or_in_a_call_is_passed_over(state: RoutingState, why: str) -> None:
    target = transfer_target(directory(), state, "5001", NOW)
    assert target.devices == ()
    assert target.passed_over == (("PJSIP/5001", why),)
    assert target.why_not_rung == why


def test_r11_a_unit_rings_its_members_without_a_referral() -> None:
    away = RoutingState({"soc1": Referral("soc1", Reason.MEETING, None)})
    target = transfer_target(directory(), away, "5000", NOW)
    assert (target.kind, target.devices) == (TargetKind.UNIT, ("PJSIP/5002",))


def test_voicemail_is_an_explicit_choice() -> None:
    target = transfer_target(directory(), RoutingState(), "5001", NOW, voicemail=True)
    assert (target.kind, target.mailbox, target.devices) == (TargetKind.VOICEMAIL, "5001@default", ())
    with pytest.raises(TransferRefused):
        transfer_target(directory(), RoutingState(), "5099", NOW, voicemail=True)  # a shared phone


def test_r15_r20_a_mobile_needs_confirmation_and_is_a_mobile_cost() -> None:
    with pytest.raises(TransferRefused) as asked:
        transfer_target(directory(), RoutingState(), "5001", NOW, mobile=True)
    assert asked.value.needs_confirmation and asked.value.rule == "R15"
    # The mobile number typed as an outside number is the same mobile.
    with pytest.raises(TransferRefused) as typed:
        transfer_target(directory(), RoutingState(), "+46701234567", NOW)
    assert typed.value.needs_confirmation
    target = transfer_target(directory(), RoutingState(), "5001", NOW, mobile=True, confirmed=True)
    assert target.kind is TargetKind.MOBILE and target.is_mobile_cost
    assert target.devices == ("PJSIP/+46701234567@operator",)
    assert "R20" in target.rules


def test_r15_a_person_without_a_mobile_cannot_be_put_through_to_one() -> None:
    with pytest.raises(TransferRefused, match="no mobile"):
        transfer_target(directory(), RoutingState(), "5002", NOW, mobile=True, confirmed=True)


def test_r18_premium_rate_numbers_stay_barred() -> None:
    with pytest.raises(TransferRefused) as barred:
        transfer_target(directory(), RoutingState(), "0900123456", NOW)
    assert barred.value.rule == "R18"


def test_an_outside_number_goes_through_the_trunk() -> None:
    target = transfer_target(directory(), RoutingState(), "0812345678", NOW)
    assert (target.kind, target.devices, target.is_mobile_cost) == (
        TargetKind.OUTSIDE,
        ("PJSIP/0812345678@operator",),
        False,
    )
