"""Swedish phrases for messages that nobody has recorded yet (spoken with a TTS engine)."""

from __future__ import annotations

from datetime import date, datetime

from routing.config.hours import WeekSchedule

_DAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
_MONTHS = (
    "januari", "februari", "mars", "april", "maj", "juni",
    "juli", "augusti", "september", "oktober", "november", "december",
)  # fmt: skip


def clock(minute: int) -> str:
    """Minutes after midnight as Swedes say them on the phone: "9", "7.30", "16.30"."""
    hour, rest = divmod(minute, 60)
    return f"{hour}" if rest == 0 else f"{hour}.{rest:02d}"


def day_and_month(day: date) -> str:
    return f"{_DAYS[day.weekday()]} den {day.day} {_MONTHS[day.month - 1]}"


def back_at(until: datetime | date, now: datetime) -> str:
    """'klockan 13.00', 'i morgon klockan 8', or 'måndag den 7 december'."""
    if isinstance(until, datetime):
        at = until.astimezone(now.tzinfo)
        when = f"klockan {clock(at.hour * 60 + at.minute)}"
        if at.date() == now.date():
            return when
        if (at.date() - now.date()).days == 1:
            return f"i morgon {when}"
        return f"{day_and_month(at.date())} {when}"
    return day_and_month(until)


def phone_number(number: str) -> str:
    """Digits read one by one, +46 written the Swedish way: '0 7 0, 1 2 3, 4 5, 6 7'."""
    national = "0" + number[3:] if number.startswith("+46") else number
    digits = " ".join(national)
    return digits


def weekly_hours(schedule: WeekSchedule) -> str:
    """'måndag till fredag klockan 9 till 11' – consecutive days with equal hours joined."""
    parts: list[str] = []
    day = 0
    while day < 7:
        ranges = schedule.days[day]
        last = day
        while last + 1 < 7 and schedule.days[last + 1] == ranges:
            last += 1
        if ranges:
            days = _DAYS[day] if last == day else f"{_DAYS[day]} till {_DAYS[last]}"
            times = " och ".join(f"{clock(r.start)} till {clock(r.end)}" for r in ranges)
            parts.append(f"{days} klockan {times}")
        day = last + 1
    if not parts:
        return "inga tider"
    return ", ".join(parts[:-1]) + (" och " if len(parts) > 1 else "") + parts[-1]
