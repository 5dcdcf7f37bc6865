"""Referrals (hänvisning, R11): who is away, why, and until when; what the caller is told is
spoken_swedish.referral_message (R15: the mobile number too)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum


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


def parse_until(text: str, now: datetime) -> datetime | date:
    """R11: when someone is back, as staff type it (phone codes, CLI, the switchboard): '13:00'
    (today, or tomorrow once that time has passed) or '2026-12-07'."""
    if ":" in text:
        try:
            clock = time.fromisoformat(text)
        except ValueError:
            raise ValueError(f"'{text}' is not a time HH:MM") from None
        moment = datetime.combine(now.date(), clock, now.tzinfo)
        return moment if moment > now else moment + timedelta(days=1)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a date YYYY-MM-DD") from None


def parse_reason(text: str) -> Reason:
    try:
        return Reason(text)
    except ValueError:
        reasons = ", ".join(r.value for r in Reason)
        raise ValueError(f"'{text}' is not a reason: use one of {reasons}") from None
