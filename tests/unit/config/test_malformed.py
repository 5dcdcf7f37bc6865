"""Malformed configs: each is a small edit of BASE, and each must be reported with its exact
message, line, column and key path, and with no other issue.

BASE is a small but complete config (3 units, 5 people, 1 shared phone). Its line numbers are
relied on below, so edit it only together with the expected positions; `test_base_lines`
pins the lines most cases point at.
"""

from __future__ import annotations

import pytest

from routing.config import ConfigError, load_config_text

BASE = """\
version: 1
timezone: Europe/Stockholm
calendar:
  holidays: SE
  holiday_categories: [public, de_facto]
  closed_days: [2026-05-15]
  special_hours:
    2026-12-23: "07:30-12:00"
working_hours:
  mon-thu: "07:30-16:30"
  fri: "07:30-15:00"
ring:
  max_rings: 5
  ring_period_s: 6
asterisk:
  ami:
    username: routing
    secret_env: ROUTING_AMI_SECRET
  ari:
    url: "http://127.0.0.1:8088"
    password_env: ROUTING_ARI_PASSWORD
switchboard:
  extension: "9000"
  device: PJSIP/9000
  voicemail: "9000@default"
fallback: [cover, voicemail, callback]
units:
  - id: soc
    name: Socialtjänsten
    number: "5000"
    members: [soc1, soc2]
    telephone_officer: soc1
    phone_hours:
      mon-fri: "09:00-11:00"
    duty_phone: "5099"
    voicemail: "5000@default"
  - id: bygg
    name: Bygglovsenheten
    number: "6000"
    telephone_officer: bygg1
    duty_phone: "6001"
    voicemail: "6000@default"
  - id: kc
    name: Kontaktcenter
    number: "7000"
    telephone_officer: kc1
    duty_phone: "7001"
    voicemail: "7000@default"
people:
  - id: soc1
    name: Anna Lindqvist
    unit: soc
    extension: "5001"
    device: PJSIP/5001
    mobile: "+46701234567"
    cover: "5000"
    voicemail: "5001@default"
    forward_to_mobile:
      approved_by: Verksamhetschef Socialtjänsten
      approved_on: 2026-03-01
  - id: soc2
    name: Erik Johansson
    unit: soc
    extension: "5002"
    device: PJSIP/5002
    cover: "5001"
    voicemail: "5002@default"
  - id: bygg1
    name: Lars Nilsson
    unit: bygg
    extension: "6001"
    device: PJSIP/6001
    mobile: "0703456789"
    cover: "6000"
    voicemail: "6001@default"
  - id: bygg2
    name: Maria Berg
    unit: bygg
    extension: "6002"
    device: PJSIP/6002
    cover: "9000"
    voicemail: "6002@default"
    pay_services:
      approved_by: Verksamhetschef Bygg
      approved_on: 2026-03-01
  - id: kc1
    name: Karin Holm
    unit: kc
    extension: "7001"
    device: PJSIP/7001
    voicemail: "7001@default"
    fallback: [cover, switchboard, voicemail]
phones:
  - extension: "5099"
    name: Socialjouren
    device: PJSIP/5099
    unit: soc
outbound:
  trunk: "PJSIP/{number}@operator"
store:
  url: "sqlite:///var/lib/routing/routing.db"
"""


def edit(*changes: str) -> str:
    """BASE with each (old, new) pair replaced; every `old` must occur exactly once."""
    text = BASE
    for old, new in zip(changes[::2], changes[1::2], strict=True):
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    return text


def append(lines: str) -> str:
    return BASE + lines


FORWARD = "    forward_to_mobile:\n      approved_by: Verksamhetschef Socialtjänsten\n      approved_on: 2026-03-01\n"
PAY = "    pay_services:\n      approved_by: Verksamhetschef Bygg\n      approved_on: 2026-03-01\n"

# Errors given in the text out of line order: they must come back sorted by line.
SEVERAL_SCHEMA = edit(
    '    mobile: "0703456789"\n', '    mobile: "070-123"\n',
    '    extension: "5002"\n', "    extension: 5002\n",
    "timezone: Europe/Stockholm\n", "timezone: Europe/Stokholm\n",
    '  fri: "07:30-15:00"\n', '  fri: "9-17"\n',
)  # fmt: skip
SEVERAL_CROSS = edit(
    '    extension: "6002"\n', '    extension: "6001"\n',
    '    cover: "5001"\n', '    cover: "5999"\n',
    "    telephone_officer: kc1\n", "    telephone_officer: kc2\n",
)  # fmt: skip
# A duplicate key (found while reading the YAML) and a schema error are reported together.
DUP_AND_SCHEMA = edit(
    '    cover: "5001"\n', '    cover: "5001"\n    cover: "5000"\n',
    "  max_rings: 5\n", "  max_rings: 0\n",
)  # fmt: skip

