"""Referrals from a person's calendar (R11, issue #15): what an event means for calls, which
referral a calendar puts in force at a moment, and how it ranks against one set by hand.

Pure: the events come in already read and their recurrences expanded (routing.calendar), and
the moment is passed in.

What an event means:
- Its subject's first word names the reason, in Swedish or English (möte/meeting, lunch,
  tjänsteärende/errand, sjuk/sick, semester/vacation, kurs/course, föräldraledig/parental
  leave), or it is one of the phone codes' digits 1–8 (README "From the phones"): the person
  has a referral with that reason until the event's end; an all-day event gives a return date
  (its end date: back that morning).
- A timed event shown as free (TRANSP:TRANSPARENT, Outlook's "free") sets no referral. An
  all-day event is shown as free by default in Google Calendar and Outlook, so there its
  free/busy says nothing: an all-day event whose subject names a reason sets the referral
  even when shown as free.
- A private event (CLASS:PRIVATE or CONFIDENTIAL) that is busy sets a referral whose reason is
  `other` ("är inte på plats") until its end: its subject is never read, not even for a reason
  word, so nothing the owner marked private reaches a caller (R12). The Reason values stay as
  they are, since every reason must also be settable from a phone.
- Any other event (a busy event whose subject names no reason) sets nothing: a calendar full
  of ordinary appointments does not close a phone.

Which referral is in force: of the events in force at the moment, the one ending last gives
the reason; the return is the end of the run of referral events that follow it without a gap
(a meeting until 10 and another from 10 to 11: back at 11), so a caller is never told a return
time at which the person is still away.

Precedence: a referral set by hand (phone code, CLI, switchboard) beats the calendar while it
lasts; once it ends or is cleared, the calendar's is in force again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from routing.policy.feature_codes import REASON_DIGITS
from routing.policy.referral import Reason, Referral

# The first word of a subject, lower-cased, and what it says (R11). Inflected forms people
# write in Swedish subjects ("Mötet med …", "Kursen …") count as the word.
REASON_WORDS: dict[str, Reason] = {
    "möte": Reason.MEETING,
    "mötet": Reason.MEETING,
    "möten": Reason.MEETING,
    "meeting": Reason.MEETING,
    "lunch": Reason.LUNCH,
    "tjänsteärende": Reason.ERRAND,
    "tjänsteärenden": Reason.ERRAND,
    "errand": Reason.ERRAND,
    "sjuk": Reason.SICK,
    "sjukskriven": Reason.SICK,
    "sick": Reason.SICK,
    "semester": Reason.VACATION,
    "vacation": Reason.VACATION,
    "kurs": Reason.COURSE,
    "kursen": Reason.COURSE,
    "course": Reason.COURSE,
    "föräldraledig": Reason.PARENTAL_LEAVE,
    "föräldraledighet": Reason.PARENTAL_LEAVE,
}
# Two-word reasons, matched on the subject's first two words.
REASON_PHRASES: dict[tuple[str, str], Reason] = {("parental", "leave"): Reason.PARENTAL_LEAVE}
# What separates the reason from the rest of a subject: "Möte: budget", "2 - Ledningsgrupp".
_WORD = re.compile(r"[^\s:;,.!?()\[\]/–—-]+")

# R12: what a private event says instead of its subject.
PRIVATE_REASON = Reason.OTHER
# How far ahead the switchboard is warned of a meeting (Soluno's "starts within the hour").
WARN_WITHIN = timedelta(hours=1)


@dataclass(frozen=True)
class CalendarEvent:
    """One occurrence of an event as a feed gives it (a recurring event's occurrences each one).

    `start`/`end`: aware datetimes, or dates for an all-day event (`end` exclusive, as in
    iCalendar)."""

    start: datetime | date
    end: datetime | date
    subject: str
    private: bool = False  # CLASS:PRIVATE or CONFIDENTIAL
    free: bool = False  # TRANSP:TRANSPARENT: shown as free
    cancelled: bool = False  # STATUS:CANCELLED

    def __post_init__(self) -> None:
        for moment in (self.start, self.end):
            if isinstance(moment, datetime) and moment.tzinfo is None:
                raise ValueError("a calendar event's start and end must carry their time zone")
        if isinstance(self.start, datetime) != isinstance(self.end, datetime):
            raise ValueError("a calendar event is either all-day (dates) or timed (datetimes), not both")


@dataclass(frozen=True)
class CalendarEntry:
    """What an event means for calls: the person is away with `reason` from `start` to `end`.
    Keeps no subject (R12): this is all the service stores and shows of a calendar."""

    start: datetime | date
    end: datetime | date
    reason: Reason
    private: bool = False  # the reason is PRIVATE_REASON because the event is private

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)


@dataclass(frozen=True)
class SyncedCalendar:
    """A person's calendar as last read: its referral events and when the read succeeded."""

    entries: tuple[CalendarEntry, ...]
    synced_at: datetime

    def fresh_at(self, at: datetime, keep: timedelta) -> bool:
        """Still used at `at`: a feed that fails keeps its last good events only this long."""
        return at - self.synced_at <= keep


@dataclass(frozen=True)
class Upcoming:
    """The switchboard's warning: a referral event starts within the hour."""

    reason: Reason
    starts_at: datetime
    minutes: int
    private: bool = False


def reason_of(subject: str) -> Reason | None:
    """R11: the reason a subject's first word (or phone code digit) names, or None."""
    words = [w.lower() for w in _WORD.findall(subject)[:2]]
    if not words:
        return None
    if len(words) == 2 and (words[0], words[1]) in REASON_PHRASES:
        return REASON_PHRASES[(words[0], words[1])]
    first = words[0]
    if first in REASON_DIGITS:
        return REASON_DIGITS[first]
    return REASON_WORDS.get(first)


def entry_of(event: CalendarEvent) -> CalendarEntry | None:
    """R11/R12: what one event means for calls (see the module's docstring), or None."""
    if event.cancelled:
        return None
    all_day = not isinstance(event.start, datetime)
    if event.private:
        return None if event.free else CalendarEntry(event.start, event.end, PRIVATE_REASON, private=True)
    if event.free and not all_day:
        return None
    reason = reason_of(event.subject)
    if reason is None:
        return None
    return CalendarEntry(event.start, event.end, reason)


def entries_of(events: Iterable[CalendarEvent]) -> tuple[CalendarEntry, ...]:
    """The referral-making events, in order of start (an empty end is dropped: it is never in force)."""
    found = [entry for event in events if (entry := entry_of(event)) is not None]
    # Ordered for reading only (all-day dates placed at UTC midnight); every decision below
    # compares moments in the zone of the moment asked.
    return tuple(
        sorted(
            (e for e in found if _moment(e.end, UTC) > _moment(e.start, UTC)),
            key=lambda e: (_moment(e.start, UTC), _moment(e.end, UTC)),
        )
    )


def _moment(when: datetime | date, zone: tzinfo | None) -> datetime:
    """An all-day event's date as the local midnight it begins (in the zone of the moment asked)."""
    if isinstance(when, datetime):
        return when
    return datetime.combine(when, datetime.min.time(), zone)


def calendar_referral(person: str, entries: Sequence[CalendarEntry], at: datetime) -> Referral | None:
    """R11: the referral `person`'s calendar puts in force at `at`, or None. `at` is on the
    config's local clock: an all-day event covers that zone's day."""
    zone = at.tzinfo
    in_force = [e for e in entries if _moment(e.start, zone) <= at < _moment(e.end, zone)]
    if not in_force:
        return None
    current = max(in_force, key=lambda e: _moment(e.end, zone))
    until: datetime | date = current.end
    # Follow the run of referral events without a gap: the return is when the last one ends.
    extended = True
    while extended:
        extended = False
        for entry in entries:
            start, end = _moment(entry.start, zone), _moment(entry.end, zone)
            if start <= _moment(until, zone) < end:
                until = entry.end
                extended = True
    return Referral(person, current.reason, until)


def upcoming(entries: Sequence[CalendarEntry], at: datetime, within: timedelta = WARN_WITHIN) -> Upcoming | None:
    """The first referral event that starts after `at` and within `within` (the warning)."""
    zone = at.tzinfo
    soon = [e for e in entries if at < _moment(e.start, zone) <= at + within]
    if not soon:
        return None
    first = min(soon, key=lambda e: _moment(e.start, zone))
    starts = _moment(first.start, zone)
    minutes = -(-int((starts - at).total_seconds()) // 60)  # rounded up: "in 1 min", never "in 0 min"
    return Upcoming(first.reason, starts, minutes, first.private)


def in_force(manual: Referral | None, calendar: Referral | None, at: datetime) -> Referral | None:
    """Precedence (R11): a referral set by hand beats the calendar while it lasts; when it
    has ended (or was cleared: None), the calendar's is in force."""
    if manual is not None and manual.active_at(at):
        return manual
    if calendar is not None and calendar.active_at(at):
        return calendar
    return None


def calendar_referrals(calendars: Mapping[str, Sequence[CalendarEntry]], at: datetime) -> dict[str, Referral]:
    """Every person's calendar referral in force at `at` (people without one left out)."""
    return {
        person: referral
        for person, entries in calendars.items()
        if (referral := calendar_referral(person, entries, at)) is not None
    }


def next_change(calendars: Mapping[str, Sequence[CalendarEntry]], at: datetime) -> datetime | None:
    """The first moment after `at` at which an event starts or ends: until then
    calendar_referrals(calendars, at) stays as it is (the service computes it once, not per call)."""
    zone = at.tzinfo
    moments = [
        moment
        for entries in calendars.values()
        for entry in entries
        for moment in (_moment(entry.start, zone), _moment(entry.end, zone))
        if moment > at
    ]
    return min(moments, default=None)


def merged_referrals(
    manual: Mapping[str, Referral], calendar: Mapping[str, Referral], at: datetime
) -> dict[str, Referral]:
    """Every person's referral at `at`: the manual ones (kept as they are, also when ended, so
    the store's view is unchanged) overlaid by the calendar's where no manual one is in force."""
    merged = dict(manual)
    for person, from_calendar in calendar.items():
        chosen = in_force(manual.get(person), from_calendar, at)
        if chosen is not None:
            merged[person] = chosen
    return merged
