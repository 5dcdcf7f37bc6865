"""R4: callbacks open longer than the limit in working hours are overdue."""

from __future__ import annotations

import pytest

from routing.config.hours import WeekSchedule
from routing.policy.followup import OpenCallback, overdue_callbacks
from routing.policy.hours import Calendar, working_seconds_between
from tests.unit.policy.builders import STOCKHOLM, at, config, directory

WORK = WeekSchedule.from_mapping({"mon-thu": "07:30-16:30", "fri": "07:30-15:00"})


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        ("2026-12-01 10:00", "2026-12-01 14:00", 4.0),
        ("2026-12-01 06:00", "2026-12-01 08:00", 0.5),
        ("2026-12-04 14:00", "2026-12-07 09:00", 2.5),  # Friday afternoon to Monday morning
        ("2026-12-05 10:00", "2026-12-06 20:00", 0.0),  # the weekend
        ("2026-12-01 16:00", "2026-12-02 08:00", 1.0),  # evening and night do not count
        ("2026-12-02 10:00", "2026-12-01 10:00", 0.0),
    ],
)
def test_r4_working_hours_between(start: str, end: str, hours: float) -> None:
    assert working_seconds_between(Calendar(STOCKHOLM), WORK, at(start), at(end)) / 3600 == hours


def test_r4_overdue_after_the_limit_in_working_hours() -> None:
    d = directory(config(follow_up={"callback_within": "4h"}))
    callbacks = [
        OpenCallback(1, "soc1", at("2026-12-01 09:00")),  # 5.5 working hours by 14:30
        OpenCallback(2, "soc2", at("2026-12-01 11:00")),  # 3.5
        OpenCallback(3, "kc", at("2026-11-30 16:00")),  # 0.5 on Monday + 7 on Tuesday
    ]
    overdue = overdue_callbacks(d, callbacks, at("2026-12-01 14:30"))
    assert [(o.id, o.working_hours_open) for o in overdue] == [(1, 5.5), (3, 7.5)]