Issue = tuple[int, int, str, str]  # line, column, key path, message

CASES = [
    # Who may speak FastAGI (#11): an address or a network, never a guess.
    pytest.param(
        edit(
            "    password_env: ROUTING_ARI_PASSWORD\n",
            '    password_env: ROUTING_ARI_PASSWORD\n  agi:\n    allow: ["127.0.0.1", "asterisk-host"]\n',
        ),
        [
            (
                23,
                26,
                "asterisk.agi.allow[1]",
                '\'asterisk-host\' is not an IP address or network, e.g. "127.0.0.1" or "10.1.2.0/24"',
            ),
        ],
        id="agi-allow-not-an-address",
    ),
    # Unknown keys: a typo never passes silently, and the closest key is suggested.
    pytest.param(
        append("timzone: Europe/Stockholm\n"),
        [
            (102, 1, "timzone", "unknown key 'timzone' (did you mean 'timezone'?)"),
        ],
        id="unknown-key-top",
    ),
    pytest.param(
        edit(
            "    telephone_officer: bygg1\n",
            '    telephone_officer: bygg1\n    duty_phon: "6001"\n',
        ),
        [
            (41, 5, "units[1].duty_phon", "unknown key 'duty_phon' (did you mean 'duty_phone'?)"),
        ],
        id="unknown-key-unit",
    ),
    pytest.param(
        edit('    cover: "5001"\n', '    covr: "5001"\n'),
        [
            (66, 5, "people[1].covr", "unknown key 'covr' (did you mean 'cover'?)"),
        ],
        id="unknown-key-person",
    ),
    pytest.param(
        edit(
            "      approved_on: 2026-03-01\n  - id: soc2\n",
            "      approved_at: 2026-03-01\n  - id: soc2\n",
        ),
        [
            (
                58,
                5,
                "people[0].forward_to_mobile.approved_on",
                "R14: required key 'approved_on' is missing: forwarding desk calls to a mobile "
                "needs the head of unit's written approval, with its date (YYYY-MM-DD)",
            ),
            (
                60,
                7,
                "people[0].forward_to_mobile.approved_at",
                "unknown key 'approved_at' (did you mean 'approved_on'?)",
            ),
        ],
        id="unknown-key-approval",
    ),
    # Secrets: never in the file, exactly one of *_env and *_file.
    pytest.param(
        edit("    secret_env: ROUTING_AMI_SECRET\n", "    secret: hunter2\n"),
        [
            (
                18,
                5,
                "asterisk.ami.secret",
                "secrets are never written in this file: name an environment variable "
                "(secret_env) or a file (secret_file) that holds the secret",
            ),
        ],
        id="secret-in-ami",
    ),
    pytest.param(
        edit(
            "    password_env: ROUTING_ARI_PASSWORD\n",
            "    password_env: ROUTING_ARI_PASSWORD\n    password: hunter2\n",
        ),
        [
            (
                22,
                5,
                "asterisk.ari.password",
                "secrets are never written in this file: name an environment variable "
                "(password_env) or a file (password_file) that holds the password",
            ),
        ],
        id="password-in-ari",
    ),
    pytest.param(
        edit(
            "    secret_env: ROUTING_AMI_SECRET\n",
            "    secret_env: ROUTING_AMI_SECRET\n    secret_file: /etc/routing/ami-secret\n",
        ),
        [
            (16, 3, "asterisk.ami", "give one of secret_env and secret_file, not both"),
        ],
        id="secret-env-and-file",
    ),
    pytest.param(
        edit("    secret_env: ROUTING_AMI_SECRET\n", ""),
        [
            (
                16,
                3,
                "asterisk.ami",
                "the secret is missing: secrets are never written in this file, so name an "
                "environment variable (secret_env) or a file (secret_file) that holds it",
            ),
        ],
        id="secret-neither",
    ),
    pytest.param(
        edit("    secret_env: ROUTING_AMI_SECRET\n", "    secret_env: routing_ami_secret\n"),
        [
            (
                18,
                17,
                "asterisk.ami.secret_env",
                "'routing_ami_secret' is not an environment variable name, e.g. ROUTING_AMI_SECRET",
            ),
        ],
        id="secret-env-lowercase",
    ),
    # The file as a whole, and YAML itself.
    pytest.param(
        edit("version: 1\n", "version: 2\n"),
        [
            (1, 10, "version", "this release reads schema version 1: write version: 1"),
        ],
        id="version-2",
    ),
    pytest.param(
        edit("version: 1\n", ""),
        [
            (1, 1, "version", "required key 'version' is missing"),
        ],
        id="version-missing",
    ),
    pytest.param(
        "",
        [
            (1, 1, "(top)", "the file is empty: it needs at least version: 1"),
        ],
        id="empty-file",
    ),
    pytest.param(
        "# nothing here yet\n",
        [
            (1, 1, "(top)", "the file is empty: it needs at least version: 1"),
        ],
        id="only-comments",
    ),
    pytest.param(
        "- version: 1\n",
        [
            (1, 1, "(top)", "the file must be a mapping of keys, starting with version: 1"),
        ],
        id="not-a-mapping",
    ),
    pytest.param(
        edit("    name: Erik Johansson\n", "    name: Erik: Johansson\n"),
        [
            (
                62,
                15,
                "(yaml)",
                "YAML syntax: mapping values are not allowed here: check the indentation, or "
                "put a value that contains ': ' in quotes",
            ),
        ],
        id="yaml-colon-in-value",
    ),
    pytest.param(
        edit("    members: [soc1, soc2]\n", "    members: [soc1, soc2\n"),
        [
            (
                32,
                22,
                "(yaml)",
                "YAML syntax: expected ',' or ']', but got ':' (while parsing a flow sequence that starts on line 31)",
            ),
        ],
        id="yaml-unclosed-list",
    ),
    pytest.param(
        edit('  fri: "07:30-15:00"\n', '\tfri: "07:30-15:00"\n'),
        [
            (
                11,
                1,
                "(yaml)",
                "YAML syntax: found character '\\t' that cannot start any token: indent with spaces, not tabs",
            ),
        ],
        id="yaml-tab",
    ),
    pytest.param(
        edit('    cover: "5001"\n', '    cover: "5001"\n    cover: "5000"\n'),
        [
            (67, 5, "people[1].cover", "key given twice (first on line 66)"),
        ],
        id="duplicate-key-person",
    ),
    pytest.param(
        append("version: 1\n"),
        [
            (102, 1, "version", "key given twice (first on line 1)"),
        ],
        id="duplicate-key-top",
    ),
    # Values with a format: extensions, numbers, devices, mailboxes, ids.
    pytest.param(
        edit('    extension: "5002"\n', "    extension: 5002\n"),
        [
            (
                64,
                16,
                "people[1].extension",
                'write it in quotes, e.g. "5002" (YAML reads bare digits as a number)',
            ),
        ],
        id="extension-unquoted",
    ),
    pytest.param(
        edit('    extension: "5002"\n', '    extension: "50-02"\n'),
        [
            (
                64,
                16,
                "people[1].extension",
                "'50-02' is not an extension (2 to 10 digits), e.g. \"5001\"",
            ),
        ],
        id="extension-malformed",
    ),
    pytest.param(
        edit('    mobile: "0703456789"\n', '    mobile: "070-123"\n'),
        [
            (
                73,
                13,
                "people[2].mobile",
                "'070-123' is not a phone number (digits only, +country or a leading 0), e.g. "
                '"+46701234567" or "0701234567"',
            ),
        ],
        id="mobile-malformed",
    ),
    pytest.param(
        edit("    device: PJSIP/5002\n", "    device: PJSIP 5002\n"),
        [
            (
                65,
                13,
                "people[1].device",
                "'PJSIP 5002' is not an Asterisk device (TECH/resource), e.g. PJSIP/5001",
            ),
        ],
        id="device-malformed",
    ),
    pytest.param(
        edit("    device: PJSIP/5002\n", "    device: 5002\n"),
        [
            (
                65,
                13,
                "people[1].device",
                "5002 is not an Asterisk device (TECH/resource), e.g. PJSIP/5001",
            ),
        ],
        id="device-bare-digits",
    ),
    pytest.param(
        edit("    device: PJSIP/5002\n", "    device:\n"),
        [
            (65, 12, "people[1].device", "no value is given here: write one after the colon"),
        ],
        id="device-empty",
    ),
    pytest.param(
        edit('    voicemail: "5002@default"\n', '    voicemail: "5002@@default"\n'),
        [
            (
                67,
                16,
                "people[1].voicemail",
                "'5002@@default' is not a voicemail box (BOX@context), e.g. \"5001@default\"",
            ),
        ],
        id="mailbox-malformed",
    ),
    pytest.param(
        edit("  - id: bygg2\n", "  - id: Bygg2\n"),
        [
            (
                76,
                9,
                "people[3].id",
                "'Bygg2' is not an id (lower-case letters, digits, - and _), e.g. soc",
            ),
        ],
        id="id-upper-case",
    ),
    pytest.param(
        edit("people:\n", "people:\n  - soc9\n"),
        [
            (50, 5, "people[0]", "write a mapping here (key: value lines, or {key: value, ...})"),
        ],
        id="person-not-a-mapping",
    ),
    # Hours (R6, R7): time ranges and day keys.
    pytest.param(
        edit('  fri: "07:30-15:00"\n', '  fri: "25:00-26:00"\n'),
        [
            (11, 8, "working_hours.fri", "'25:00-26:00': start time 25:00 does not exist"),
        ],
        id="time-hour-25",
    ),
    pytest.param(
        edit('  fri: "07:30-15:00"\n', '  fri: "16:30-07:30"\n'),
        [
            (
                11,
                8,
                "working_hours.fri",
                "'16:30-07:30': the end must come after the start (ranges do not cross midnight)",
            ),
        ],
        id="time-across-midnight",
    ),
    pytest.param(
        edit('  fri: "07:30-15:00"\n', '  fri: "9-17"\n'),
        [
            (
                11,
                8,
                "working_hours.fri",
                "'9-17' is not a time range: write it as HH:MM-HH:MM, e.g. 07:30-16:30",
            ),
        ],
        id="time-hours-only",
    ),
    pytest.param(
        edit('  fri: "07:30-15:00"\n', '  fri: "07:30-15:60"\n'),
        [
            (11, 8, "working_hours.fri", "'07:30-15:60': end time 15:60 does not exist"),
        ],
        id="time-minute-60",
    ),
    pytest.param(
        edit('  fri: "07:30-15:00"\n', "  fri: 9\n"),
        [
            (
                11,
                8,
                "working_hours.fri",
                "hours must be a range like 07:30-16:30, a list of ranges, or closed",
            ),
        ],
        id="time-bare-number",
    ),
    pytest.param(
        edit('  mon-thu: "07:30-16:30"\n', '  mon-thx: "07:30-16:30"\n'),
        [
            (
                10,
                3,
                "working_hours.mon-thx",
                "'mon-thx' is not a day: use mon, tue, wed, thu, fri, sat, sun or a range like mon-fri",
            ),
        ],
        id="day-unknown",
    ),
    pytest.param(
        edit('  fri: "07:30-15:00"\n', '  fri-mon: "07:30-15:00"\n'),
        [
            (
                11,
                3,
                "working_hours.fri-mon",
                "'fri-mon': a day range runs forward within one week, e.g. mon-fri",
            ),
        ],
        id="day-range-backwards",
    ),
    pytest.param(
        edit('  fri: "07:30-15:00"\n', '  fri: "07:30-15:00"\n  wed: "08:00-12:00"\n'),
        [
            (12, 3, "working_hours.wed", "wed is given twice: in 'mon-thu' and in 'wed'"),
        ],
        id="day-given-twice",
    ),
    pytest.param(
        edit(
            '      mon-fri: "09:00-11:00"\n',
            '      mon-fri: "09:00-11:00"\n      wed: "13:00-14:00"\n',
        ),
        [
            (35, 7, "units[0].phone_hours.wed", "wed is given twice: in 'mon-fri' and in 'wed'"),
        ],
        id="day-given-twice-phone-hours",
    ),
    pytest.param(
        edit('  fri: "07:30-15:00"\n', '  fri: ["07:30-12:00", "11:00-15:00"]\n'),
        [
            (11, 8, "working_hours.fri", "ranges 07:30-12:00 and 11:00-15:00 overlap"),
        ],
        id="ranges-overlap",
    ),
    # Calendar: dates, time zone, holidays.
    pytest.param(
        edit("  closed_days: [2026-05-15]\n", "  closed_days: [2026-05-15, 2026-02-30]\n"),
        [
            (
                6,
                29,
                "calendar.closed_days[1]",
                "'2026-02-30' is not a date (YYYY-MM-DD): day value is outside expected range",
            ),
        ],
        id="closed-day-impossible",
    ),
    pytest.param(
        edit('    2026-12-23: "07:30-12:00"\n', '    2026-12-32: "07:30-12:00"\n'),
        [
            (
                8,
                5,
                "calendar.special_hours.2026-12-32",
                "'2026-12-32' is not a date (YYYY-MM-DD): day value is outside expected range",
            ),
        ],
        id="special-hours-impossible-date",
    ),
    pytest.param(
        edit("timezone: Europe/Stockholm\n", "timezone: Europe/Stokholm\n"),
        [
            (
                2,
                11,
                "timezone",
                "'Europe/Stokholm' is not an IANA time zone, e.g. Europe/Stockholm",
            ),
        ],
        id="time-zone-unknown",
    ),
    pytest.param(
        edit("  holidays: SE\n", "  holidays: XX\n"),
        [
            (4, 13, "calendar.holidays", "no holiday calendar for country 'XX'"),
        ],
        id="holiday-country-unknown",
    ),
    pytest.param(
        edit("  holidays: SE\n", "  holidays: Sweden\n"),
        [
            (
                4,
                13,
                "calendar.holidays",
                "'Sweden' is not a country code (two letters, e.g. SE) or none",
            ),
        ],
        id="holiday-country-name",
    ),
    pytest.param(
        edit(
            "  holiday_categories: [public, de_facto]\n",
            "  holiday_categories: [public, defacto]\n",
        ),
        [
            (
                5,
                32,
                "calendar.holiday_categories[1]",
                "Input should be 'public', 'de_facto', 'bank' or 'optional'",
            ),
        ],
        id="holiday-category-unknown",
    ),
    pytest.param(
        edit("  holidays: SE\n", "  holidays: NO\n"),
        [
            (
                5,
                23,
                "calendar.holiday_categories",
                "the holiday calendar of NO has no 'de_facto' holidays: use public",
            ),
        ],
        id="holiday-category-not-in-country",
    ),
    # References between units, people and phones (R8 duty phone, R10 telephone officer).
    pytest.param(
        edit('    unit: bygg\n    extension: "6002"\n', '    unit: byg\n    extension: "6002"\n'),
        [
            (78, 11, "people[3].unit", "no unit has the id 'byg' (did you mean 'bygg'?)"),
        ],
        id="person-unit-unknown",
    ),
    pytest.param(
        edit("    members: [soc1, soc2]\n", "    members: [soc1, soc22]\n"),
        [
            (31, 21, "units[0].members[1]", "no person has the id 'soc22' (did you mean 'soc2'?)"),
        ],
        id="unit-member-unknown",
    ),
    pytest.param(
        edit("    members: [soc1, soc2]\n", "    members: [soc1, soc2, soc1]\n"),
        [
            (31, 27, "units[0].members[2]", "'soc1' is listed twice in members"),
        ],
        id="unit-member-twice",
    ),
    pytest.param(
        edit("    telephone_officer: kc1\n", "    telephone_officer: kc2\n"),
        [
            (
                46,
                24,
                "units[2].telephone_officer",
                "R10: no person has the id 'kc2' (did you mean 'kc1'?)",
            ),
        ],
        id="telephone-officer-unknown",
    ),
    pytest.param(
        edit("    telephone_officer: kc1\n", ""),
        [
            (
                43,
                5,
                "units[2].telephone_officer",
                "R10: required key 'telephone_officer' is missing: every unit needs a telephone "
                "officer (telefonansvarig) registered with the switchboard; write the id of a "
                "person",
            ),
        ],
        id="telephone-officer-missing",
    ),
    pytest.param(
        edit('    duty_phone: "7001"\n', ""),
        [
            (
                43,
                5,
                "units[2].duty_phone",
                "R8: required key 'duty_phone' is missing: every unit needs a duty phone "
                "(jourtelefon) that is open all working hours; write the extension of a person "
                "or a shared phone",
            ),
        ],
        id="duty-phone-missing",
    ),
    pytest.param(
        edit('    duty_phone: "7001"\n', '    duty_phone: "5000"\n'),
        [
            (
                47,
                17,
                "units[2].duty_phone",
                "R8: duty phone '5000' is a unit's number: it must be the extension of a person "
                "or of a shared phone (phones:)",
            ),
        ],
        id="duty-phone-unit-number",
    ),
    pytest.param(
        edit('    duty_phone: "7001"\n', '    duty_phone: "7099"\n'),
        [
            (
                47,
                17,
                "units[2].duty_phone",
                "R8: duty phone '7099' is nobody's extension: it must be the extension of a "
                "person or of a shared phone (phones:)",
            ),
        ],
        id="duty-phone-nobody",
    ),
    pytest.param(
        edit('    cover: "5001"\n', '    cover: "5999"\n'),
        [
            (
                66,
                12,
                "people[1].cover",
                "cover '5999' is not the extension of a person, a phone or the switchboard, nor a unit's number",
            ),
        ],
        id="cover-nowhere",
    ),
    pytest.param(
        edit('    cover: "5001"\n', '    cover: "5002"\n'),
        [
            (66, 12, "people[1].cover", "a person cannot be their own cover position"),
        ],
        id="cover-own-extension",
    ),
    pytest.param(
        edit("    unit: soc\noutbound:\n", "    unit: sco\noutbound:\n"),
        [
            (97, 11, "phones[0].unit", "no unit has the id 'sco' (did you mean 'soc'?)"),
        ],
        id="phone-unit-unknown",
    ),
    # Every number dials exactly one thing; every id names one unit or person.
    pytest.param(
        edit('    extension: "6002"\n', '    extension: "6001"\n'),
        [
            (79, 16, "people[3].extension", "number '6001' is already used by people[2] (bygg1)"),
        ],
        id="extension-of-two-people",
    ),
    pytest.param(
        edit('    extension: "6002"\n', '    extension: "6000"\n'),
        [
            (79, 16, "people[3].extension", "number '6000' is already used by units[1] (bygg)"),
        ],
        id="extension-is-unit-number",
    ),
    pytest.param(
        edit("  - id: bygg2\n", "  - id: bygg1\n"),
        [
            (76, 9, "people[3].id", "id 'bygg1' is already used by people[2]"),
        ],
        id="person-id-twice",
    ),
    pytest.param(
        edit("  - id: kc\n", "  - id: bygg\n"),
        [
            (43, 9, "units[2].id", "id 'bygg' is already used by units[1]"),
            (88, 11, "people[4].unit", "no unit has the id 'kc'"),
        ],
        id="unit-id-twice",
    ),
    # R14 forwarding to a mobile and R18 pay services need a written approval.
    pytest.param(
        edit("      approved_on: 2026-03-01\n  - id: soc2\n", "  - id: soc2\n"),
        [
            (
                58,
                5,
                "people[0].forward_to_mobile.approved_on",
                "R14: required key 'approved_on' is missing: forwarding desk calls to a mobile "
                "needs the head of unit's written approval, with its date (YYYY-MM-DD)",
            ),
        ],
        id="forward-without-approved-on",
    ),
    pytest.param(
        edit("      approved_by: Verksamhetschef Socialtjänsten\n", ""),
        [
            (
                58,
                5,
                "people[0].forward_to_mobile.approved_by",
                "R14: required key 'approved_by' is missing: forwarding desk calls to a mobile "
                "needs the head of unit's written approval, naming who approved it",
            ),
        ],
        id="forward-without-approved-by",
    ),
    pytest.param(
        edit(FORWARD, "    forward_to_mobile: true\n"),
        [
            (
                58,
                24,
                "people[0].forward_to_mobile",
                "R14: forwarding desk calls to a mobile needs the head of unit's written "
                "approval {approved_by, approved_on}, not true: write forward_to_mobile: "
                "{approved_by: NAME, approved_on: YYYY-MM-DD} or leave the key out",
            ),
        ],
        id="forward-true",
    ),
    pytest.param(
        edit('    mobile: "+46701234567"\n', ""),
        [
            (
                57,
                5,
                "people[0].forward_to_mobile",
                "R14: forwarding to a mobile needs the person's mobile number",
            ),
        ],
        id="forward-without-mobile",
    ),
    pytest.param(
        edit(
            "      approved_on: 2026-03-01\n  - id: soc2\n",
            "      approved_on: 2026-13-01\n  - id: soc2\n",
        ),
        [
            (
                60,
                20,
                "people[0].forward_to_mobile.approved_on",
                "'2026-13-01' is not a date (YYYY-MM-DD): month value is outside expected range of 1-12",
            ),
        ],
        id="forward-approved-on-impossible",
    ),
    pytest.param(
        edit("      approved_by: Verksamhetschef Bygg\n", ""),
        [
            (
                83,
                5,
                "people[3].pay_services.approved_by",
                "R18: required key 'approved_by' is missing: calling pay services needs the "
                "head of unit's written permission, naming who gave it",
            ),
        ],
        id="pay-services-without-approved-by",
    ),
    pytest.param(
        edit(PAY, "    pay_services: yes\n"),
        [
            (
                83,
                19,
                "people[3].pay_services",
                "R18: calling pay services (premium rate) needs the head of unit's written "
                "approval {approved_by, approved_on}, not 'yes': write pay_services: "
                "{approved_by: NAME, approved_on: YYYY-MM-DD} or leave the key out",
            ),
        ],
        id="pay-services-yes",
    ),
    # R3: every chain ends in an answer, and its owner has a mailbox.
    pytest.param(
        edit(
            "    fallback: [cover, switchboard, voicemail]\n",
            "    fallback: [cover, switchboard]\n",
        ),
        [
            (
                92,
                15,
                "people[4].fallback",
                "R3: the chain [cover, switchboard] can end unanswered: add voicemail or callback",
            ),
        ],
        id="chain-without-answer",
    ),
    pytest.param(
        edit('    voicemail: "7001@default"\n', ""),
        [
            (
                86,
                5,
                "people[4].voicemail",
                "R3: people[4] (kc1) has no voicemail box, so its chain [cover, switchboard, "
                "voicemail] can end unanswered (a caller with a hidden number cannot be called "
                "back, R4): give it voicemail",
            ),
        ],
        id="chain-voicemail-without-mailbox",
    ),
    pytest.param(
        edit('    voicemail: "5002@default"\n', ""),
        [
            (
                61,
                5,
                "people[1].voicemail",
                "R3: people[1] (soc2) has no voicemail box, so the default chain [cover, "
                "voicemail, callback] can end unanswered (a caller with a hidden number cannot "
                "be called back, R4): give it voicemail",
            ),
        ],
        id="default-chain-without-mailbox",
    ),
    pytest.param(
        edit("    fallback: [cover, switchboard, voicemail]\n", "    fallback: []\n"),
        [
            (
                92,
                15,
                "people[4].fallback",
                "R3: an empty chain leaves callers unanswered: end it with voicemail or callback",
            ),
        ],
        id="chain-empty",
    ),
    pytest.param(
        edit("fallback: [cover, voicemail, callback]\n", "fallback: []\n"),
        [
            (
                26,
                11,
                "fallback",
                "R3: an empty chain leaves callers unanswered: end it with voicemail or callback",
            ),
        ],
        id="default-chain-empty",
    ),
    pytest.param(
        edit(
            "    fallback: [cover, switchboard, voicemail]\n",
            "    fallback: [cover, voicemail, cover]\n",
        ),
        [
            (92, 34, "people[4].fallback[2]", "'cover' is in the chain twice: give each link once"),
        ],
        id="chain-link-twice",
    ),
    pytest.param(
        edit(
            "    fallback: [cover, switchboard, voicemail]\n",
            "    fallback: [cover, mobile, voicemail]\n",
        ),
        [
            (
                92,
                23,
                "people[4].fallback[1]",
                "Input should be 'cover', 'switchboard', 'voicemail' or 'callback'",
            ),
        ],
        id="chain-link-unknown",
    ),
    # Ring limit (R1), outbound, connections.
    pytest.param(
        edit("  max_rings: 5\n", "  max_rings: 0\n"),
        [
            (13, 14, "ring.max_rings", "Input should be greater than or equal to 1"),
        ],
        id="max-rings-0",
    ),
    pytest.param(
        edit("  max_rings: 5\n", "  max_rings: 50\n"),
        [
            (13, 14, "ring.max_rings", "R1: no caller waits more than five ring signals: write 5 or fewer"),
        ],
        id="max-rings-50",
    ),
    pytest.param(
        edit('  trunk: "PJSIP/{number}@operator"\n', '  trunk: "PJSIP/operator"\n'),
        [
            (
                99,
                10,
                "outbound.trunk",
                "'PJSIP/operator' is not an Asterisk dial string with {number} where the "
                'dialled number goes, e.g. "PJSIP/{number}@operator"',
            ),
        ],
        id="trunk-without-number",
    ),
    pytest.param(
        edit('  url: "sqlite:///var/lib/routing/routing.db"\n', '  url: "mysql://db/routing"\n'),
        [
            (
                101,
                8,
                "store.url",
                "'mysql://db/routing' is not a store url (sqlite:///PATH or postgresql://…), "
                'e.g. "sqlite:///var/lib/routing/routing.db"',
            ),
        ],
        id="store-url-unknown-scheme",
    ),
    pytest.param(
        edit('    url: "http://127.0.0.1:8088"\n', '    url: "ftp://127.0.0.1:8088"\n'),
        [
            (
                20,
                10,
                "asterisk.ari.url",
                "'ftp://127.0.0.1:8088' is not an http:// or https:// address, e.g. \"http://127.0.0.1:8088\"",
            ),
        ],
        id="ari-url-not-http",
    ),
    pytest.param(
        append("logging:\n  format: xml\n"),
        [
            (103, 11, "logging.format", "Input should be 'json', 'console' or 'auto'"),
        ],
        id="logging-format-unknown",
    ),
    # Several errors in one file: all reported at once, in line order.
    pytest.param(
        SEVERAL_SCHEMA,
        [
            (
                2,
                11,
                "timezone",
                "'Europe/Stokholm' is not an IANA time zone, e.g. Europe/Stockholm",
            ),
            (
                11,
                8,
                "working_hours.fri",
                "'9-17' is not a time range: write it as HH:MM-HH:MM, e.g. 07:30-16:30",
            ),
            (
                64,
                16,
                "people[1].extension",
                'write it in quotes, e.g. "5002" (YAML reads bare digits as a number)',
            ),
            (
                73,
                13,
                "people[2].mobile",
                "'070-123' is not a phone number (digits only, +country or a leading 0), e.g. "
                '"+46701234567" or "0701234567"',
            ),
        ],
        id="several-schema-errors",
    ),
    pytest.param(
        SEVERAL_CROSS,
        [
            (
                46,
                24,
                "units[2].telephone_officer",
                "R10: no person has the id 'kc2' (did you mean 'kc1'?)",
            ),
            (
                66,
                12,
                "people[1].cover",
                "cover '5999' is not the extension of a person, a phone or the switchboard, nor a unit's number",
            ),
            (79, 16, "people[3].extension", "number '6001' is already used by people[2] (bygg1)"),
        ],
        id="several-cross-check-errors",
    ),
    pytest.param(
        DUP_AND_SCHEMA,
        [
            (13, 14, "ring.max_rings", "Input should be greater than or equal to 1"),
            (67, 5, "people[1].cover", "key given twice (first on line 66)"),
        ],
        id="duplicate-key-and-schema-error",
    ),
]


