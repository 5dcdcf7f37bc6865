"""The `routing` command as an admin uses it: check and explain."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from routing.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "example.yaml"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "routing", *args], capture_output=True, text=True, check=False)


def test_python_dash_m_routing_checks_the_example() -> None:
    result = run("check", "--config", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("3 units, 8 people, 2 shared phones, ring limit 5 × 6 s")


def test_check_refuses_a_broken_file_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(EXAMPLE.read_text(encoding="utf-8").replace('    cover: "6002"', '    cover: "6999"'))
    assert main(["check", "--config", str(broken)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{broken}:")
    assert err[0].endswith(
        "people[3].cover: cover '6999' is not the extension of a person, a phone or the switchboard, "
        "nor a unit's number"
    )
    assert err[-1] == f"{broken}: 1 error; nothing changed"


def test_r1_check_warns_of_a_queue_longer_than_the_ring_limit_and_still_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    operators = "  operators:\n    - {id: eva, name: Eva Lund, device: PJSIP/9001}\n"
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        '  voicemail: "9000@default"\n', f'  voicemail: "9000@default"\n{operators}  queue_timeout_s: 45\n', 1
    )
    lines = text.splitlines()
    line = next(n for n, content in enumerate(lines, 1) if "queue_timeout_s: 45" in content)
    config = tmp_path / "long-queue.yaml"
    config.write_text(text, encoding="utf-8")
    assert main(["check", "--config", str(config)]) == 0
    out, err = capsys.readouterr()
    assert "OK" in out
    assert err.splitlines() == [
        f"{config}:{line}:20: warning: switchboard.queue_timeout_s: 45 s is longer than the ring limit "
        "(5 × 6 s = 30 s): callers waiting in the switchboard's queue hear more than 5 signals before an "
        "answer (R1); leave it out to wait the ring limit"
    ]
    config.write_text(text.replace("queue_timeout_s: 45", "queue_timeout_s: 30"), encoding="utf-8")
    assert main(["check", "--config", str(config)]) == 0
    assert capsys.readouterr().err == ""  # at the limit: nothing to warn of


def test_check_missing_file_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", "/nonexistent/routing.yaml"]) == 2
    assert "cannot read" in capsys.readouterr().err


def explain(*args: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["explain", "--config", str(EXAMPLE), *args]) == 0
    return capsys.readouterr().out


def test_explain_person_with_rules_and_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    out = explain("--to", "5002", "--from", "0701234567", "--at", "2026-12-01T10:15", capsys=capsys)
    assert "From 070*****67 (external) at 2026-12-01T10:15+01:00 Europe/Stockholm" in out
    assert " 1. ring person soc2: PJSIP/5002, at most 30 s  [R1]" in out
    assert " 2. ring cover soc1: PJSIP/5001, at most 30 s  [R1 R2]" in out
    assert " 3. voicemail 5002@default (voicemail of soc2)  [R2]" in out
    assert "0701234567" not in out  # R12: masked


def test_explain_unit_outside_telephone_hours(capsys: pytest.CaptureFixture[str]) -> None:
    out = explain("--to", "5000", "--at", "2026-12-01T13:00", capsys=capsys)
    assert "Hours: inside working hours, outside the unit's telephone hours" in out
    assert "announcement message (prompt 'soc-telefontid', else spoken)" in out
    assert "ring duty phone 5099: PJSIP/5099, at most 30 s  [R1 R8]" in out


def test_explain_internal_call_bypasses_telephone_hours(capsys: pytest.CaptureFixture[str]) -> None:
    out = explain("--to", "5000", "--from", "7001", "--internal", "--at", "2026-12-01T13:00", capsys=capsys)
    assert " 1. ring unit soc: PJSIP/5001 + PJSIP/5002 + PJSIP/5003, at most 30 s  [R1]" in out


def test_explain_referral(capsys: pytest.CaptureFixture[str]) -> None:
    out = explain("--to", "5001", "--at", "2026-12-01T10:15", "--referral", "soc1=meeting@13:00", capsys=capsys)
    assert (
        ' 1. referral message (spoken): "Anna Lindqvist sitter i möte och är tillbaka klockan 13. '
        'Mobilnummer: 0 7 0 1 2 3 4 5 6 7."  [R2 R11 R15]'
    ) in out
    assert "From a hidden number" in out and "voicemail instead (R4)" in out


def test_explain_holiday_is_closed(capsys: pytest.CaptureFixture[str]) -> None:
    out = explain("--to", "7000", "--at", "2026-06-19T10:00", capsys=capsys)  # midsommarafton
    assert "Hours: outside working hours" in out and "Vi har stängt" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--referral", "soc1=napping"], "'napping' is not a reason"),
        (["--referral", "nobody=lunch"], "no person has the id 'nobody'"),
        (["--referral", "soc1"], "write PERSON=REASON"),
        (["--at", "tomorrow"], "Invalid isoformat string"),
    ],
)
def test_explain_bad_arguments_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--config", str(EXAMPLE), "--to", "5001", *args]) == 2
    assert message in capsys.readouterr().err
