"""The flow a call gets, rule by rule (test names carry the rule ids)."""

from __future__ import annotations

from datetime import date

from routing.policy.call import Call
from routing.policy.hours import OpenState
from routing.policy.planner import plan_call
from routing.policy.referral import Reason, Referral
from routing.policy.state import RoutingState
from routing.policy.steps import CallbackOffer, Message, Ring, StepKind, Voicemail
from tests.unit.policy.builders import EXTERNAL, at, config, directory, person, plan, shape, unit


def test_r1_every_ringing_step_lasts_the_ring_limit() -> None:
    p = plan("5001")
    rings = [s for s in p.steps if isinstance(s, Ring)]
    assert rings and all(s.timeout_s == 30 for s in rings)
    assert all("R1" in s.rules for s in rings)


def test_r1_ring_limit_follows_config() -> None:
    p = plan("5001", data=config(ring={"max_rings": 3, "ring_period_s": 2}))
    assert {s.timeout_s for s in p.steps if isinstance(s, Ring)} == {6}


def test_r2_person_chain_is_person_cover_voicemail_callback_then_last_resort() -> None:
    assert shape(plan("5001")) == [
        ("person", "soc1"),
        ("cover", "soc2"),
        ("voicemail", "soc1"),
        ("callback", "soc1"),
        ("voicemail", "switchboard"),
    ]


def test_r2_person_may_set_own_chain() -> None:
    data = config()
    person(data, "soc1")["fallback"] = ["callback", "voicemail"]
    assert shape(plan("5001", data=data)) == [
        ("person", "soc1"),
        ("callback", "soc1"),
        ("voicemail", "soc1"),
        ("voicemail", "switchboard"),
    ]


def test_r2_switchboard_link_rings_the_switchboard() -> None:
    data = config(fallback=["switchboard", "voicemail"])
    assert shape(plan("5001", data=data))[:2] == [("person", "soc1"), ("switchboard", "9000")]


def test_r3_plan_always_ends_in_the_switchboard_mailbox() -> None:
    for number in ("5001", "5002", "5000", "7000", "7001", "5099", "9000", "1234"):
        last = plan(number).steps[-1]
        assert isinstance(last, Voicemail) and last.mailbox == "9000@default", number


def test_r3_unknown_number_goes_to_the_switchboard() -> None:
    p = plan("1234")
    assert p.target_kind == "switchboard"
    assert shape(p) == [("switchboard", "9000"), ("voicemail", "switchboard")]
    assert any("1234 is no known number" in note for note in p.notes)


def test_r4_hidden_caller_gets_voicemail_instead_of_callback() -> None:
    p = plan("5001", caller=None)
    assert not any(isinstance(s, CallbackOffer) for s in p.steps)
    assert any("hidden caller" in note for note in p.notes)


def test_r4_hidden_caller_with_callback_first_gets_the_mailbox_at_that_point() -> None:
    data = config()
    person(data, "soc1")["fallback"] = ["callback", "cover"]
    person(data, "soc1").pop("cover")
    p = plan("5001", caller=None, data=data)
    assert shape(p) == [("person", "soc1"), ("voicemail", "soc1"), ("voicemail", "switchboard")]


def test_unit_number_rings_present_members_together() -> None:
    p = plan("5000")
    first = p.steps[0]
    assert isinstance(first, Ring) and first.kind is StepKind.UNIT
    assert first.devices == ("PJSIP/5001", "PJSIP/5002")


def test_unit_without_member_list_rings_everyone_of_the_unit() -> None:
    p = plan("7000")
    first = p.steps[0]
    assert isinstance(first, Ring) and first.devices == ("PJSIP/7001",)


def test_unit_falls_back_to_duty_phone_then_unit_voicemail() -> None:
    assert shape(plan("5000")) == [
        ("unit", "soc"),
        ("duty_phone", "5099"),
        ("voicemail", "soc"),
        ("callback", "soc"),
        ("voicemail", "switchboard"),
    ]


def test_r6_phone_hours_absent_follow_working_hours() -> None:
    assert plan("7000", "2026-12-01 15:00").open_state is OpenState.OPEN
    assert plan("7000", "2026-12-01 16:30").open_state is OpenState.CLOSED


