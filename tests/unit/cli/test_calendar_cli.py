"""Calendars in the commands (#15): `routing calendar check`, `routing referral list` with the
calendar's referrals, their source and the warning within the hour, and `routing explain --at`
reading a feed itself when no service has synced it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from routing.cli.main import main
from routing.policy.calendar_referral import CalendarEntry, SyncedCalendar
from routing.policy.referral import Reason, Referral
from routing.store import SqliteStore

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "example.yaml"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "calendars"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
ANNA = '    voicemail: "5001@default"\n'


def write_config(tmp_path: Path, calendar: str | None) -> str:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "sqlite:///var/lib/routing/routing.db", f"sqlite:///{tmp_path}/routing.db"
    )
    if calendar is not None:
        assert text.count(ANNA) == 1
        text = text.replace(ANNA, f'{ANNA}    calendar: "{calendar}"\n')
    path = tmp_path / "routing.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def ics(*events: str) -> str:
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + "".join(events) + "END:VCALENDAR\r\n"


def vevent(uid: str, start: str, end: str, summary: str, extra: str = "") -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART;TZID=Europe/Stockholm:{start}\r\n"
        f"DTEND;TZID=Europe/Stockholm:{end}\r\nSUMMARY:{summary}\r\n{extra}END:VEVENT\r\n"
    )


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M00")


def test_r11_calendar_check_says_what_each_event_means(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tomorrow = datetime.now(STOCKHOLM).replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=1)
    feed = tmp_path / "anna.ics"
    feed.write_text(
        ics(
            vevent("1", stamp(tomorrow), stamp(tomorrow + timedelta(hours=1)), "Möte med nämnden"),
            vevent(
                "2",
                stamp(tomorrow + timedelta(hours=2)),
                stamp(tomorrow + timedelta(hours=3)),
                "Tandläkare",
                "CLASS:PRIVATE\r\n",
            ),
            vevent(
                "3",
                stamp(tomorrow + timedelta(hours=4)),
                stamp(tomorrow + timedelta(hours=5)),
                "Möte",
                "TRANSP:TRANSPARENT\r\n",
            ),
            vevent("4", stamp(tomorrow + timedelta(hours=5)), stamp(tomorrow + timedelta(hours=6)), "Planering"),
        ),
        encoding="utf-8",
    )
    assert main(["calendar", "check", "--config", write_config(tmp_path, str(feed))]) == 0
    day = tomorrow.strftime("%Y-%m-%d")
    assert capsys.readouterr().out.splitlines() == [
        f"soc1 (Anna Lindqvist): {feed}",
        f'  {day} 10:00–11:00  referral meeting  "Möte med nämnden"',
        f"  {day} 12:00–13:00  referral other  (private)",
        f'  {day} 14:00–15:00  nothing (shown as free)  "Möte"',
        f'  {day} 15:00–16:00  nothing (its subject names no reason)  "Planering"',
        "  now: no calendar referral",
    ]


def test_r11_calendar_check_fails_for_a_feed_it_cannot_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, str(tmp_path / "missing.ics"))
    assert main(["calendar", "check", "--config", config]) == 1
    assert f"  unreachable: cannot read {tmp_path}/missing.ics" in capsys.readouterr().out
    (tmp_path / "missing.ics").write_text("<html>Logga in</html>", encoding="utf-8")
    assert main(["calendar", "check", "--config", config, "--person", "soc1"]) == 1
    assert "  malformed: not iCalendar" in capsys.readouterr().out


def test_r11_calendar_check_refuses_an_unknown_person_or_one_without_a_calendar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, str(FIXTURES / "outlook-anna.ics"))
    assert main(["calendar", "check", "--config", config, "--person", "nobody"]) == 2
    assert "no person has the id 'nobody'" in capsys.readouterr().err
    assert main(["calendar", "check", "--config", config, "--person", "soc2"]) == 2
    assert "soc2 has no calendar" in capsys.readouterr().err
    (tmp_path / "broken.yaml").write_text("version: 2\n", encoding="utf-8")
    assert main(["calendar", "check", "--config", str(tmp_path / "broken.yaml")]) == 2


def test_r11_referral_list_shows_the_calendars_referral_source_and_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, str(FIXTURES / "outlook-anna.ics"))
    now = datetime.now(STOCKHOLM).replace(second=0, microsecond=0)
    store = SqliteStore(tmp_path / "routing.db")
    synced = now - timedelta(minutes=3)
    store.save_calendar(
        "soc1",
        SyncedCalendar(
            (
                CalendarEntry(now - timedelta(minutes=30), now + timedelta(minutes=30), Reason.MEETING),
                CalendarEntry(now + timedelta(minutes=50), now + timedelta(minutes=90), Reason.LUNCH, private=True),
            ),
            synced,
        ),
    )
    store.set_referral(Referral("kc1", Reason.SICK), at=now, by="phone:7001")
    store.close()
    assert main(["referral", "list", "--config", config]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["person", "name", "unit", "reason", "back", "mobile", "source", "soon"]
    assert lines[1].split() == ["kc1", "Karin", "Holm", "kc", "sick", "until", "further", "notice", "phone:7001"]
    back = (now + timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M").split()
    assert lines[2].split() == [
        "soc1", "Anna", "Lindqvist", "soc", "meeting", *back, "0701234567",
        "calendar", synced.strftime("%H:%M"), "busy", "(private)", "in", "50", "min",
    ]  # fmt: skip


def test_r11_a_referral_set_by_hand_shows_over_the_calendar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, str(FIXTURES / "outlook-anna.ics"))
    now = datetime.now(STOCKHOLM)
    store = SqliteStore(tmp_path / "routing.db")
    store.save_calendar(
        "soc1",
        SyncedCalendar((CalendarEntry(now - timedelta(hours=1), now + timedelta(hours=1), Reason.MEETING),), now),
    )
    store.set_referral(Referral("soc1", Reason.VACATION, date(2099, 1, 2)), at=now, by="operator:lisa")
    store.close()
    assert main(["referral", "list", "--config", config]) == 0
    row = capsys.readouterr().out.splitlines()[1].split()
    assert row[4:] == ["vacation", "2099-01-02", "0701234567", "operator:lisa"]


def test_r11_explain_at_reads_the_feed_itself_when_no_service_synced_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, str(FIXTURES / "outlook-anna.ics"))
    # Tuesday 24 March 2026 10:15: the weekly meeting (10–11) in Outlook's Windows zone name.
    assert (
        main(["explain", "--config", config, "--to", "5001", "--from", "0701234567", "--at", "2026-03-24T10:15"]) == 0
    )
    out = capsys.readouterr().out
    assert "Anna Lindqvist sitter i möte och är tillbaka klockan 11." in out
    assert "ring person" not in out  # the phone does not ring
    assert f"soc1: read now from {FIXTURES}/outlook-anna.ics" in out
    # A referral given on the command line beats the calendar (as one set by hand does).
    assert (
        main(
            [
                "explain",
                "--config",
                config,
                "--to",
                "5001",
                "--at",
                "2026-03-24T10:15",
                "--referral",
                "soc1=lunch@10:45",
            ]
        )
        == 0
    )
    assert "Anna Lindqvist är på lunch och är tillbaka klockan 10.45." in capsys.readouterr().out


def test_r11_explain_uses_the_services_sync_when_it_covers_the_moment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, str(tmp_path / "not-there.ics"))
    now = datetime.now(STOCKHOLM).replace(second=0, microsecond=0)
    store = SqliteStore(tmp_path / "routing.db")
    store.save_calendar(
        "soc1", SyncedCalendar((CalendarEntry(now + timedelta(hours=1), now + timedelta(hours=2), Reason.COURSE),), now)
    )
    store.close()
    at = (now + timedelta(hours=1, minutes=30)).strftime("%Y-%m-%dT%H:%M")
    assert main(["explain", "--config", config, "--to", "5001", "--at", at]) == 0
    out = capsys.readouterr().out
    assert "Anna Lindqvist är på kurs" in out
    assert f"soc1: the service's sync at {now:%H:%M}" in out
