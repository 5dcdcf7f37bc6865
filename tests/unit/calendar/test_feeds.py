"""Reading feeds (#15): a file, an HTTP(S) address and a CalDAV calendar on a real server
(Radicale); what cannot be read is FeedUnreachable, what is not a calendar FeedMalformed, and
neither ever shows a password or a feed's secret path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from aiohttp import web

from routing.calendar.errors import FeedMalformed, FeedUnreachable
from routing.calendar.feeds import describe, read_events
from routing.config.schema import CalDavCalendar
from routing.policy.calendar_referral import entries_of
from tests.ports import free_port
from tests.unit.calendar.conftest import Radicale

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "calendars"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
START = datetime(2026, 3, 1, tzinfo=STOCKHOLM)
END = datetime(2026, 5, 1, tzinfo=STOCKHOLM)


async def test_r11_a_file_feed_is_read() -> None:
    events = await read_events(str(FIXTURES / "outlook-anna.ics"), START, END, STOCKHOLM)
    assert len(entries_of(events)) == 9  # eight meetings and the private event (see test_ics)


async def test_r11_a_missing_file_is_unreachable() -> None:
    with pytest.raises(FeedUnreachable, match=r"cannot read /nonexistent/anna\.ics"):
        await read_events("/nonexistent/anna.ics", START, END, STOCKHOLM)


@pytest.fixture
async def feed_server() -> AsyncIterator[tuple[str, dict[str, tuple[int, bytes]]]]:
    """An HTTP server answering each path with the (status, body) the test puts in the dict."""
    answers: dict[str, tuple[int, bytes]] = {}

    async def handle(request: web.Request) -> web.Response:
        status, body = answers.get(request.path, (404, b"not found"))
        return web.Response(status=status, body=body, content_type="text/calendar")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", answers
    await runner.cleanup()


async def test_r11_an_http_feed_is_read_and_its_failures_say_why(
    feed_server: tuple[str, dict[str, tuple[int, bytes]]],
) -> None:
    url, answers = feed_server
    answers["/owa/calendar/secret-token/calendar.ics"] = (200, (FIXTURES / "outlook-anna.ics").read_bytes())
    answers["/gone.ics"] = (410, b"")
    answers["/login.ics"] = (200, b"<html>Sign in</html>")
    events = await read_events(url + "/owa/calendar/secret-token/calendar.ics", START, END, STOCKHOLM)
    assert len(entries_of(events)) == 9
    with pytest.raises(FeedUnreachable, match="HTTP 410 Gone"):
        await read_events(url + "/gone.ics", START, END, STOCKHOLM)
    with pytest.raises(FeedMalformed, match="not iCalendar"):
        await read_events(url + "/login.ics", START, END, STOCKHOLM)


async def test_r11_a_server_that_is_not_there_is_unreachable() -> None:
    with pytest.raises(FeedUnreachable):
        await read_events(f"http://127.0.0.1:{free_port()}/anna.ics", START, END, STOCKHOLM, timeout_s=5)


def test_r12_a_feed_is_described_without_its_secret_path_or_password() -> None:
    assert describe("https://outlook.office365.com/owa/calendar/abc123/def456/reachcalendar.ics") == (
        "https://outlook.office365.com/…"
    )
    caldav = CalDavCalendar(url="https://dav.kommun.se/anna/kalender/", username="anna", password_env="X")
    assert describe(caldav) == "caldav https://dav.kommun.se/… as anna"
    assert describe("/var/lib/routing/anna.ics") == "/var/lib/routing/anna.ics"


def _objects_by_uid(path: Path) -> list[bytes]:
    """An exported feed as a CalDAV server keeps it: one object per UID (a series with its
    moved occurrences together), each with the zones it uses."""
    source = icalendar.Calendar.from_ical(path.read_bytes())
    zones = [c for c in source.subcomponents if c.name == "VTIMEZONE"]
    by_uid: dict[str, list[icalendar.Component]] = {}
    for component in source.walk("VEVENT"):
        by_uid.setdefault(str(component["UID"]), []).append(component)
    objects = []
    for components in by_uid.values():
        calendar = icalendar.Calendar()
        calendar.add("PRODID", "-//routing tests//EN")
        calendar.add("VERSION", "2.0")
        for part in [*zones, *components]:
            calendar.add_component(part)
        objects.append(calendar.to_ical())
    return objects


@pytest.fixture(scope="module")
def caldav_calendar(radicale: Radicale) -> Callable[..., CalDavCalendar]:
    """A calendar on the server holding the Outlook export, as the config would name it."""
    from caldav.davclient import DAVClient

    password = Path(radicale.password_file).read_text(encoding="utf-8").strip()
    with DAVClient(
        url=radicale.base_url, username=radicale.user, password=password, require_tls=False, enable_rfc6764=False
    ) as client:
        calendar = client.principal().make_calendar(name="Kalender", cal_id="kalender")  # type: ignore[no-untyped-call]
        for text in _objects_by_uid(FIXTURES / "outlook-anna.ics"):
            calendar.add_event(text.decode())

    def config(password_file: str = radicale.password_file) -> CalDavCalendar:
        return CalDavCalendar(
            url=radicale.calendar_url("kalender"), username=radicale.user, password_file=password_file
        )

    return config


async def test_r11_a_caldav_calendar_reads_as_its_export_does(caldav_calendar: Callable[..., CalDavCalendar]) -> None:
    from_server = entries_of(await read_events(caldav_calendar(), START, END, STOCKHOLM))
    from_file = entries_of(await read_events(str(FIXTURES / "outlook-anna.ics"), START, END, STOCKHOLM))
    assert [(e.start, e.end, e.reason, e.private) for e in from_server] == [
        (e.start, e.end, e.reason, e.private) for e in from_file
    ]
    july = entries_of(
        await read_events(
            caldav_calendar(),
            datetime(2026, 7, 1, tzinfo=STOCKHOLM),
            datetime(2026, 8, 1, tzinfo=STOCKHOLM),
            STOCKHOLM,
        )
    )
    assert next(e for e in july if e.all_day).reason.value == "vacation"


async def test_r11_a_caldav_login_refused_is_unreachable(
    caldav_calendar: Callable[..., CalDavCalendar], tmp_path: Path
) -> None:
    wrong = tmp_path / "password"
    wrong.write_text("fel-lösenord\n", encoding="utf-8")
    with pytest.raises(FeedUnreachable, match="CalDAV") as caught:
        await read_events(caldav_calendar(str(wrong)), START, END, STOCKHOLM)
    assert "fel-lösenord" not in str(caught.value)


async def test_r11_a_caldav_password_file_missing_is_unreachable(
    caldav_calendar: Callable[..., CalDavCalendar],
) -> None:
    with pytest.raises(FeedUnreachable, match="cannot read the secret file /nonexistent"):
        await read_events(caldav_calendar("/nonexistent/password"), START, END, STOCKHOLM)
