"""People's calendars in the config (#15): a feed (address or file) or a CalDAV mapping, the
sync interval; every mistake reported once with its line, and no password in the file (R12)."""

from __future__ import annotations

import pytest

from routing.config import ConfigError, load_config_text
from routing.config.schema import CalDavCalendar
from tests.unit.config.test_malformed import BASE

SOC2_MAILBOX = '    voicemail: "5002@default"\n'  # line 67: soc2's calendar goes on the next line, 68


def with_calendar(value: str) -> str:
    assert BASE.count(SOC2_MAILBOX) == 1
    return BASE.replace(SOC2_MAILBOX, f"{SOC2_MAILBOX}    calendar: {value}\n")


def issues(text: str) -> list[tuple[int, int, str, str]]:
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, "kommun.yaml")
    return [(i.line, i.column, i.path, i.message) for i in caught.value.issues]


@pytest.mark.parametrize(
    "feed",
    [
        "https://outlook.office365.com/owa/calendar/4f1c/reachcalendar.ics",
        "https://calendar.google.com/calendar/ical/erik%40example.se/private-abc/basic.ics",
        "http://intranet.kommun.se/kalender/erik.ics",
        "/var/lib/routing/calendars/erik.ics",
    ],
)
def test_r11_a_calendar_is_a_feeds_address_or_a_file(feed: str) -> None:
    config = load_config_text(with_calendar(f'"{feed}"'), "kommun.yaml")
    assert config.people[1].calendar == feed
    assert config.people[0].calendar is None


def test_r11_a_caldav_calendar_names_where_its_password_is() -> None:
    config = load_config_text(
        with_calendar('{url: "https://dav.kommun.se/erik/kalender/", username: erik, password_env: ERIK_CALDAV}'),
        "kommun.yaml",
    )
    assert config.people[1].calendar == CalDavCalendar(
        url="https://dav.kommun.se/erik/kalender/", username="erik", password_env="ERIK_CALDAV"
    )


def test_r11_the_sync_defaults_to_every_five_minutes_keeping_a_day() -> None:
    config = load_config_text(BASE, "kommun.yaml")
    assert (config.calendar_sync.every_minutes, config.calendar_sync.keep_hours) == (5, 24)
    config = load_config_text(BASE + "calendar_sync: {every_minutes: 2, keep_hours: 48}\n", "kommun.yaml")
    assert (config.calendar_sync.every_minutes, config.calendar_sync.keep_hours) == (2, 48)


FEED_HELP = (
    "is not a calendar: write an iCalendar feed's address (\"https://…\"), a file's absolute path (/…),"
    " or for CalDAV a mapping {url, username, password_env or password_file}"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            with_calendar("erik.ics"), [(68, 15, "people[1].calendar", f"'erik.ics' {FEED_HELP}")], id="relative"
        ),
        pytest.param(
            with_calendar("ftp://example.se/erik.ics"),
            [(68, 15, "people[1].calendar", f"'ftp://example.se/erik.ics' {FEED_HELP}")],
            id="scheme",
        ),
        pytest.param(
            with_calendar('{url: "https://dav.kommun.se/erik/", usename: erik, password_env: ERIK_CALDAV}'),
            [
                (68, 15, "people[1].calendar.username", "required key 'username' is missing"),
                (68, 52, "people[1].calendar.usename", "unknown key 'usename' (did you mean 'username'?)"),
            ],
            id="caldav-typo",
        ),
        pytest.param(
            with_calendar('{url: "https://dav.kommun.se/erik/", username: erik, password: hemligt}'),
            [
                (
                    68,
                    68,
                    "people[1].calendar.password",
                    "secrets are never written in this file: name an environment variable (password_env)"
                    " or a file (password_file) that holds the password",
                )
            ],
            id="caldav-password-in-the-file",
        ),
        pytest.param(
            with_calendar('{url: "https://dav.kommun.se/erik/", username: erik}'),
            [
                (
                    68,
                    15,
                    "people[1].calendar",
                    "the password is missing: secrets are never written in this file, so name an environment"
                    " variable (password_env) or a file (password_file) that holds it",
                )
            ],
            id="caldav-no-password",
        ),
        pytest.param(
            with_calendar('{url: "http://dav.kommun.se/erik/", username: erik, password_env: ERIK_CALDAV}'),
            [
                (
                    68,
                    15,
                    "people[1].calendar",
                    "R12: a CalDAV password is sent only over https:// (http:// only to this machine, 127.0.0.1)",
                )
            ],
            id="caldav-plain-http",
        ),
        pytest.param(
            BASE + "calendar_sync: {every_minute: 5}\n",
            [(102, 17, "calendar_sync.every_minute", "unknown key 'every_minute' (did you mean 'every_minutes'?)")],
            id="sync-typo",
        ),
        pytest.param(
            BASE + "calendar_sync: {keep_hours: 1000}\n",
            [(102, 29, "calendar_sync.keep_hours", "Input should be less than or equal to 168")],
            id="sync-keeps-at-most-a-week",
        ),
    ],
)
def test_r11_a_malformed_calendar_is_reported_at_its_line(text: str, expected: list[tuple[int, int, str, str]]) -> None:
    assert issues(text) == expected
