"""iCalendar feeds written like Outlook's and Google's exports (#15, R11): recurrences expanded
exactly in the event's own zone — two EXDATEs, a moved occurrence, RDATE, the daylight-saving
changes in March and October — all-day, private, free and cancelled events."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from routing.calendar.errors import FeedMalformed
from routing.calendar.ics import events_between, parse_calendars
from routing.policy.calendar_referral import CalendarEntry, calendar_referral, entries_of
from routing.policy.referral import Reason, Referral

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "calendars"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
UTC = ZoneInfo("UTC")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM)


def entries(name: str, start: str = "2026-01-01", end: str = "2027-01-01") -> tuple[CalendarEntry, ...]:
    calendars = parse_calendars([(FIXTURES / name).read_bytes()])
    return entries_of(events_between(calendars, local(start), local(end), STOCKHOLM))


def timed(found: tuple[CalendarEntry, ...]) -> list[tuple[str, str, Reason]]:
    """Each timed entry as local wall-clock start and end, to compare with what people see."""
    return [
        (
            e.start.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M"),
            e.end.astimezone(STOCKHOLM).strftime("%H:%M"),
            e.reason,
        )
        for e in found
        if isinstance(e.start, datetime) and isinstance(e.end, datetime)
    ]


def test_r11_outlook_weekly_meeting_two_exdates_one_moved_occurrence() -> None:
    found = timed(entries("outlook-anna.ics", "2026-03-01", "2026-04-20"))
    assert found == [
        ("2026-03-03 10:00", "11:00", Reason.MEETING),
        ("2026-03-10 10:00", "11:00", Reason.MEETING),
        # 17 March: EXDATE
        ("2026-03-24 10:00", "11:00", Reason.MEETING),
        ("2026-03-31 10:00", "11:00", Reason.MEETING),
        ("2026-04-08 13:00", "14:00", Reason.MEETING),  # 7 April moved to 8 April 13:00 (RECURRENCE-ID)
        ("2026-04-14 10:00", "11:00", Reason.MEETING),
        ("2026-04-15 14:00", "15:00", Reason.OTHER),  # the private event: no subject, "other"
    ]


def test_r11_outlook_windows_zone_names_keep_local_time_across_both_dst_changes() -> None:
    found = entries("outlook-anna.ics", "2026-03-20", "2026-11-10")
    starts = {
        e.start.astimezone(STOCKHOLM).date(): e.start
        for e in found
        if e.reason is Reason.MEETING and isinstance(e.start, datetime)
    }
    # Before and after the change on 29 March: 10:00 local, 09:00 then 08:00 UTC.
    assert starts[date(2026, 3, 24)].astimezone(UTC).hour == 9
    assert starts[date(2026, 3, 31)].astimezone(UTC).hour == 8
    # Before and after the change on 25 October (27 October is an EXDATE).
    assert starts[date(2026, 10, 20)].astimezone(UTC).hour == 8
    assert date(2026, 10, 27) not in starts
    assert starts[date(2026, 11, 3)].astimezone(UTC).hour == 9
    assert all(s.astimezone(STOCKHOLM).hour == 10 for d, s in starts.items() if d != date(2026, 4, 8))
    assert max(starts) == date(2026, 11, 3)  # the window's end; the series runs to 24 November


def test_r11_outlook_all_day_vacation_returns_the_morning_after() -> None:
    found = entries("outlook-anna.ics", "2026-07-01", "2026-08-01")
    assert [e for e in found if e.all_day] == [CalendarEntry(date(2026, 7, 6), date(2026, 7, 27), Reason.VACATION)]
    # The weekly meeting goes on in the calendar during the vacation: the vacation ends last.
    assert calendar_referral("soc1", found, local("2026-07-07 10:30")) == Referral(
        "soc1", Reason.VACATION, date(2026, 7, 27)
    )


def test_r11_outlook_free_event_sets_nothing_and_private_says_other() -> None:
    found = entries("outlook-anna.ics", "2026-04-15", "2026-04-17")
    assert found == (CalendarEntry(local("2026-04-15 14:00"), local("2026-04-15 15:00"), Reason.OTHER, private=True),)
    assert calendar_referral("soc1", found, local("2026-04-16 10:00")) is None  # the free meeting


def test_r11_google_x_wr_timezone_keeps_a_utc_weekly_meeting_at_local_time_over_march() -> None:
    found = timed(entries("google-erik.ics", "2026-03-01", "2026-04-30"))
    assert found == [
        ("2026-03-17 10:00", "11:00", Reason.MEETING),
        ("2026-03-24 10:00", "11:00", Reason.MEETING),
        ("2026-03-31 10:00", "11:00", Reason.MEETING),  # after the change: still 10:00 in Stockholm
        ("2026-04-07 10:00", "11:00", Reason.MEETING),
    ]


def test_r11_google_daily_course_over_october_rdate_private_and_cancelled() -> None:
    found = timed(entries("google-erik.ics", "2026-10-20", "2026-11-01"))
    assert found == [
        ("2026-10-23 08:30", "09:30", Reason.COURSE),
        ("2026-10-24 08:30", "09:30", Reason.COURSE),
        ("2026-10-25 08:30", "09:30", Reason.COURSE),  # the day the clocks go back
        ("2026-10-26 08:30", "09:30", Reason.COURSE),
        ("2026-10-26 12:30", "13:30", Reason.LUNCH),
        ("2026-10-27 08:30", "09:30", Reason.COURSE),
        ("2026-10-28 12:30", "13:30", Reason.LUNCH),  # RDATE
        ("2026-10-29 14:00", "15:00", Reason.OTHER),  # private: no subject
        # 30 October: cancelled
    ]


def test_r11_google_all_day_vacation_shown_as_free_still_counts() -> None:
    found = entries("google-erik.ics", "2026-08-01", "2026-08-31")
    assert found == (CalendarEntry(date(2026, 8, 3), date(2026, 8, 15), Reason.VACATION),)


def test_r11_a_windows_zone_name_without_its_vtimezone_is_understood() -> None:
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r\n"
        "BEGIN:VEVENT\r\nUID:w1\r\nDTSTART;TZID=W. Europe Standard Time:20261028T100000\r\n"
        "DTEND;TZID=W. Europe Standard Time:20261028T113000\r\nSUMMARY:Möte\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    (event,) = events_between(parse_calendars([text]), local("2026-10-28 00:00"), local("2026-10-29 00:00"), STOCKHOLM)
    assert isinstance(event.start, datetime) and isinstance(event.end, datetime)
    assert event.start == local("2026-10-28 10:00") and event.end - event.start == timedelta(minutes=90)


def test_r11_a_floating_time_is_read_on_the_configs_clock() -> None:
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:f1\r\nDTSTART:20261201T100000\r\n"
        "DURATION:PT45M\r\nSUMMARY:Lunch\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    (event,) = events_between(parse_calendars([text]), local("2026-12-01 00:00"), local("2026-12-02 00:00"), STOCKHOLM)
    assert (event.start, event.end) == (local("2026-12-01 10:00"), local("2026-12-01 10:45"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<html>Sign in</html>", "not iCalendar"),
        ("BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n", "not iCalendar"),
        ((FIXTURES / "malformed-truncated.ics").read_text(encoding="utf-8"), "not iCalendar"),
    ],
)
def test_r11_a_malformed_feed_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(FeedMalformed, match=message):
        events_between(parse_calendars([text]), local("2026-12-01 00:00"), local("2026-12-08 00:00"), STOCKHOLM)


def test_r11_a_broken_rrule_is_malformed() -> None:
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:r1\r\nDTSTART:20261201T100000Z\r\n"
        "DTEND:20261201T110000Z\r\nRRULE:FREQ=SOMETIMES\r\nSUMMARY:Möte\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    with pytest.raises(FeedMalformed):
        events_between(parse_calendars([text]), local("2026-12-01 00:00"), local("2026-12-08 00:00"), STOCKHOLM)
