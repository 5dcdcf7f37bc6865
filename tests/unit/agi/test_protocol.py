"""The FastAGI wire format: headers, quoting, replies."""

from __future__ import annotations

import pytest

from routing.agi.protocol import (
    MAX_HEADERS,
    MAX_LINE,
    AgiProtocolError,
    RequestParser,
    mset_command,
    parse_reply,
    quote,
    set_variable,
)

HEADERS = [
    b"agi_network: yes",
    b"agi_network_script: step",
    b"agi_request: agi://127.0.0.1:4573/step",
    b"agi_channel: Local/caller-a@sandbox-caller-00000009;1",
    b"agi_uniqueid: 1795816916.18",
    b"agi_callerid: 0701234567",
    b"agi_calleridname: unknown",
    b"agi_extension: 5001",
    b"agi_arg_1: start",
    b"agi_arg_2: ",
    b"agi_arg_3: 1795816916.18",
]


def parse(lines: list[bytes]) -> RequestParser:
    parser = RequestParser()
    for line in lines:
        parser.feed_line(line)
    return parser


def test_request_headers_and_arguments() -> None:
    request = parse([*HEADERS, b""]).request()
    assert request.script == "step"
    assert request.uniqueid == "1795816916.18"
    assert request.args == ("start", "", "1795816916.18")
    assert request.get("agi_calleridname") == ""  # Asterisk's "unknown" means absent
    assert request.get("agi_extension") == "5001"


def test_carriage_returns_are_tolerated() -> None:
    request = parse([b"agi_network_script: step\r", b"\r"]).request()
    assert request.script == "step"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([b""], "empty request"),
        ([b"GET / HTTP/1.1"], "not an AGI header"),
        ([b"\xff\xfe"], "not UTF-8"),
        ([b"agi_x: " + b"a" * MAX_LINE], "longer than"),
        ([f"agi_h{i}: x".encode() for i in range(MAX_HEADERS + 1)], f"more than {MAX_HEADERS} headers"),
        ([b"agi_a: 1", b"", b"agi_b: 2"], "after the end"),
    ],
)
def test_bad_requests_are_refused(lines: list[bytes], message: str) -> None:
    with pytest.raises(AgiProtocolError, match=message):
        parse(lines)


def test_incomplete_request_has_no_value() -> None:
    with pytest.raises(AgiProtocolError, match="not complete"):
        parse([b"agi_a: 1"]).request()


def test_quote_escapes_quotes_and_backslashes() -> None:
    assert quote('a "b" \\c') == '"a \\"b\\" \\\\c"'
    with pytest.raises(ValueError):
        quote("two\nlines")


def test_set_variable_line() -> None:
    assert set_variable("ROUTING_DIAL", "PJSIP/1&PJSIP/2") == b'SET VARIABLE ROUTING_DIAL "PJSIP/1&PJSIP/2"\n'
    with pytest.raises(ValueError):
        set_variable("BAD NAME", "x")


@pytest.mark.parametrize(
    ("line", "code", "result", "data", "more"),
    [
        ("200 result=1\n", 200, "1", "", False),
        ("200 result=1 (hello)\n", 200, "1", "hello", False),
        ("510 Invalid or unknown command\n", 510, "Invalid", "or unknown command", False),
        (
            "520-Invalid command syntax.  Proper usage follows:\n",
            520,
            "Invalid",
            "command syntax.  Proper usage follows:",
            True,
        ),
        ("HANGUP\n", 0, "", "HANGUP", False),
    ],
)
def test_replies(line: str, code: int, result: str, data: str, more: bool) -> None:
    reply = parse_reply(line)
    assert (reply.code, reply.result, reply.data, reply.more) == (code, result, data, more)
    assert reply.ok is (code == 200)


def test_garbage_reply() -> None:
    with pytest.raises(AgiProtocolError):
        parse_reply("hello there")


def test_mset_carries_plain_values_in_one_command() -> None:
    command = mset_command(
        {"ROUTING_DIAL": "PJSIP/5001&Local/mobile@routing-mobile", "ROUTING_TIMEOUT": "12.5", "X": ""}
    )
    assert command == b'EXEC MSet "ROUTING_DIAL=PJSIP/5001&Local/mobile@routing-mobile,ROUTING_TIMEOUT=12.5,X="\n'


@pytest.mark.parametrize(
    "value",
    ["a,b", "a|b", 'say "hej"', "C:\\x", "${EVIL}", "f(x)", "[x]", " padded", "ä ö"],
)
def test_values_mset_would_split_strip_or_evaluate_are_left_to_set_variable(value: str) -> None:
    assert mset_command({"ROUTING_PROMPT": value, "ROUTING_ACTION": "play"}) is None


def test_one_variable_or_a_line_asterisk_would_cut_is_not_an_mset() -> None:
    assert mset_command({"ROUTING_ACTION": "failsafe"}) is None
    assert mset_command({"A": "x" * 1100, "B": "y" * 1100}) is None
