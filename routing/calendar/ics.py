"""iCalendar text → the occurrences of its events in a window, each in its own time zone.

Recurrences (RRULE, RDATE, EXDATE, RECURRENCE-ID overrides) are expanded by
recurring-ical-events, in the event's own zone, so a weekly 10:00 meeting stays at 10:00 local
time across the daylight-saving changes. Google's X-WR-TIMEZONE (a calendar-wide zone for
floating times) is applied first with x-wr-timezone; icalendar itself understands Outlook's
Windows zone names ("W. Europe Standard Time") and the VTIMEZONEs Outlook writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import icalendar
import recurring_ical_events
import x_wr_timezone

from routing.calendar.errors import FeedMalformed
from routing.policy.calendar_referral import CalendarEvent

PRIVATE_CLASSES = frozenset({"PRIVATE", "CONFIDENTIAL"})


def parse_calendars(texts: Iterable[bytes | str]) -> list[icalendar.Calendar]:
    """Each text as a calendar (one feed; or each object of a CalDAV calendar)."""
    calendars = []
    for text in texts:
        try:
            parsed = icalendar.Calendar.from_ical(text)
        except Exception as exc:  # icalendar raises ValueError, KeyError, IndexError … on bad input
            raise FeedMalformed(f"not iCalendar: {_first_line(exc)}") from None
        if not isinstance(parsed, icalendar.Calendar) or parsed.name != "VCALENDAR":
            raise FeedMalformed("not iCalendar: no VCALENDAR")
        calendars.append(x_wr_timezone.to_standard(parsed))
    return calendars


def events_between(
    calendars: Iterable[icalendar.Calendar], start: datetime, end: datetime, zone: tzinfo
) -> list[CalendarEvent]:
    """The occurrences of every VEVENT that overlap [start, end). A floating time (no zone,
    no X-WR-TIMEZONE) is read on the config's clock, `zone`."""
    found: list[CalendarEvent] = []
    for calendar in calendars:
        try:
            occurrences = list(recurring_ical_events.of(calendar).between(start, end))
        except Exception as exc:  # a broken RRULE, an unknown zone, a date that is not one
            raise FeedMalformed(f"its events cannot be expanded: {_first_line(exc)}") from None
        for component in occurrences:
            if component.name != "VEVENT":
                continue
            found.append(_event(component, zone))
    return found


def _event(component: Any, zone: tzinfo) -> CalendarEvent:
    start = component.get("DTSTART")
    if start is None:
        raise FeedMalformed(f"an event without DTSTART (UID {component.get('UID', '?')})")
    begins = _with_zone(start.dt, zone)
    ends = _end(component, begins, zone)
    # Outlook writes its own free/busy (FREE, TENTATIVE, BUSY, OOF) next to TRANSP: where it is
    # there, it is the finer of the two; elsewhere TRANSP:TRANSPARENT means shown as free.
    busy_status = component.get("X-MICROSOFT-CDO-BUSYSTATUS")
    if busy_status is not None:
        free = str(busy_status).upper() == "FREE"
    else:
        free = str(component.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT"
    try:
        return CalendarEvent(
            begins,
            ends,
            str(component.get("SUMMARY", "")),
            private=str(component.get("CLASS", "PUBLIC")).upper() in PRIVATE_CLASSES,
            free=free,
            cancelled=str(component.get("STATUS", "")).upper() == "CANCELLED",
        )
    except ValueError as exc:
        raise FeedMalformed(f"event {component.get('UID', '?')}: {exc}") from None


def _end(component: Any, begins: datetime | date, zone: tzinfo) -> datetime | date:
    """DTEND, else DTSTART + DURATION, else (RFC 5545 3.6.1) the same moment, or one day for a date."""
    if component.get("DTEND") is not None:
        ends = _with_zone(component["DTEND"].dt, zone)
    elif component.get("DURATION") is not None:
        ends = begins + component["DURATION"].dt
    else:
        ends = begins if isinstance(begins, datetime) else begins + timedelta(days=1)
    if isinstance(begins, datetime) and not isinstance(ends, datetime):
        ends = datetime.combine(ends, datetime.min.time(), begins.tzinfo)
    return ends


def _with_zone(value: datetime | date, zone: tzinfo) -> datetime | date:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
