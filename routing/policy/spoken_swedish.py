"""Every Swedish phrase a caller or an employee hears (spoken with a TTS engine where nobody
has recorded the message): the one place to read or change what the phones say."""

from __future__ import annotations

from datetime import date, datetime

from routing.config.hours import WeekSchedule
from routing.policy.referral import Reason, Referral

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


def national_number(number: str) -> str:
    """+46 written the Swedish way: '+46701234567' -> '0701234567' (as the switchboard says it)."""
    return "0" + number[3:] if number.startswith("+46") else number


def phone_number(number: str) -> str:
    """Digits read one by one, +46 written the Swedish way: '0 7 0 1 2 3 4 5 6 7'."""
    return " ".join(national_number(number))


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


# -- what callers hear -----------------------------------------------------------------------

CALLBACK_OFFER = "Vill du bli uppringd? Tryck {digit}. Annars kan du lämna ett meddelande efter tonen."  # R4
CALLBACK_CONFIRMATION = "Tack. Vi ringer upp dig så snart vi kan."  # R4

REASONS: dict[Reason, str] = {  # R11: why the person cannot answer
    Reason.LUNCH: "är på lunch",
    Reason.MEETING: "sitter i möte",
    Reason.ERRAND: "är ute i tjänsteärende",
    Reason.SICK: "är sjuk",
    Reason.VACATION: "har semester",
    Reason.COURSE: "är på kurs",
    Reason.PARENTAL_LEAVE: "är föräldraledig",
    Reason.OTHER: "är inte på plats",
}


def referral_message(name: str, referral: Referral, mobile: str | None, now: datetime) -> str:
    """R11 who, why and back when; R15 the mobile number wherever there is one."""
    text = f"{name} {REASONS[referral.reason]}"
    if referral.until is not None:
        text += f" och är tillbaka {back_at(referral.until, now)}"
    text += "."
    if mobile:
        text += f" Mobilnummer: {phone_number(mobile)}."
    return text


def telephone_hours_announcement(unit_name: str, hours: WeekSchedule) -> str:
    """R9: inside working hours, outside the unit's telephone hours; the duty phone follows (R8)."""
    return f"Du har ringt {unit_name}. Vår telefontid är {weekly_hours(hours)}. Du kopplas nu till vår jourtelefon."


def closed_announcement(unit_name: str, working_hours: WeekSchedule) -> str:
    """R6/R9: outside working hours."""
    return f"Du har ringt {unit_name}. Vi har stängt just nu. Vi har öppet {weekly_hours(working_hours)}."


def mobile_guard(name: str) -> str:
    """R14: heard by whoever answers the approved mobile, before the caller is connected."""
    return f"Samtal till {name}. Tryck 1 för att ta emot samtalet."


# -- what employees hear at their phones (feature codes, calls out) ----------------------------

FEATURE_REFUSED = "Koden kunde inte tolkas. Ingenting har ändrats."
FEATURE_UNKNOWN_PHONE = "Din anknytning finns inte i katalogen. Ingenting har ändrats."
REFERRAL_CLEARED = "Hänvisningen är borttagen. Dina samtal kopplas till dig igen."
REFERRAL_NOT_SAVED = "Hänvisningen kunde inte sparas. Försök igen eller kontakta växeln."


def referral_registered(referral_text: str) -> str:
    return f"Hänvisning registrerad. {referral_text}"


PROBE = "Test."  # the probe call of `routing doctor`, heard by nobody: proves a prompt plays

PREMIUM_RATE_REFUSED = "Samtal till betalnummer är spärrade från kommunens telefoner. Samtalet kopplas inte."  # R18
NOT_A_NUMBER = "Numret kan inte ringas. Kontrollera numret och försök igen."
