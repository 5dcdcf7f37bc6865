"""The service's calendar round (#15, R11): calls see calendar referrals under the ones set by
hand; a feed that fails keeps its last good events for calendar_sync.keep_hours, logged once
per outage and on recovery; a malformed feed changes nothing; the store keeps the last good
read for a restart and for the commands."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from routing.calendar.errors import FeedMalformed, FeedUnreachable
from routing.calllog.setup import configure_logging
from routing.config.schema import Config, PersonCalendar
from routing.policy.calendar_referral import CalendarEvent, SyncedCalendar, calendar_referrals
from routing.policy.referral import Reason, Referral
from routing.service.calendar_sync import CalendarBook, CalendarReferrals, CalendarSync
from routing.service.referrals import MemoryReferrals
from routing.store import Store, open_store
from tests.ports import free_port
from tests.unit.policy.builders import at, config, person

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "calendars"


class Feeds:
    """Stands in for the readers: what each feed gives now (events, or an exception to raise)."""

    def __init__(self) -> None:
        self.now: dict[str, list[CalendarEvent] | Exception] = {}
        self.reads = 0

    async def __call__(
        self, calendar: PersonCalendar, start: datetime, end: datetime, zone: tzinfo
    ) -> list[CalendarEvent]:
        self.reads += 1
        answer = self.now[str(calendar)]
        if isinstance(answer, Exception):
            raise answer
        return [e for e in answer if e.end > start and e.start < end] if answer else []


def the_config(**calendars: str) -> Config:
    data = config()
    for person_id, feed in calendars.items():
        person(data, person_id)["calendar"] = feed
    data["calendar_sync"] = {"every_minutes": 5, "keep_hours": 2}
    return Config.model_validate(data)


class Harness:
    def __init__(self, store: Store, cfg: Config) -> None:
        self.clock = [at("2026-12-01 08:00")]
        self.cfg = cfg
        self.store = store
        self.feeds = Feeds()
        self.manual = MemoryReferrals()
        self.book = CalendarBook(timedelta(hours=cfg.calendar_sync.keep_hours))
        self.referrals = CalendarReferrals(self.manual, self.book, lambda: self.clock[0])
        self.sync = CalendarSync(lambda: self.cfg, self.book, store, lambda: self.clock[0], read=self.feeds)

    def referral(self, person_id: str) -> Referral | None:
        return self.referrals.snapshot().referral(person_id, self.clock[0])


MEETING = CalendarEvent(at("2026-12-01 09:00"), at("2026-12-01 10:30"), "Möte med nämnden")


@pytest.fixture
def log() -> io.StringIO:
    out = io.StringIO()
    configure_logging("json", stream=out)
    return out


def events(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(x) for x in out.getvalue().splitlines()]


async def test_r11_a_call_sees_the_calendar_meeting_until_its_end(tmp_path: Path) -> None:
    h = Harness(open_store(f"sqlite:///{tmp_path}/r.db"), the_config(soc1="/cal/anna.ics"))
    h.feeds.now["/cal/anna.ics"] = [MEETING]
    await h.sync.sync_once()
    assert h.referral("soc1") is None  # 08:00: not yet
    h.clock[0] = at("2026-12-01 09:15")
    assert h.referral("soc1") == Referral("soc1", Reason.MEETING, at("2026-12-01 10:30"))
    assert h.referral("soc2") is None
    h.clock[0] = at("2026-12-01 10:30")
    assert h.referral("soc1") is None


async def test_r11_set_by_hand_beats_the_calendar_and_clearing_returns_to_it(tmp_path: Path) -> None:
    h = Harness(open_store(f"sqlite:///{tmp_path}/r.db"), the_config(soc1="/cal/anna.ics"))
    h.feeds.now["/cal/anna.ics"] = [MEETING]
    await h.sync.sync_once()
    h.clock[0] = at("2026-12-01 09:15")
    errand = Referral("soc1", Reason.ERRAND, at("2026-12-01 10:00"))
    h.referrals.set_referral(errand, at=h.clock[0], by="phone:5001")
    assert h.referral("soc1") == errand
    h.clock[0] = at("2026-12-01 10:00")  # the errand has ended: the meeting again
    assert h.referral("soc1") == Referral("soc1", Reason.MEETING, at("2026-12-01 10:30"))
    h.referrals.set_referral(Referral("soc1", Reason.SICK), at=h.clock[0], by="cli")
    assert h.referral("soc1") == Referral("soc1", Reason.SICK)
    assert h.referrals.clear_referral("soc1")  # #21
    assert h.referral("soc1") == Referral("soc1", Reason.MEETING, at("2026-12-01 10:30"))


async def test_r11_an_unreachable_feed_keeps_its_last_good_events_for_keep_hours(
    tmp_path: Path, log: io.StringIO
) -> None:
    h = Harness(open_store(f"sqlite:///{tmp_path}/r.db"), the_config(soc1="/cal/anna.ics"))
    h.feeds.now["/cal/anna.ics"] = [MEETING, CalendarEvent(at("2026-12-01 10:30"), at("2026-12-01 12:00"), "Kurs")]
    await h.sync.sync_once()
    h.feeds.now["/cal/anna.ics"] = FeedUnreachable("HTTP 503 Service Unavailable")
    for minute in ("08:05", "08:10", "09:15"):
        h.clock[0] = at(f"2026-12-01 {minute}")
        await h.sync.sync_once()
    assert h.referral("soc1") == Referral("soc1", Reason.MEETING, at("2026-12-01 12:00"))  # kept
    h.clock[0] = at("2026-12-01 10:01")  # past keep_hours (2) since the last good read at 08:00
    await h.sync.sync_once()
    await h.sync.sync_once()
    assert h.referral("soc1") is None
    h.feeds.now["/cal/anna.ics"] = [MEETING]
    h.clock[0] = at("2026-12-01 10:05")
    await h.sync.sync_once()
    assert h.referral("soc1") == Referral("soc1", Reason.MEETING, at("2026-12-01 10:30"))
    lines = [(x["event"], x.get("person")) for x in events(log) if x["event"].startswith("calendar.")]
    assert lines == [
        ("calendar.unreachable", "soc1"),  # once for the whole outage
        ("calendar.expired", "soc1"),
        ("calendar.recovered", "soc1"),
    ]
    unreachable, _expired, recovered = (x for x in events(log) if x["event"].startswith("calendar."))
    assert unreachable["level"] == "warning" and unreachable["error"] == "HTTP 503 Service Unavailable"
    assert (
        unreachable["feed"] == "/cal/anna.ics" and unreachable["kept_events_from"] == at("2026-12-01 08:00").isoformat()
    )
    assert recovered["failing_s"] == 2 * 3600  # failing since 08:05, read again at 10:05


async def test_r11_a_malformed_feed_is_logged_with_the_reason_and_changes_nothing(
    tmp_path: Path, log: io.StringIO
) -> None:
    h = Harness(open_store(f"sqlite:///{tmp_path}/r.db"), the_config(soc1="/cal/anna.ics", soc2="/cal/erik.ics"))
    h.feeds.now["/cal/anna.ics"] = [MEETING]
    h.feeds.now["/cal/erik.ics"] = [MEETING]
    await h.sync.sync_once()
    h.feeds.now["/cal/anna.ics"] = FeedMalformed("not iCalendar: Content line could not be parsed")
    h.feeds.now["/cal/erik.ics"] = []  # erik's meeting was deleted
    await h.sync.sync_once()
    await h.sync.sync_once()
    h.clock[0] = at("2026-12-01 09:15")
    assert h.referral("soc1") == Referral("soc1", Reason.MEETING, at("2026-12-01 10:30"))  # unchanged
    assert h.referral("soc2") is None
    (malformed,) = [x for x in events(log) if x["event"] == "calendar.malformed"]  # once for one reason
    assert malformed["person"] == "soc1" and malformed["level"] == "error"
    assert malformed["error"] == "not iCalendar: Content line could not be parsed"


async def test_r11_a_restart_keeps_the_last_good_read_from_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/r.db"
    first = Harness(open_store(url), the_config(soc1="/cal/anna.ics"))
    first.feeds.now["/cal/anna.ics"] = [MEETING]
    await first.sync.sync_once()
    again = Harness(open_store(url), the_config(soc1="/cal/anna.ics"))
    again.feeds.now["/cal/anna.ics"] = FeedUnreachable("connection refused")
    await again.sync.load()
    await again.sync.sync_once()
    again.clock[0] = at("2026-12-01 09:15")
    assert again.referral("soc1") == Referral("soc1", Reason.MEETING, at("2026-12-01 10:30"))
    stored = again.store.calendars()["soc1"]
    assert stored.synced_at == at("2026-12-01 08:00") and len(stored.entries) == 1


async def test_r11_a_calendar_removed_from_the_config_is_forgotten(tmp_path: Path) -> None:
    h = Harness(open_store(f"sqlite:///{tmp_path}/r.db"), the_config(soc1="/cal/anna.ics"))
    h.feeds.now["/cal/anna.ics"] = [MEETING]
    await h.sync.sync_once()
    h.cfg = the_config()
    await h.sync.sync_once()
    h.clock[0] = at("2026-12-01 09:15")
    assert h.referral("soc1") is None
    assert h.store.calendars() == {}


def test_r11_the_book_gives_what_the_policy_gives_at_every_moment() -> None:
    """Worked out once per change: the cache must never show a referral past its change."""
    entries = (
        CalendarEvent(at("2026-12-01 09:00"), at("2026-12-01 10:00"), "Möte"),
        CalendarEvent(at("2026-12-01 10:00"), at("2026-12-01 10:45"), "Lunch"),
        CalendarEvent(date(2026, 12, 2), date(2026, 12, 3), "Kurs"),
    )
    from routing.policy.calendar_referral import entries_of

    synced = SyncedCalendar(entries_of(entries), at("2026-12-01 08:00"))
    book = CalendarBook(timedelta(hours=30))
    book.put("soc1", synced)
    moment = at("2026-12-01 08:00")
    while moment < at("2026-12-02 16:00"):
        expected = calendar_referrals({"soc1": synced.entries}, moment) if moment < at("2026-12-02 14:00") else {}
        assert book.referrals_at(moment) == expected, moment
        moment += timedelta(minutes=7)


@pytest.fixture
async def flaky_feed() -> AsyncIterator[tuple[str, dict[str, int]]]:
    """The Google export over HTTP; `state["status"]` is what the server answers now."""
    state = {"status": 200}
    body = (FIXTURES / "google-erik.ics").read_bytes()

    async def handle(_request: web.Request) -> web.Response:
        if state["status"] != 200:
            return web.Response(status=state["status"])
        return web.Response(body=body, content_type="text/calendar")

    app = web.Application()
    app.router.add_get("/calendar/ical/erik/private-abc/basic.ics", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/calendar/ical/erik/private-abc/basic.ics", state
    await runner.cleanup()


async def test_r11_a_real_feed_that_goes_away_and_comes_back(
    tmp_path: Path, log: io.StringIO, flaky_feed: tuple[str, dict[str, int]]
) -> None:
    url, state = flaky_feed
    cfg = the_config(soc2=url)
    store = open_store(f"sqlite:///{tmp_path}/r.db")
    clock = [at("2026-10-26 08:00")]
    book = CalendarBook(timedelta(hours=2))
    referrals = CalendarReferrals(MemoryReferrals(), book, lambda: clock[0])
    sync = CalendarSync(lambda: cfg, book, store, lambda: clock[0])
    await sync.sync_once()
    state["status"] = 503
    clock[0] = at("2026-10-26 08:35")
    await sync.sync_once()
    await sync.sync_once()
    assert referrals.snapshot().referral("soc2", clock[0]) == Referral("soc2", Reason.COURSE, at("2026-10-26 09:30"))
    state["status"] = 200
    clock[0] = at("2026-10-26 12:40")
    await sync.sync_once()
    assert referrals.snapshot().referral("soc2", clock[0]) == Referral("soc2", Reason.LUNCH, at("2026-10-26 13:30"))
    lines = [x for x in events(log) if x["event"].startswith("calendar.")]
    assert [x["event"] for x in lines] == ["calendar.unreachable", "calendar.recovered"]
    assert lines[0]["error"] == "HTTP 503 Service Unavailable"
    assert "private-abc" not in json.dumps(lines)  # the feed's secret path is never logged (R12)
