"""People's calendars in the running service (#15, R11): a round that reads every feed in the
background, and what a call reads of it — never a feed, only what the last round left.

- `CalendarBook` holds each person's last good read (in memory, and in the store for the other
  instances and the commands). Calls ask it for the calendar referrals in force; it works them
  out once and again only when an event starts or ends, so a call pays a dictionary look-up.
- `CalendarReferrals` is the ReferralStore the router and the feature codes use: the store's
  referrals with the calendar's laid under them (a referral set by hand wins while it lasts).
- `CalendarSync` reads the feeds every `calendar_sync.every_minutes`. A feed that cannot be read
  keeps its last good events for `calendar_sync.keep_hours` (`calendar.unreachable` once per
  outage, `calendar.recovered` after); one that is malformed is logged with the person and the
  reason and changes nothing.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import structlog

from routing.calendar.errors import FeedMalformed, FeedUnreachable
from routing.calendar.feeds import describe, read_events
from routing.calllog.events import LogId
from routing.config.schema import Config, Person, PersonCalendar
from routing.policy.calendar_referral import (
    CalendarEvent,
    SyncedCalendar,
    calendar_referrals,
    entries_of,
    merged_referrals,
    next_change,
)
from routing.policy.referral import Referral
from routing.policy.state import RoutingState
from routing.service.referrals import ReferralStore
from routing.store.base import Store, StoreError
from routing.store.io import store_io

log = structlog.get_logger("routing.calendar")

READ_BEHIND = timedelta(days=1)  # events that began before the read and still run
READ_AHEAD = timedelta(days=8)  # past calendar_sync.keep_hours (a week at most) plus a day
PARALLEL_READS = 8

Reader = Callable[[PersonCalendar, datetime, datetime, tzinfo], Awaitable[list[CalendarEvent]]]


class CalendarBook:
    """Each person's last good read, and the calendar referrals in force, worked out once per
    change. Read from calls (the loop, or a store thread) and written by the sync: locked."""

    def __init__(self, keep: timedelta) -> None:
        self.keep = keep
        self._calendars: dict[str, SyncedCalendar] = {}
        self._lock = threading.Lock()
        # (computed at, valid until, referrals): valid while no event starts or ends in between
        self._cached: tuple[datetime, datetime | None, dict[str, Referral]] | None = None

    def put(self, person: str, calendar: SyncedCalendar) -> None:
        with self._lock:
            self._calendars[person] = calendar
            self._cached = None

    def drop(self, person: str) -> None:
        with self._lock:
            if self._calendars.pop(person, None) is not None:
                self._cached = None

    def calendars(self) -> dict[str, SyncedCalendar]:
        with self._lock:
            return dict(self._calendars)

    def fresh(self, at: datetime) -> dict[str, SyncedCalendar]:
        """The reads still in use at `at` (a failing feed's last good one, for `keep`)."""
        with self._lock:
            return {p: c for p, c in self._calendars.items() if c.fresh_at(at, self.keep)}

    def referrals_at(self, at: datetime) -> dict[str, Referral]:
        """The calendar referrals in force at `at` (from fresh reads only)."""
        with self._lock:
            cached = self._cached
            if cached is not None and cached[0] <= at and (cached[1] is None or at < cached[1]):
                return cached[2]
            fresh = {p: c for p, c in self._calendars.items() if c.fresh_at(at, self.keep)}
            entries = {p: c.entries for p, c in fresh.items()}
            referrals = calendar_referrals(entries, at)
            changes = [m for m in (next_change(entries, at),) if m is not None]
            # A read going stale is a change too: its events stop counting then.
            changes += [c.synced_at + self.keep for c in fresh.values()]
            self._cached = (at, min(changes, default=None), referrals)
            return referrals


class CalendarReferrals:
    """The store's referrals with the calendar's under them (R11 precedence: by hand wins)."""

    def __init__(self, inner: ReferralStore, book: CalendarBook, clock: Callable[[], datetime]) -> None:
        self._inner = inner
        self._book = book
        self._clock = clock
        # The store's reads go off the loop when it is a network away (store_io reads this).
        self.io_off_loop = bool(getattr(inner, "io_off_loop", False))

    def set_referral(self, referral: Referral, *, at: datetime, by: str) -> None:
        self._inner.set_referral(referral, at=at, by=by)

    def clear_referral(self, person: str) -> bool:
        return self._inner.clear_referral(person)

    def snapshot(self) -> RoutingState:
        state = self._inner.snapshot()
        now = self._clock()
        from_calendar = self._book.referrals_at(now)
        if not from_calendar:
            return state
        return replace(state, referrals=merged_referrals(state.referrals, from_calendar, now))


class CalendarSync:
    """The round that reads every person's feed (see the module's docstring)."""

    def __init__(
        self,
        config: Callable[[], Config],
        book: CalendarBook,
        store: Store,
        clock: Callable[[], datetime],
        read: Reader = read_events,
    ) -> None:
        self._config = config
        self._book = book
        self._store = store
        self._clock = clock
        self._read = read
        self._failing: dict[str, tuple[str, datetime]] = {}  # person → (what was logged, since)
        self._expired: set[str] = set()

    async def load(self) -> None:
        """At start: the last good reads from the store (another instance's, or this one's before a
        restart), so a feed down at start still counts for what is left of calendar_sync.keep_hours."""
        try:
            stored = await store_io(self._store, self._store.calendars)
        except StoreError as exc:
            log.error(exc.log_id, error=str(exc), what="calendars start empty until their feeds are read")
            return
        configured = {p.id for p in self._config().people if p.calendar is not None}
        for person, calendar in stored.items():
            if person in configured:
                self._book.put(person, calendar)

    async def run(self) -> None:
        await self.load()
        while True:
            await self.sync_once()
            await asyncio.sleep(self._config().calendar_sync.every_minutes * 60)

    async def sync_once(self) -> None:
        config = self._config()
        self._book.keep = timedelta(hours=config.calendar_sync.keep_hours)
        people = [p for p in config.people if p.calendar is not None]
        await self._forget_unconfigured({p.id for p in people})
        zone = ZoneInfo(config.timezone)
        limit = asyncio.Semaphore(PARALLEL_READS)

        async def one(person: Person) -> None:
            async with limit:
                await self.sync_person(person, zone)

        await asyncio.gather(*(one(p) for p in people))
        self._expire()

    async def sync_person(self, person: Person, zone: tzinfo) -> None:
        assert person.calendar is not None
        now = self._clock()
        feed = describe(person.calendar)
        try:
            events = await self._read(person.calendar, now - READ_BEHIND, now + READ_AHEAD, zone)
            entries = await asyncio.to_thread(entries_of, events)
        except FeedUnreachable as exc:
            self._failed(person.id, LogId.CALENDAR_UNREACHABLE, feed, str(exc), now)
            return
        except FeedMalformed as exc:
            self._failed(person.id, LogId.CALENDAR_MALFORMED, feed, str(exc), now)
            return
        calendar = SyncedCalendar(entries, now)
        self._book.put(person.id, calendar)
        self._expired.discard(person.id)
        try:
            await store_io(self._store, lambda: self._store.save_calendar(person.id, calendar))
        except StoreError as exc:  # calls still see it (the book); other instances and commands do not yet
            log.error(exc.log_id, error=str(exc), what=f"calendar of {person.id} kept in memory only")
        failed = self._failing.pop(person.id, None)
        if failed is not None:
            log.info(
                LogId.CALENDAR_RECOVERED,
                person=person.id,
                feed=feed,
                failing_s=round((now - failed[1]).total_seconds()),
            )
        log.debug(LogId.CALENDAR_SYNCED, person=person.id, feed=feed, referral_events=len(entries))

    def _failed(self, person: str, log_id: LogId, feed: str, reason: str, now: datetime) -> None:
        """Logged once per outage (unreachable), or once per distinct reason (malformed)."""
        previous = self._failing.get(person)
        what = f"{log_id}: {reason}" if log_id is LogId.CALENDAR_MALFORMED else str(log_id)
        if previous is not None and previous[0] == what:
            return
        self._failing[person] = (what, previous[1] if previous is not None else now)
        kept = self._book.calendars().get(person)
        fields = {
            "person": person,
            "feed": feed,
            "error": reason,
            "kept_events_from": kept.synced_at.isoformat() if kept is not None else None,
        }
        if log_id is LogId.CALENDAR_MALFORMED:
            log.error(log_id, **fields)
        else:
            log.warning(log_id, **fields)

    def _expire(self) -> None:
        """A failing feed's last good events stop counting after keep_hours (the book leaves
        them out by itself); said once."""
        now = self._clock()
        for person, calendar in self._book.calendars().items():
            if not calendar.fresh_at(now, self._book.keep) and person not in self._expired:
                self._expired.add(person)
                log.warning(LogId.CALENDAR_EXPIRED, person=person, synced_at=calendar.synced_at.isoformat())

    async def _forget_unconfigured(self, configured: set[str]) -> None:
        for person in set(self._book.calendars()) - configured:
            self._book.drop(person)
            self._failing.pop(person, None)
            try:
                await store_io(self._store, functools.partial(self._store.forget_calendar, person))
            except StoreError as exc:
                log.error(exc.log_id, error=str(exc), what=f"stored calendar of {person} not removed")
