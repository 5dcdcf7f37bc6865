"""People's calendars (#15), an adapter: reads iCalendar feeds (a URL or a file) and CalDAV
calendars, and turns them into the policy's CalendarEvents, recurrences expanded. What an
event means for calls is decided in routing.policy.calendar_referral.

- `ics.py`: iCalendar text → the occurrences in a window (icalendar, recurring-ical-events,
  x-wr-timezone), loaded at the first feed read, not with the service.
- `feeds.py`: reading a person's feed (HTTP with aiohttp, a file or CalDAV off the event
  loop).
- `errors.py`: `FeedUnreachable` (why a feed could not be read) and `FeedMalformed` (what is
  wrong with one that was).
"""
