"""People's calendars for the commands (#15): `routing calendar check` reads each feed and says
what it would mean over the next 7 days; `referral list`, `phones` and `explain` see calendar
referrals through `people_now` and `calendars_for`.

What the commands show of a calendar comes from the service's last good sync (in the store);
`explain` and `calendar check` read a feed themselves where no service has synced it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from routing.calendar.errors import FeedMalformed, FeedUnreachable
from routing.calendar.feeds import describe, read_events
from routing.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, load_or_report
from routing.config.schema import Config, Person
from routing.policy.calendar_referral import (
    CalendarEntry,
    CalendarEvent,
    SyncedCalendar,
    calendar_referral,
    entry_of,
    in_force,
    upcoming,
)
from routing.policy.referral import Referral
from routing.store import Store, StoreError, open_store

CHECK_DAYS = 7


@dataclass(frozen=True)
class PersonNow:
    """A person's referral in force now, where it comes from, and the warning within the hour."""

    referral: Referral | None
    source: str  # who set it (phone:5001, cli, operator:<id>) or "calendar HH:MM" (the last good sync)
    soon: str  # "meeting in 25 min", or ""


def synced_text(synced_at: datetime, now: datetime) -> str:
    local = synced_at.astimezone(now.tzinfo)
    return local.strftime("%H:%M") if local.date() == now.date() else local.strftime("%Y-%m-%d %H:%M")


def fresh_calendars(config: Config, store: Store, now: datetime) -> dict[str, SyncedCalendar]:
    """The service's last good reads still in force (calendar_sync.keep_hours), for people
    whose calendar is in the config."""
    keep = timedelta(hours=config.calendar_sync.keep_hours)
    configured = {p.id for p in config.people if p.calendar is not None}
    return {p: c for p, c in store.calendars().items() if p in configured and c.fresh_at(now, keep)}


def people_now(config: Config, store: Store, now: datetime) -> dict[str, PersonNow]:
    """Everyone with a referral in force or a referral event within the hour (R11 precedence:
    set by hand beats the calendar)."""
    manual = {r.person: r for r in store.referrals()}
    setters = store.referral_setters()
    calendars = fresh_calendars(config, store, now)
    found: dict[str, PersonNow] = {}
    for person in config.people:
        synced = calendars.get(person.id)
        from_calendar = calendar_referral(person.id, synced.entries, now) if synced is not None else None
        chosen = in_force(manual.get(person.id), from_calendar, now)
        source = ""
        if chosen is not None and chosen is manual.get(person.id):
            source = setters.get(person.id, "")
        elif chosen is not None and synced is not None:
            source = f"calendar {synced_text(synced.synced_at, now)}"
        soon = ""
        warning = upcoming(synced.entries, now) if synced is not None else None
        if warning is not None:
            what = "busy (private)" if warning.private else warning.reason.value
            soon = f"{what} in {warning.minutes} min"
        if chosen is not None or soon:
            found[person.id] = PersonNow(chosen, source, soon)
    return found


def _stored(config: Config) -> Store | None:
    """The store, if there is one to read (a SQLite file that does not exist is not made here)."""
    url = config.store.url
    if url.startswith("sqlite:///") and not Path("/" + url[len("sqlite:///") :].lstrip("/")).exists():
        return None
    try:
        return open_store(url)
    except StoreError:
        return None


def calendars_for(config: Config, at: datetime) -> tuple[dict[str, tuple[CalendarEntry, ...]], list[str]]:
    """Every configured calendar's referral events around `at`, and a line for each saying where
    they came from: the service's sync when it covers `at`, else the feed read now."""
    people = [p for p in config.people if p.calendar is not None]
    if not people:
        return {}, []
    store = _stored(config)
    try:
        stored = fresh_calendars(config, store, datetime.now(at.tzinfo)) if store is not None else {}
    except StoreError:
        stored = {}
    found: dict[str, tuple[CalendarEntry, ...]] = {}
    notes: list[str] = []
    to_read = []
    for person in people:
        synced = stored.get(person.id)
        # The service reads a day back and eight ahead: beyond that its read says nothing.
        if synced is not None and synced.synced_at - timedelta(days=1) <= at <= synced.synced_at + timedelta(days=8):
            found[person.id] = synced.entries
            notes.append(f"{person.id}: the service's sync at {synced_text(synced.synced_at, at)}")
        else:
            to_read.append(person)
    results = asyncio.run(_read_all(to_read, at - timedelta(days=1), at + timedelta(days=1), ZoneInfo(config.timezone)))
    for person, result in zip(to_read, results, strict=True):
        assert person.calendar is not None
        if isinstance(result, Exception):
            notes.append(f"{person.id}: {describe(person.calendar)} could not be used: {result}")
        else:
            found[person.id] = tuple(e for e in (entry_of(ev) for ev in result) if e is not None)
            notes.append(f"{person.id}: read now from {describe(person.calendar)}")
    return found, notes


