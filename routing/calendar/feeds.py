"""Reading a person's calendar: an iCalendar feed over HTTP(S) (aiohttp, on the loop), a file,
or a CalDAV calendar (caldav, blocking: in a thread). Nothing here blocks the event loop; the
events are parsed and expanded in a thread too (a year of a busy calendar takes a while).

A feed that cannot be read raises FeedUnreachable; one that was read but is not a usable
calendar raises FeedMalformed (both in errors.py). Either way the caller keeps what it had.
"""

from __future__ import annotations

import asyncio
import ipaddress
from datetime import datetime, tzinfo
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from routing.calendar.errors import FeedUnreachable
from routing.config.schema import CalDavCalendar, PersonCalendar
from routing.config.secrets import SecretMissing, read_secret
from routing.policy.calendar_referral import CalendarEvent

TIMEOUT_S = 30.0
MAX_BYTES = 20 * 1024 * 1024  # a feed this large is not a person's calendar: refuse, keep what we had


def describe(calendar: PersonCalendar) -> str:
    """Where a calendar is, for logs and the CLI: never a password, nor a URL's user info or
    query (a Google or Outlook feed's secret is in its path; its host is enough to find it)."""
    if isinstance(calendar, CalDavCalendar):
        return f"caldav {_without_secrets(calendar.url)} as {calendar.username}"
    if calendar.startswith(("http://", "https://")):
        return _without_secrets(calendar)
    return calendar


def _without_secrets(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…" if parts.path not in ("", "/") else f"{parts.scheme}://{host}{port}/"


async def read_events(
    calendar: PersonCalendar, start: datetime, end: datetime, zone: tzinfo, *, timeout_s: float = TIMEOUT_S
) -> list[CalendarEvent]:
    """The occurrences of `calendar`'s events overlapping [start, end)."""
    texts = await read_texts(calendar, start, end, timeout_s=timeout_s)
    # icalendar and its kin are loaded here, at the first feed read, not with the service.
    from routing.calendar.ics import events_between, parse_calendars

    return await asyncio.to_thread(lambda: events_between(parse_calendars(texts), start, end, zone))


async def read_texts(
    calendar: PersonCalendar, start: datetime, end: datetime, *, timeout_s: float = TIMEOUT_S
) -> list[bytes | str]:
    if isinstance(calendar, CalDavCalendar):
        return await asyncio.wait_for(asyncio.to_thread(_caldav_texts, calendar, start, end, timeout_s), timeout_s * 2)
    if calendar.startswith(("http://", "https://")):
        return [await _http(calendar, timeout_s)]
    return [await asyncio.to_thread(_file, calendar)]


async def _http(url: str, timeout_s: float) -> bytes:
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as session,
            session.get(url, headers={"Accept": "text/calendar"}) as response,
        ):
            if response.status != 200:
                raise FeedUnreachable(f"HTTP {response.status} {response.reason or ''}".rstrip())
            body = await response.content.read(MAX_BYTES + 1)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise FeedUnreachable(_reason(exc)) from None
    if len(body) > MAX_BYTES:
        raise FeedUnreachable(f"larger than {MAX_BYTES // (1024 * 1024)} MB")
    return body


def _file(path: str) -> bytes:
    try:
        with Path(path).open("rb") as file:
            body = file.read(MAX_BYTES + 1)
    except OSError as exc:
        raise FeedUnreachable(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(body) > MAX_BYTES:
        raise FeedUnreachable(f"larger than {MAX_BYTES // (1024 * 1024)} MB")
    return body


def _caldav_texts(calendar: CalDavCalendar, start: datetime, end: datetime, timeout_s: float) -> list[bytes | str]:
    """The calendar objects with an occurrence in [start, end), as iCalendar text: expanded
    here (recurring-ical-events), not by the server, whose expansion varies."""
    # heavy (niquests, lxml): only for people with a CalDAV calendar
    from caldav.davclient import DAVClient
    from caldav.lib.error import DAVError

    try:
        password = read_secret(calendar.password_env, calendar.password_file)
    except SecretMissing as exc:
        raise FeedUnreachable(str(exc)) from None
    try:
        with DAVClient(
            url=calendar.url,
            username=calendar.username,
            password=password,
            timeout=int(timeout_s),
            enable_rfc6764=False,
            require_tls=not _loopback(calendar.url),
        ) as client:
            # caldav's hints are partial: Calendar's constructor is untyped.
            found = client.calendar(url=calendar.url)  # type: ignore[no-untyped-call]
            objects = found.search(start=start, end=end, event=True, expand=False)
            return [obj.data for obj in objects]
    except (DAVError, OSError) as exc:
        raise FeedUnreachable(f"CalDAV: {_reason(exc)}") from None
    except Exception as exc:  # niquests' connection errors share no base with DAVError
        if type(exc).__module__.startswith(("niquests", "urllib3")):
            raise FeedUnreachable(f"CalDAV: {_reason(exc)}") from None
        raise


def _loopback(url: str) -> bool:
    """Plain http is allowed only to this machine (the config refuses it elsewhere, R12)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text and text[0] else type(exc).__name__