def test_r7_internal_call_rings_the_unit_outside_its_telephone_hours() -> None:
    external = plan("5000", "2026-12-01 13:00")
    internal = plan("5000", "2026-12-01 13:00", caller="5002", internal=True)
    assert external.open_state is OpenState.PHONE_HOURS_CLOSED
    assert internal.open_state is OpenState.OPEN
    assert shape(internal)[0] == ("unit", "soc")


def test_r7_internal_call_reaches_a_person_outside_working_hours() -> None:
    p = plan("5001", "2026-12-01 19:00", caller="7001", internal=True)
    assert shape(p)[0] == ("person", "soc1")


def test_r8_outside_telephone_hours_the_duty_phone_rings_after_the_announcement() -> None:
    p = plan("5000", "2026-12-01 13:00")
    assert shape(p)[:2] == [("announcement", "soc"), ("duty_phone", "5099")]
    duty = p.steps[1]
    assert isinstance(duty, Ring) and "R8" in duty.rules and duty.devices == ("PJSIP/5099",)


def test_r8_duty_phone_rings_even_if_the_units_chain_has_no_cover() -> None:
    data = config()
    unit(data, "soc")["fallback"] = ["voicemail"]
    assert shape(plan("5000", "2026-12-01 13:00", data=data))[:3] == [
        ("announcement", "soc"),
        ("duty_phone", "5099"),
        ("voicemail", "soc"),
    ]


def test_r9_announcement_tells_the_telephone_hours_and_names_the_prompt() -> None:
    message = plan("5000", "2026-12-01 13:00").steps[0]
    assert isinstance(message, Message)
    assert message.prompt == "soc-telefontid"
    assert "R9" in message.rules
    assert "telefontid är måndag till fredag klockan 9 till 11" in message.text


def test_r9_outside_working_hours_announcement_then_voicemail_no_ringing() -> None:
    p = plan("5000", "2026-12-01 18:00")
    assert p.open_state is OpenState.CLOSED
    assert shape(p) == [
        ("announcement", "soc"),
        ("voicemail", "soc"),
        ("callback", "soc"),
        ("voicemail", "switchboard"),
    ]
    message = p.steps[0]
    assert isinstance(message, Message)
    assert "Vi har stängt" in message.text and "fredag klockan 7.30 till 15" in message.text


def test_r9_person_outside_working_hours_gets_announcement_and_mailbox() -> None:
    p = plan("5001", "2026-12-05 10:00")  # a Saturday
    assert shape(p) == [
        ("announcement", "soc"),
        ("voicemail", "soc1"),
        ("callback", "soc1"),
        ("voicemail", "switchboard"),
    ]


def test_r6_holiday_closes_the_unit() -> None:
    assert plan("5000", "2026-06-19 10:00").open_state is OpenState.CLOSED  # midsommarafton
    assert plan("5000", "2026-12-28 10:00").open_state is OpenState.CLOSED  # closed day


def test_r11_referred_person_is_not_rung_and_caller_hears_why_and_when() -> None:
    referral = Referral("soc1", Reason.MEETING, at("2026-12-01 13:00"))
    p = plan("5001", referrals=(referral,))
    assert shape(p)[:2] == [("referral", "soc1"), ("cover", "soc2")]
    message = p.steps[0]
    assert isinstance(message, Message)
    assert message.text.startswith("Anna Lindqvist sitter i möte och är tillbaka klockan 13.")
    assert all(not (isinstance(s, Ring) and "PJSIP/5001" in s.devices) for s in p.steps)


def test_r11_expired_referral_rings_the_person_again() -> None:
    referral = Referral("soc1", Reason.LUNCH, at("2026-12-01 10:00"))
    assert shape(plan("5001", "2026-12-01 10:15", referrals=(referral,)))[0] == ("person", "soc1")


def test_r11_referral_until_a_date_lasts_until_that_morning() -> None:
    referral = Referral("soc1", Reason.VACATION, date(2026, 12, 7))
    assert shape(plan("5001", "2026-12-04 14:00", referrals=(referral,)))[0] == ("referral", "soc1")
    assert shape(plan("5001", "2026-12-07 08:00", referrals=(referral,)))[0] == ("person", "soc1")