async def _read_all(
    people: list[Person], start: datetime, end: datetime, zone: ZoneInfo
) -> list[list[CalendarEvent] | Exception]:
    async def one(person: Person) -> list[CalendarEvent] | Exception:
        assert person.calendar is not None
        try:
            return await read_events(person.calendar, start, end, zone)
        except (FeedUnreachable, FeedMalformed) as exc:
            return exc

    return list(await asyncio.gather(*(one(p) for p in people)))


# -- routing calendar check ------------------------------------------------------------------------


def _when(event: CalendarEvent, zone: ZoneInfo) -> str:
    if isinstance(event.start, datetime) and isinstance(event.end, datetime):
        start, end = event.start.astimezone(zone), event.end.astimezone(zone)
        last = end.strftime("%H:%M") if end.date() == start.date() else end.strftime("%Y-%m-%d %H:%M")
        return f"{start:%Y-%m-%d %H:%M}–{last}"
    assert isinstance(event.start, date) and isinstance(event.end, date)
    last_day = event.end - timedelta(days=1)
    return f"{event.start.isoformat()} all day" + (f" to {last_day.isoformat()}" if last_day > event.start else "")


def _meaning(event: CalendarEvent) -> str:
    """What the event does for calls; a private event's subject is not shown (R12)."""
    entry = entry_of(event)
    subject = "(private)" if event.private else f'"{event.subject}"'
    if entry is not None:
        back = entry.end.isoformat() if entry.all_day else ""
        return f"referral {entry.reason.value}{' back ' + back if back else ''}  {subject}"
    if event.cancelled:
        why = "cancelled"
    elif event.free:
        why = "shown as free"
    else:
        why = "its subject names no reason"
    return f"nothing ({why})  {subject}"


def cmd_calendar_check(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return EXIT_USAGE
    people = [p for p in config.people if p.calendar is not None]
    if args.person is not None:
        chosen = [p for p in config.people if p.id == args.person]
        if not chosen:
            print(f"routing calendar check: no person has the id '{args.person}'", file=sys.stderr)
            return EXIT_USAGE
        if chosen[0].calendar is None:
            print(f"routing calendar check: {args.person} has no calendar in {args.config}", file=sys.stderr)
            return EXIT_USAGE
        people = chosen
    if not people:
        print("nobody has a calendar in the config")
        return EXIT_OK
    zone = ZoneInfo(config.timezone)
    now = datetime.now(zone)
    results = asyncio.run(_read_all(people, now, now + timedelta(days=CHECK_DAYS), zone))
    failed = 0
    for person, result in zip(people, results, strict=True):
        assert person.calendar is not None
        print(f"{person.id} ({person.name}): {describe(person.calendar)}")
        if isinstance(result, Exception):
            failed += 1
            kind = "unreachable" if isinstance(result, FeedUnreachable) else "malformed"
            print(f"  {kind}: {result}")
            continue
        events = sorted(result, key=lambda e: (_start_moment(e, zone), e.subject))
        if not events:
            print(f"  no events in the next {CHECK_DAYS} days")
        for event in events:
            print(f"  {_when(event, zone)}  {_meaning(event)}")
        entries = [e for e in (entry_of(ev) for ev in events) if e is not None]
        now_referral = calendar_referral(person.id, entries, now)
        print(
            "  now: "
            + (
                f"{now_referral.reason.value} until {_until(now_referral, zone)}"
                if now_referral is not None
                else "no calendar referral"
            )
        )
    return EXIT_FAILED if failed else EXIT_OK


def _start_moment(event: CalendarEvent, zone: ZoneInfo) -> datetime:
    start = event.start
    return start if isinstance(start, datetime) else datetime.combine(start, datetime.min.time(), zone)


def _until(referral: Referral, zone: ZoneInfo) -> str:
    until = referral.until
    if isinstance(until, datetime):
        return until.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return until.isoformat() if until is not None else "further notice"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    calendar = commands.add_parser("calendar", help="people's calendars (referrals from calendars, R11)")
    actions = calendar.add_subparsers(dest="calendar_command", required=True, metavar="ACTION")
    check = actions.add_parser("check", help=f"read each feed and show what it means over the next {CHECK_DAYS} days")
    check.add_argument("--config", required=True, metavar="FILE")
    check.add_argument("--person", metavar="PERSON", help="only this person's calendar")
    check.set_defaults(func=cmd_calendar_check)
