"""Referral feature codes dialled from a phone (R11): *21 + reason digit + optional return.

    *21R            referral with reason R, until cleared
    *21RHHMM        … back at HH:MM (today, or tomorrow if that time has passed)
    *21RMMDD        … for sick, vacation, course, parental leave: back on that date
    *21R*MMDD       … back on that date, for any reason
    #21             clear my referral

Reason digits: 1 lunch, 2 meeting, 3 errand (tjänsteärende), 4 sick, 5 vacation, 6 course,
7 parental leave, 8 other. Pure: the moment of dialling is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from routing.policy.referral import Reason, Referral

REASON_DIGITS: dict[str, Reason] = {
    "1": Reason.LUNCH,
    "2": Reason.MEETING,
    "3": Reason.ERRAND,
    "4": Reason.SICK,
    "5": Reason.VACATION,
    "6": Reason.COURSE,
    "7": Reason.PARENTAL_LEAVE,
    "8": Reason.OTHER,
}
# Absences counted in days: their four digits are a date (MMDD), the others' a time (HHMM).
_DAY_REASONS = frozenset({Reason.SICK, Reason.VACATION, Reason.COURSE, Reason.PARENTAL_LEAVE})
MAX_DAYS_AHEAD = 366


class FeatureCodeError(ValueError):
    """A malformed code: nothing changes, the caller hears a refusal (logged as feature.refused)."""


@dataclass(frozen=True)
class SetReferral:
    referral: Referral


@dataclass(frozen=True)
class ClearReferral:
    person: str


FeatureAction = SetReferral | ClearReferral


def parse_feature_code(
    dialled: str, *, person: str, now: datetime, set_code: str = "*21", clear_code: str = "#21"
) -> FeatureAction:
    """What a dialled feature code asks for; FeatureCodeError says what is wrong with it."""
    if dialled == clear_code:
        return ClearReferral(person)
    if not dialled.startswith(set_code):
        raise FeatureCodeError(f"'{dialled}' is not a referral code")
    rest = dialled[len(set_code) :]
    if not rest:
        raise FeatureCodeError("the reason digit is missing")
    reason = REASON_DIGITS.get(rest[0])
    if reason is None:
        raise FeatureCodeError(f"'{rest[0]}' is not a reason digit (1–8)")
    tail = rest[1:]
    if not tail:
        return SetReferral(Referral(person, reason))
    force_date = tail.startswith("*")
    digits = tail[1:] if force_date else tail
    if len(digits) != 4 or not digits.isdigit():
        raise FeatureCodeError(f"'{tail}' is not a return time HHMM or date MMDD")
    if force_date or reason in _DAY_REASONS:
        return SetReferral(Referral(person, reason, _return_date(digits, now)))
    return SetReferral(Referral(person, reason, _return_time(digits, now)))


def _return_time(digits: str, now: datetime) -> datetime:
    hour, minute = int(digits[:2]), int(digits[2:])
    if hour > 23 or minute > 59:
        raise FeatureCodeError(f"{digits[:2]}:{digits[2:]} is not a time")
    moment = datetime.combine(now.date(), time(hour, minute), now.tzinfo)
    if moment <= now:
        moment = datetime.combine(now.date() + timedelta(days=1), time(hour, minute), now.tzinfo)
    return moment


def _return_date(digits: str, now: datetime) -> date:
    month, day = int(digits[:2]), int(digits[2:])
    for year in (now.year, now.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate > now.date():
            if (candidate - now.date()).days > MAX_DAYS_AHEAD:
                break
            return candidate
    raise FeatureCodeError(f"{digits[2:]}/{digits[:2]} is not a coming date")