def test_base_is_valid() -> None:
    config = load_config_text(BASE, "base.yaml")
    assert [u.id for u in config.units] == ["soc", "bygg", "kc"]
    assert [p.id for p in config.people] == ["soc1", "soc2", "bygg1", "bygg2", "kc1"]


@pytest.mark.parametrize(
    ("line", "text"),
    [
        (11, '  fri: "07:30-15:00"'),
        (13, "  max_rings: 5"),
        (16, "  ami:"),
        (43, "  - id: kc"),
        (58, "    forward_to_mobile:"),
        (61, "  - id: soc2"),
        (66, '    cover: "5001"'),
        (79, '    extension: "6002"'),
        (92, "    fallback: [cover, switchboard, voicemail]"),
        (101, '  url: "sqlite:///var/lib/routing/routing.db"'),
    ],
)
def test_base_lines(line: int, text: str) -> None:
    """The expected positions above count on these lines of BASE."""
    assert BASE.splitlines()[line - 1] == text


def test_at_least_35_cases() -> None:
    assert len(CASES) >= 35


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_malformed(text: str, expected: list[Issue]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, "kommun.yaml")
    got = [(i.line, i.column, i.path, i.message) for i in caught.value.issues]
    assert got == expected
    assert all(i.file == "kommun.yaml" for i in caught.value.issues)
