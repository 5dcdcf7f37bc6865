"""The config's hours syntax: day keys, time ranges, lists and `closed`, with an admin's message
for each mistake."""

from __future__ import annotations

import pytest

from routing.config.hours import TimeRange, WeekSchedule, parse_day_hours, parse_day_key, parse_time_range


def test_week_schedule_parses_lists_and_closed() -> None:
    week = WeekSchedule.from_mapping({"mon": ["13:00-14:00", "08:00-10:00"], "tue": "closed", "wed": "00:00-24:00"})
    assert week.days[0] == (TimeRange(480, 600), TimeRange(780, 840))
    assert week.days[1] == ()
    assert week.is_open(2, 24 * 60 - 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9-17", "'9-17' is not a time range: write it as HH:MM-HH:MM, e.g. 07:30-16:30"),
        ("25:00-26:00", "'25:00-26:00': start time 25:00 does not exist"),
        ("07:60-08:00", "'07:60-08:00': start time 07:60 does not exist"),
        ("16:30-07:30", "'16:30-07:30': the end must come after the start (ranges do not cross midnight)"),
        ("24:00-24:00", "'24:00-24:00': a range cannot start at 24:00"),
    ],
)
def test_bad_time_ranges(text: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_time_range(text)
    assert str(error.value) == message


def test_bad_day_keys_and_overlaps() -> None:
    with pytest.raises(ValueError, match="'fri-mon': a day range runs forward"):
        parse_day_key("fri-mon")
    with pytest.raises(ValueError, match="'tues' is not a day"):
        parse_day_key("tues")
    with pytest.raises(ValueError, match="overlap"):
        parse_day_hours(["08:00-10:00", "09:00-11:00"])
    with pytest.raises(ValueError, match="wed is given twice"):
        WeekSchedule.from_mapping({"mon-fri": "08:00-10:00", "wed": "09:00-11:00"})