def test_r11_referred_members_are_not_rung_by_the_unit_number() -> None:
    referral = Referral("soc1", Reason.SICK)
    first = plan("5000", referrals=(referral,)).steps[0]
    assert isinstance(first, Ring) and first.devices == ("PJSIP/5002",)


def test_r11_a_referred_cover_passes_to_their_own_cover() -> None:
    referral = Referral("soc2", Reason.COURSE)
    p = plan("5001", referrals=(referral,))
    cover = p.steps[1]
    # soc2's cover is the unit soc: soc1 has rung already and soc2 is away, so the unit's
    # duty phone answers for it.
    assert isinstance(cover, Ring) and cover.kind is StepKind.COVER
    assert cover.devices == ("PJSIP/5099",)
    assert any("soc2 has a referral" in note for note in p.notes)


def test_r15_referral_message_tells_the_mobile_number() -> None:
    message = plan("5001", referrals=(Referral("soc1", Reason.ERRAND),)).steps[0]
    assert isinstance(message, Message)
    assert "R15" in message.rules
    assert "Mobilnummer: 0 7 0 1 2 3 4 5 6 7." in message.text


def test_r15_no_mobile_no_number_told() -> None:
    message = plan("5002", referrals=(Referral("soc2", Reason.ERRAND),)).steps[0]
    assert isinstance(message, Message)
    assert "Mobilnummer" not in message.text and "R15" not in message.rules


def test_r14_mobile_rings_with_the_desk_only_with_approval() -> None:
    without = plan("5001").steps[0]
    assert isinstance(without, Ring) and without.devices == ("PJSIP/5001",) and not without.mobile_leg
    data = config()
    person(data, "soc1")["forward_to_mobile"] = {"approved_by": "Verksamhetschef", "approved_on": "2026-03-01"}
    with_approval = plan("5001", data=data).steps[0]
    assert isinstance(with_approval, Ring)
    assert with_approval.devices == ("PJSIP/5001", "PJSIP/+46701234567@operator")
    assert with_approval.mobile_leg and "R14" in with_approval.rules


def test_redirect_cap_stops_a_loop_of_referred_covers() -> None:
    data = config(max_redirects=2)
    person(data, "soc2")["cover"] = "5001"  # soc1 -> soc2 -> soc1 -> ...
    referrals = (Referral("soc1", Reason.SICK), Referral("soc2", Reason.SICK))
    p = plan("5001", referrals=referrals, data=data)
    assert all(s.kind is not StepKind.COVER for s in p.steps)
    assert any("redirect cap (2) reached" in note for note in p.notes)
    assert isinstance(p.steps[-1], Voicemail)


def test_a_device_never_rings_twice_in_one_call() -> None:
    data = config()
    person(data, "soc1")["cover"] = "5000"  # the unit again includes soc1 herself
    p = plan("5001", data=data)
    cover = p.steps[1]
    assert isinstance(cover, Ring) and cover.devices == ("PJSIP/5002",)


def test_shared_phone_rings_then_its_units_mailbox() -> None:
    assert shape(plan("5099")) == [("phone", "5099"), ("voicemail", "soc"), ("voicemail", "switchboard")]


def test_r2_unregistered_phone_is_passed_over_at_once() -> None:
    state = RoutingState({}, unavailable_devices=frozenset({"PJSIP/5001"}))
    p = plan_call(directory(), state, Call("5001", EXTERNAL, False, at("2026-12-01 10:15")))
    assert shape(p)[0] == ("cover", "soc2")
    assert "PJSIP/5001 is unavailable (not registered): not rung" in p.notes
    assert "person soc1 cannot ring now: skipped" in p.notes


def test_r2_busy_member_is_left_out_of_the_unit_ring() -> None:
    state = RoutingState({}, busy_devices=frozenset({"PJSIP/5002"}))
    p = plan_call(directory(), state, Call("5000", EXTERNAL, False, at("2026-12-01 10:15")))
    first = p.steps[0]
    assert isinstance(first, Ring) and first.devices == ("PJSIP/5001",)
