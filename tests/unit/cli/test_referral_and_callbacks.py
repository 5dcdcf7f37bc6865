"""`routing referral …` and `routing callbacks …` against a store in a temporary folder."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from routing.cli.main import main
from routing.policy.referral import Reason
from routing.store import SqliteStore

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "example.yaml"


@pytest.fixture
def config(tmp_path: Path) -> str:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "sqlite:///var/lib/routing/routing.db", f"sqlite:///{tmp_path}/routing.db"
    )
    path = tmp_path / "routing.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def store(config: str) -> SqliteStore:
    return SqliteStore(Path(config).parent / "routing.db")


def test_r11_referral_set_list_clear(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["referral", "set", "soc2", "--reason", "vacation", "--until", "2099-12-07", "--config", config]) == 0
    assert capsys.readouterr().out == "soc2: vacation until 2099-12-07\n"
    assert main(["referral", "set", "kc1", "--reason", "sick", "--config", config]) == 0
    capsys.readouterr()
    assert main(["referral", "list", "--config", config]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["person", "name", "unit", "reason", "back", "mobile", "source", "soon"]
    assert lines[1].split() == ["kc1", "Karin", "Holm", "kc", "sick", "until", "further", "notice", "cli"]
    assert lines[2].split() == [
        "soc2",
        "Erik",
        "Johansson",
        "soc",
        "vacation",
        "2099-12-07",
        "0702345678",
        "cli",
    ]  # R15
    assert main(["referral", "clear", "soc2", "--config", config]) == 0
    assert [r.person for r in store(config).referrals()] == ["kc1"]


def test_r11_referral_until_a_time_is_today_or_tomorrow(config: str) -> None:
    assert main(["referral", "set", "soc1", "--reason", "lunch", "--until", "12:30", "--config", config]) == 0
    (referral,) = store(config).referrals()
    assert referral.reason is Reason.LUNCH and isinstance(referral.until, datetime)
    now = datetime.now(ZoneInfo("Europe/Stockholm"))
    assert referral.until.strftime("%H:%M") == "12:30"
    assert now < referral.until <= now + timedelta(days=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["referral", "set", "nobody", "--reason", "lunch"], "no person has the id 'nobody'"),
        (["referral", "set", "soc1", "--reason", "napping"], "'napping' is not a reason"),
        (["referral", "set", "soc1", "--reason", "lunch", "--until", "25:00"], "'25:00' is not a time HH:MM"),
        (["referral", "set", "soc1", "--reason", "lunch", "--until", "2001-01-01"], "has passed already"),
        (["callbacks", "done", "42"], "no callback has the id 42"),
    ],
)
def test_bad_input_exit_2_and_nothing_changes(
    config: str, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*args, "--config", config]) == 2
    assert message in capsys.readouterr().err
    assert store(config).referrals() == []


def test_r4_callbacks_list_and_done(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = store(config)
    when = datetime(2026, 12, 1, 10, 15, tzinfo=ZoneInfo("Europe/Stockholm"))
    first = db.add_callback(call_id="1.1", caller="+46701234567", target="soc1", at=when)
    db.add_callback(call_id="1.2", caller="0812345678", target="soc", at=when)
    assert main(["callbacks", "list", "--open", "--config", config]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == [str(first), "2026-12-01", "10:15", "soc1", "+46701234567", "open", "0"]
    assert main(["callbacks", "done", str(first), "--by", "Anna", "--config", config]) == 0
    assert main(["callbacks", "done", str(first), "--config", config]) == 1
    capsys.readouterr()
    assert main(["callbacks", "list", "--open", "--config", config]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]] == [str(first + 1)]
