"""Referrals (hänvisning, R11) and what the caller is told (R15: the mobile number too)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from routing.policy import spoken_swedish


class Reason(StrEnum):
    """Why a person cannot answer; the values are what admins and the CLI write."""

    LUNCH = "lunch"
    MEETING = "meeting"
    ERRAND = "errand"  # tjänsteärende: out on duty
    SICK = "sick"
    VACATION = "vacation"
    COURSE = "course"
    PARENTAL_LEAVE = "parental_leave"
    OTHER = "other"


_SPOKEN: dict[Reason, str] = {
    Reason.LUNCH: "är på lunch",
    Reason.MEETING: "sitter i möte",
    Reason.ERRAND: "är ute i tjänsteärende",
    Reason.SICK: "är sjuk",
    Reason.VACATION: "har semester",
    Reason.COURSE: "är på kurs",
    Reason.PARENTAL_LEAVE: "är föräldraledig",
    Reason.OTHER: "är inte på plats",
}


@dataclass(frozen=True)
class Referral:
    """A person's referral: active until `until` (a moment, or the date they are back)."""

    person: str
    reason: Reason
    until: datetime | date | None = None

    def __post_init__(self) -> None:
        if isinstance(self.until, datetime) and self.until.tzinfo is None:
            raise ValueError("a referral's return time must carry its time zone")

    def active_at(self, at: datetime) -> bool:
        """R11: in force until the return moment; a return date means back that morning."""
        if self.until is None:
            return True
        if isinstance(self.until, datetime):
            return at < self.until
        return at.date() < self.until


def referral_text(name: str, referral: Referral, mobile: str | None, now: datetime) -> str:
    """R11 who, why and back when; R15 the mobile number wherever there is one."""
    text = f"{name} {_SPOKEN[referral.reason]}"
    if referral.until is not None:
        text += f" och är tillbaka {spoken_swedish.back_at(referral.until, now)}"
    text += "."
    if mobile:
        text += f" Mobilnummer: {spoken_swedish.phone_number(mobile)}."
    return text
