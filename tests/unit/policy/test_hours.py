"""R6–R9 hours on the local wall clock: range edges, Swedish holidays, DST switch days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from routing.config.hours import TimeRange, WeekSchedule, holiday_calendar
from routing.policy.hours import Calendar, OpenState, open_state

STHLM = ZoneInfo("Europe/Stockholm")
WORK = WeekSchedule.from_mapping({"mon-thu": "07:30-16:30", "fri": "07:30-15:00"})
PHONE = WeekSchedule.from_mapping({"mon-fri": "09:00-11:00"})
SE = Calendar(STHLM, holiday_calendar("SE", ("public", "de_facto")), frozenset({date(2026, 12, 28)}))


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=STHLM)


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        ("2026-12-01 07:29", False),
        ("2026-12-01 07:30", True),
        ("2026-12-01 16:29", True),
        ("2026-12-01 16:30", False),
        ("2026-12-04 14:59", True),  # Friday closes earlier
        ("2026-12-04 15:00", False),
        ("2026-12-05 10:00", False),  # Saturday
        ("2026-12-06 10:00", False),  # Sunday
    ],
)
def test_r6_working_hours_edges(when: str, is_open: bool) -> None:
    assert SE.is_open(WORK, local(when)) is is_open


@pytest.mark.parametrize(
    ("day", "name"),
    [
        ("2026-01-06", "Trettondedag jul"),
        ("2026-04-03", "Långfredagen"),
        ("2026-04-06", "Annandag påsk"),
        ("2026-05-01", "Första maj"),
        ("2026-05-14", "Kristi himmelsfärdsdag"),
        ("2026-06-19", "Midsommarafton"),  # de facto holiday
        ("2026-12-24", "Julafton"),
        ("2026-12-31", "Nyårsafton"),
        ("2027-01-06", "Trettondedag jul"),  # other years are computed as needed
    ],
)
def test_r6_swedish_holidays_are_closed(day: str, name: str) -> None:
    d = date.fromisoformat(day)
    if d.weekday() < 5:
        assert not SE.is_open(WORK, datetime.combine(d, datetime.min.time(), STHLM).replace(hour=10))
    assert SE.why_closed(d) == f"holiday: {name}"


def test_r6_sundays_are_left_to_the_weekly_hours() -> None:
    """The holidays package may count Sundays as holidays; a unit open on Sundays stays open."""
    sundays = WeekSchedule.from_mapping({"sun": "10:00-14:00"})
    assert SE.is_open(sundays, local("2026-11-29 11:00"))
    assert date(2026, 11, 29) not in SE.holidays


def test_r6_closed_day_and_special_hours() -> None:
    cal = Calendar(
        STHLM,
        holiday_calendar("SE", ("public",)),
        frozenset({date(2026, 12, 28)}),
        {date(2026, 12, 23): (TimeRange(450, 720),), date(2026, 12, 25): (TimeRange(600, 660),)},
    )
    assert not cal.is_open(WORK, local("2026-12-28 10:00"))
    assert cal.is_open(WORK, local("2026-12-23 11:59"))
    assert not cal.is_open(WORK, local("2026-12-23 12:00"))
    assert cal.is_open(WORK, local("2026-12-25 10:30"))  # special hours beat a holiday


def test_no_holiday_country() -> None:
    assert holiday_calendar(None, ("public",)) == {}


# DST: the EU switches on the last Sunday of March and of October at 01:00 UTC.
SEVEN_DAYS = WeekSchedule.from_mapping({"mon-sun": "02:00-08:00"})
NO_HOLIDAYS = Calendar(STHLM)


@pytest.mark.parametrize(
    ("utc", "is_open"),
    [
        ("2026-03-29T00:59", False),  # 01:59 CET: before 02:00
        ("2026-03-29T01:00", True),  # 03:00 CEST: the clock jumped over 02:00-03:00
        ("2026-03-29T05:59", True),  # 07:59 CEST
        ("2026-03-29T06:00", False),  # 08:00 CEST: a naive +1 h would still say open
        ("2026-10-25T00:00", True),  # 02:00 CEST
        ("2026-10-25T01:30", True),  # 02:30 CET, the repeated hour
        ("2026-10-25T06:59", True),  # 07:59 CET
        ("2026-10-25T07:00", False),  # 08:00 CET: a naive +2 h would say 09:00 long before
    ],
)
def test_r6_dst_switch_days_use_the_wall_clock(utc: str, is_open: bool) -> None:
    moment = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert NO_HOLIDAYS.is_open(SEVEN_DAYS, moment) is is_open


def test_r6_a_call_time_without_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        NO_HOLIDAYS.is_open(WORK, datetime(2026, 12, 1, 10, 0))


@pytest.mark.parametrize(
    ("when", "internal", "expected"),
    [
        ("2026-12-01 08:59", False, OpenState.PHONE_HOURS_CLOSED),
        ("2026-12-01 09:00", False, OpenState.OPEN),
        ("2026-12-01 10:59", False, OpenState.OPEN),
        ("2026-12-01 11:00", False, OpenState.PHONE_HOURS_CLOSED),
        ("2026-12-01 16:30", False, OpenState.CLOSED),
        ("2026-12-01 13:00", True, OpenState.OPEN),  # R7
        ("2026-12-06 13:00", True, OpenState.OPEN),  # R7: internal calls ring
    ],
)
def test_r7_r8_open_state_edges(when: str, internal: bool, expected: OpenState) -> None:
    assert open_state(SE, WORK, PHONE, local(when), internal=internal) is expected


def test_every_minute_of_a_week_is_decided() -> None:
    start = local("2026-11-30 00:00")
    minutes_open = sum(SE.is_open(WORK, start + timedelta(minutes=m)) for m in range(7 * 24 * 60))
    assert minutes_open == 4 * 540 + 450
