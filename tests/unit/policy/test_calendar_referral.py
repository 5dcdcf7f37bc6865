"""R11 referrals from calendars (#15): what an event means, which referral is in force, the
warning within the hour, and precedence against referrals set by hand. R12: a private event's
subject never reaches a caller."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from routing.policy import spoken_swedish
from routing.policy.calendar_referral import (
    CalendarEntry,
    CalendarEvent,
    Upcoming,
    calendar_referral,
    calendar_referrals,
    entries_of,
    entry_of,
    in_force,
    merged_referrals,
    next_change,
    reason_of,
    upcoming,
)
from routing.policy.referral import Reason, Referral
from tests.unit.policy.builders import at


def timed(start: str, end: str, subject: str, **flags: bool) -> CalendarEvent:
    return CalendarEvent(at(start), at(end), subject, **flags)


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        ("Möte med socialnämnden", Reason.MEETING),
        ("möte: budget", Reason.MEETING),
        ("Mötet om budget", Reason.MEETING),
        ("Meeting with the board", Reason.MEETING),
        ("Lunch", Reason.LUNCH),
        ("Tjänsteärende, hembesök", Reason.ERRAND),
        ("Errand in town", Reason.ERRAND),
        ("Sjuk", Reason.SICK),
        ("sick", Reason.SICK),
        ("Semester!", Reason.VACATION),
        ("Vacation", Reason.VACATION),
        ("Kurs i upphandling", Reason.COURSE),
        ("Course: GDPR", Reason.COURSE),
        ("Föräldraledig", Reason.PARENTAL_LEAVE),
        ("Parental leave", Reason.PARENTAL_LEAVE),
        ("2 Ledningsgrupp", Reason.MEETING),
        ("5", Reason.VACATION),
        ("8 - annat", Reason.OTHER),
        ("1: lunch med Per", Reason.LUNCH),
    ],
)
def test_r11_a_subject_starting_with_a_reason_word_or_code_names_it(subject: str, reason: Reason) -> None:
    assert reason_of(subject) == reason


@pytest.mark.parametrize(
    "subject", ["Budgetgenomgång", "", "   ", "9 Ledningsgrupp", "21 möte", "Planera möte", "parental", "Lunchmöte"]
)
def test_r11_a_subject_without_a_reason_first_names_none(subject: str) -> None:
    assert reason_of(subject) is None


def test_r11_an_event_with_a_reason_is_a_referral_until_its_end() -> None:
    entries = entries_of([timed("2026-12-01 09:00", "2026-12-01 10:30", "Möte med nämnden")])
    assert calendar_referral("soc1", entries, at("2026-12-01 09:00")) == Referral(
        "soc1", Reason.MEETING, at("2026-12-01 10:30")
    )
    assert calendar_referral("soc1", entries, at("2026-12-01 08:59")) is None
    assert calendar_referral("soc1", entries, at("2026-12-01 10:30")) is None  # the end is exclusive


def test_r11_an_all_day_event_gives_a_return_date() -> None:
    vacation = CalendarEvent(date(2026, 12, 21), date(2027, 1, 4), "Semester")
    referral = calendar_referral("soc1", entries_of([vacation]), at("2026-12-28 10:00"))
    assert referral == Referral("soc1", Reason.VACATION, date(2027, 1, 4))
    assert referral.active_at(at("2027-01-03 23:59")) and not referral.active_at(at("2027-01-04 00:00"))
    assert calendar_referral("soc1", entries_of([vacation]), at("2026-12-20 23:59")) is None


def test_r11_an_all_day_event_naming_a_reason_counts_though_shown_as_free() -> None:
    """Google and Outlook show all-day events as free unless told otherwise."""
    vacation = CalendarEvent(date(2026, 12, 21), date(2026, 12, 24), "Semester", free=True)
    assert calendar_referral("soc1", entries_of([vacation]), at("2026-12-22 10:00")) == Referral(
        "soc1", Reason.VACATION, date(2026, 12, 24)
    )
    assert entries_of([CalendarEvent(date(2026, 12, 21), date(2026, 12, 24), "Jul", free=True)]) == ()
    assert entries_of([CalendarEvent(date(2026, 12, 21), date(2026, 12, 24), "x", free=True, private=True)]) == ()


def test_r11_free_and_cancelled_events_set_no_referral() -> None:
    events = [
        timed("2026-12-01 09:00", "2026-12-01 10:00", "Möte", free=True),
        timed("2026-12-01 09:00", "2026-12-01 10:00", "Möte", cancelled=True),
        timed("2026-12-01 09:00", "2026-12-01 10:00", "Möte", free=True, private=True),
    ]
    assert entries_of(events) == ()
    assert calendar_referral("soc1", entries_of(events), at("2026-12-01 09:30")) is None


def test_r12_a_private_busy_event_says_other_and_keeps_no_subject() -> None:
    event = timed("2026-12-01 13:00", "2026-12-01 14:00", "Sjuk: läkarbesök hos psykiatrin", private=True)
    entry = entry_of(event)
    assert entry == CalendarEntry(at("2026-12-01 13:00"), at("2026-12-01 14:00"), Reason.OTHER, private=True)
    referral = calendar_referral("soc1", (entry,), at("2026-12-01 13:30"))
    assert referral == Referral("soc1", Reason.OTHER, at("2026-12-01 14:00"))
    text = spoken_swedish.referral_message("Anna Lindqvist", referral, None, at("2026-12-01 13:30"))
    assert text == "Anna Lindqvist är inte på plats och är tillbaka klockan 14."
    assert "psykiatri" not in repr(entry) and "Sjuk" not in repr(entry)


def test_r11_a_plain_busy_event_without_a_reason_sets_nothing() -> None:
    assert entry_of(timed("2026-12-01 09:00", "2026-12-01 10:00", "Planering")) is None


def test_r11_back_to_back_events_give_the_return_after_the_last() -> None:
    entries = entries_of(
        [
            timed("2026-12-01 09:00", "2026-12-01 10:00", "Möte 1"),
            timed("2026-12-01 10:00", "2026-12-01 11:00", "Kurs"),
            timed("2026-12-01 11:00", "2026-12-01 11:30", "Budget"),  # no reason: not part of the run
            timed("2026-12-01 13:00", "2026-12-01 14:00", "Möte 2"),
        ]
    )
    assert calendar_referral("soc1", entries, at("2026-12-01 09:15")) == Referral(
        "soc1", Reason.MEETING, at("2026-12-01 11:00")
    )


def test_r11_of_overlapping_events_the_one_ending_last_gives_reason_and_return() -> None:
    entries = entries_of(
        [
            timed("2026-12-01 09:00", "2026-12-01 12:00", "Kurs"),
            timed("2026-12-01 10:00", "2026-12-01 11:00", "Lunch"),
        ]
    )
    assert calendar_referral("soc1", entries, at("2026-12-01 10:30")) == Referral(
        "soc1", Reason.COURSE, at("2026-12-01 12:00")
    )


def test_r11_a_meeting_running_into_an_all_day_absence_returns_on_its_date() -> None:
    entries = entries_of(
        [
            timed("2026-12-03 22:00", "2026-12-04 02:00", "Möte, nattjour"),
            CalendarEvent(date(2026, 12, 4), date(2026, 12, 5), "Sjuk"),
        ]
    )
    assert calendar_referral("soc1", entries, at("2026-12-03 23:00")) == Referral(
        "soc1", Reason.MEETING, date(2026, 12, 5)
    )


def test_r11_times_in_another_zone_compare_as_instants() -> None:
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    event = CalendarEvent(
        datetime(2026, 12, 1, 9, 0, tzinfo=london), datetime(2026, 12, 1, 10, 0, tzinfo=london), "Meeting"
    )
    entries = entries_of([event])
    assert calendar_referral("soc1", entries, at("2026-12-01 10:30")) is not None  # 09:30 in London
    assert calendar_referral("soc1", entries, at("2026-12-01 11:00")) is None


def test_r11_the_warning_names_the_next_referral_event_within_the_hour() -> None:
    entries = entries_of(
        [
            timed("2026-12-01 11:00", "2026-12-01 12:00", "Möte"),
            timed("2026-12-01 11:30", "2026-12-01 12:00", "Lunch"),
        ]
    )
    assert upcoming(entries, at("2026-12-01 10:15")) == Upcoming(Reason.MEETING, at("2026-12-01 11:00"), 45)
    assert upcoming(entries, at("2026-12-01 10:00")) == Upcoming(Reason.MEETING, at("2026-12-01 11:00"), 60)
    assert upcoming(entries, at("2026-12-01 09:59")) is None
    assert upcoming(entries, at("2026-12-01 10:59:30")) == Upcoming(Reason.MEETING, at("2026-12-01 11:00"), 1)
    assert upcoming(entries, at("2026-12-01 11:00")) == Upcoming(Reason.LUNCH, at("2026-12-01 11:30"), 30)


def test_r12_the_warning_of_a_private_event_says_it_is_private() -> None:
    entries = entries_of([timed("2026-12-01 11:00", "2026-12-01 12:00", "Tandläkare", private=True)])
    assert upcoming(entries, at("2026-12-01 10:30")) == Upcoming(Reason.OTHER, at("2026-12-01 11:00"), 30, True)


def test_r11_a_referral_set_by_hand_beats_the_calendar_while_it_lasts() -> None:
    calendar = Referral("soc1", Reason.MEETING, at("2026-12-01 15:00"))
    manual = Referral("soc1", Reason.ERRAND, at("2026-12-01 13:00"))
    assert in_force(manual, calendar, at("2026-12-01 12:00")) == manual
    assert in_force(manual, calendar, at("2026-12-01 13:00")) == calendar  # the manual one ended
    assert in_force(None, calendar, at("2026-12-01 12:00")) == calendar  # cleared: the calendar again
    assert in_force(None, calendar, at("2026-12-01 15:00")) is None
    until_cleared = Referral("soc1", Reason.SICK)
    assert in_force(until_cleared, calendar, at("2026-12-01 12:00")) == until_cleared


def test_r11_merged_referrals_overlay_the_calendar_where_no_manual_one_is_in_force() -> None:
    now = at("2026-12-01 09:30")
    meeting = entries_of([timed("2026-12-01 09:00", "2026-12-01 10:00", "Möte")])
    ended = Referral("soc2", Reason.LUNCH, at("2026-12-01 09:00"))
    manual = {"soc1": Referral("soc1", Reason.SICK), "soc2": ended, "soc4": ended}
    calendar = calendar_referrals({"soc1": meeting, "soc2": meeting, "soc3": meeting, "soc5": ()}, now)
    assert set(calendar) == {"soc1", "soc2", "soc3"}
    merged = merged_referrals(manual, calendar, now)
    assert merged == {
        "soc1": Referral("soc1", Reason.SICK),
        "soc2": Referral("soc2", Reason.MEETING, at("2026-12-01 10:00")),
        "soc3": Referral("soc3", Reason.MEETING, at("2026-12-01 10:00")),
        "soc4": ended,  # kept as the store has it: inactive, as before
    }


def test_r11_events_must_carry_their_zone_and_one_kind_of_time() -> None:
    with pytest.raises(ValueError, match="time zone"):
        CalendarEvent(datetime(2026, 12, 1, 9), datetime(2026, 12, 1, 10), "Möte")
    with pytest.raises(ValueError, match="all-day"):
        CalendarEvent(date(2026, 12, 1), at("2026-12-01 10:00"), "Möte")


def test_r11_an_event_that_ends_where_it_starts_is_never_in_force() -> None:
    assert entries_of([timed("2026-12-01 09:00", "2026-12-01 09:00", "Möte")]) == ()


def test_r11_an_all_day_event_covers_the_local_day_of_the_moment_asked() -> None:
    entries = entries_of([CalendarEvent(date(2026, 12, 1), date(2026, 12, 2), "Kurs")])
    assert calendar_referral("soc1", entries, at("2026-11-30 23:59")) is None
    assert calendar_referral("soc1", entries, at("2026-12-01 00:00")) is not None
    assert calendar_referral("soc1", entries, at("2026-12-01 23:59")) is not None


def test_r11_the_calendar_referrals_change_only_where_an_event_starts_or_ends() -> None:
    calendars = {
        "soc1": entries_of([timed("2026-12-01 09:00", "2026-12-01 10:00", "Möte")]),
        "soc2": entries_of([CalendarEvent(date(2026, 12, 2), date(2026, 12, 3), "Kurs")]),
    }
    assert next_change(calendars, at("2026-12-01 08:00")) == at("2026-12-01 09:00")
    assert next_change(calendars, at("2026-12-01 09:00")) == at("2026-12-01 10:00")
    assert next_change(calendars, at("2026-12-01 10:00")) == at("2026-12-02 00:00")
    assert next_change(calendars, at("2026-12-03 00:00")) is None
