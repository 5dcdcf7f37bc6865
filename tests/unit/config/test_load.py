"""Loading the admins' YAML file: the example, `routing check`, YAML 1.1 quirks, defaults."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from routing.config import Config, ConfigError, ConfigIssue, load_config, load_config_text
from routing.config.schema import FallbackItem
from routing.config.source import parse

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "example.yaml"

# The least a valid file needs: everything else has a default.
MINIMAL = """\
version: 1
working_hours:
  mon-fri: "08:00-17:00"
asterisk:
  ami: {secret_env: ROUTING_AMI_SECRET}
  ari: {password_env: ROUTING_ARI_PASSWORD}
switchboard:
  extension: "9000"
  device: PJSIP/9000
  voicemail: "9000@default"
"""

# MINIMAL with one unit and one person, to read how YAML typed their values.
WITH_PERSON = (
    MINIMAL
    + """\
units:
  - id: soc
    name: Socialtjänsten
    number: "5000"
    telephone_officer: soc1
    duty_phone: "5001"
    voicemail: "5000@default"
people:
  - id: soc1
    name: Anna Lindqvist
    unit: soc
    extension: "5001"
    device: PJSIP/5001
    voicemail: "5001@default"
    mobile: 0701234567
    forward_to_mobile:
      approved_by: Verksamhetschef
      approved_on: 2026-03-01
"""
)


def run_check(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "routing", "check", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def line_and_column(text: str, fragment: str) -> tuple[int, int]:
    """1-based position of the single occurrence of `fragment` in `text`."""
    assert text.count(fragment) == 1, fragment
    before = text[: text.index(fragment)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


# --- the example ----------------------------------------------------------------------------


def test_example_loads() -> None:
    config = load_config(EXAMPLE)
    assert isinstance(config, Config)
    assert config.version == 1
    assert config.units and config.people


def test_check_accepts_the_example_with_a_one_line_summary() -> None:
    result = run_check(EXAMPLE)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    config = load_config(EXAMPLE)
    assert result.stdout.splitlines() == [
        f"{EXAMPLE}: OK (schema v1): {len(config.units)} units, {len(config.people)} people, "
        f"{len(config.phones)} shared phones, ring limit 5 × 6 s"
    ]


def test_check_refuses_a_broken_copy_with_exit_2_and_positions(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("timezone: Europe/Stockholm", "timezone: Europe/Stokholm", 1)
    text = text.replace("  max_rings: 5 ", "  max_rings: 0 ", 1)
    broken = tmp_path / "broken.yaml"
    broken.write_text(text, encoding="utf-8")
    zone_line, zone_column = line_and_column(text, "Europe/Stokholm")
    rings_line, rings_column = line_and_column(text, "max_rings: 0 ")
    rings_column += len("max_rings: ")

    result = run_check(broken)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{broken}:{zone_line}:{zone_column}: timezone: "
        "'Europe/Stokholm' is not an IANA time zone, e.g. Europe/Stockholm",
        f"{broken}:{rings_line}:{rings_column}: ring.max_rings: Input should be greater than or equal to 1",
        f"{broken}: 2 errors; nothing changed",
    ]


def test_check_reports_cross_check_errors_on_stderr(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("telephone_officer: kc1", "telephone_officer: kc11", 1)
    broken = tmp_path / "broken.yaml"
    broken.write_text(text, encoding="utf-8")
    line, column = line_and_column(text, "kc11")

    result = run_check(broken)

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{broken}:{line}:{column}: units[2].telephone_officer: R10: no person has the id 'kc11' (did you mean 'kc1'?)",
        f"{broken}: 1 error; nothing changed",
    ]


def test_check_of_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = run_check(tmp_path / "nowhere.yaml")
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_an_issue_prints_as_file_line_column_path_message() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_text(MINIMAL.replace('extension: "9000"', "extension: 9000"), "kommun.yaml")
    (issue,) = caught.value.issues
    assert issue == ConfigIssue(
        "kommun.yaml",
        8,
        14,
        "switchboard.extension",
        'write it in quotes, e.g. "9000" (YAML reads bare digits as a number)',
    )
    assert str(issue) == (
        'kommun.yaml:8:14: switchboard.extension: write it in quotes, e.g. "9000" (YAML reads bare digits as a number)'
    )
    assert str(caught.value) == str(issue)


# --- YAML 1.1 quirks ------------------------------------------------------------------------


def test_country_code_no_stays_a_string() -> None:
    text = MINIMAL + "calendar:\n  holidays: NO\n  holiday_categories: [public]\n"
    assert load_config_text(text).calendar.holidays == "NO"


@pytest.mark.parametrize("word", ["NO", "no", "yes", "on", "off", "y", "n"])
def test_yaml_1_1_booleans_stay_strings(word: str) -> None:
    source, issues = parse(f"word: {word}\n", "t.yaml")
    assert issues == []
    assert source.data == {"word": word}


def test_true_and_false_are_still_booleans() -> None:
    source, _ = parse("a: true\nb: false\n", "t.yaml")
    assert source.data == {"a": True, "b": False}
    assert load_config_text(MINIMAL + "logging:\n  mask_numbers: false\n").logging.mask_numbers is False


def test_unquoted_mobile_with_leading_zero_stays_a_string() -> None:
    source, _ = parse("mobile: 0701234567\n", "t.yaml")
    assert source.data == {"mobile": "0701234567"}
    person = load_config_text(WITH_PERSON).people[0]
    assert person.mobile == "0701234567"


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        ("+46701234567", "+46701234567"),  # not an int with a sign
        ("0900", "0900"),  # not octal
        ("07:30-16:30", "07:30-16:30"),  # not base-60
        ("5001", 5001),  # plain digits are a number: the schema asks for quotes
        ("6", 6),
        ("6.5", 6.5),
    ],
)
def test_numbers_as_yaml_reads_them(scalar: str, value: object) -> None:
    source, _ = parse(f"x: {scalar}\n", "t.yaml")
    assert source.data == {"x": value}
    assert type(source.data["x"]) is type(value)


def test_unquoted_date_is_read_by_the_schema_not_by_yaml() -> None:
    source, _ = parse(WITH_PERSON, "t.yaml")
    assert source.data["people"][0]["forward_to_mobile"]["approved_on"] == "2026-03-01"
    approval = load_config_text(WITH_PERSON).people[0].forward_to_mobile
    assert approval is not None
    assert approval.approved_on == date(2026, 3, 1)


def test_impossible_unquoted_date_is_an_issue_not_a_crash() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_text(WITH_PERSON.replace("2026-03-01", "2026-02-30"), "t.yaml")
    assert [(i.path, i.message) for i in caught.value.issues] == [
        (
            "people[0].forward_to_mobile.approved_on",
            "'2026-02-30' is not a date (YYYY-MM-DD): day value is outside expected range",
        )
    ]


# --- defaults -------------------------------------------------------------------------------


def test_defaults() -> None:
    config = load_config_text(MINIMAL)
    assert config.timezone == "Europe/Stockholm"
    # R1: five ring signals of 6 s (1 s tone, 5 s pause): 30 s at most at each step.
    assert config.ring.max_rings == 5
    assert config.ring.ring_period_s == 6.0
    assert config.fallback == (FallbackItem.COVER, FallbackItem.VOICEMAIL, FallbackItem.CALLBACK)
    assert config.logging.format == "json"
    assert config.logging.mask_numbers is True  # R12
    assert config.calendar.holidays == "SE"
    assert config.calendar.holiday_categories == ("public", "de_facto")
    assert config.callback.digit == "1"
    assert config.max_redirects == 3
    assert config.outbound.trunk == "PJSIP/{number}@operator"
    assert config.asterisk.agi.listen == "127.0.0.1:4573"
    assert config.store.url.startswith("sqlite:///")


def test_defaults_shown_by_check(tmp_path: Path) -> None:
    minimal = tmp_path / "minimal.yaml"
    minimal.write_text(MINIMAL, encoding="utf-8")
    result = run_check(minimal)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (f"{minimal}: OK (schema v1): 0 units, 0 people, 0 shared phones, ring limit 5 × 6 s\n")


@pytest.mark.parametrize(
    ("key", "documented", "value"),
    [
        ("ring.max_rings", "`5`", lambda c: c.ring.max_rings == 5),
        ("ring.ring_period_s", "`6`", lambda c: c.ring.ring_period_s == 6),
        ("fallback", "`[cover, voicemail, callback]`", lambda c: c.fallback == ("cover", "voicemail", "callback")),
        ("logging.format", "`json`", lambda c: c.logging.format == "json"),
        ("logging.mask_numbers", "`true`", lambda c: c.logging.mask_numbers is True),
    ],
)
def test_defaults_are_the_documented_ones(key: str, documented: str, value: Callable[[Config], bool]) -> None:
    readme = ROOT / "README.md"
    if not readme.exists():
        pytest.skip("no README.md beside the package")
    rows = [line for line in readme.read_text(encoding="utf-8").splitlines() if line.startswith(f"| `{key}` |")]
    assert len(rows) == 1, f"README has no single row for {key}"
    assert rows[0].split(" | ")[1] == documented
    assert value(load_config_text(MINIMAL))
