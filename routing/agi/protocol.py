"""The FastAGI wire protocol, without I/O: request headers in, commands out, replies parsed.

A FastAGI session is: Asterisk connects and sends `agi_*: value` header lines ending with a
blank line; the server then sends commands (`SET VARIABLE NAME "value"`), one line each, and
reads a `200 result=…` reply to each; then it closes. Sizes are bounded so a port probe or
garbage cannot make the server buffer without end.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

MAX_LINE = 4096  # bytes in one header or reply line
MAX_HEADERS = 64  # Asterisk sends about 25, plus one per argument
_HEADER = re.compile(r"^(agi_[a-z0-9_]{1,60}):\s?(.*)$")
_REPLY = re.compile(r"^(\d{3})(?:[ -](.*))?$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_()]*$")


class AgiProtocolError(Exception):
    """What the peer sent is not FastAGI. Stable log id: agi.protocol_error."""

    log_id = "agi.protocol_error"


@dataclass(frozen=True)
class AgiRequest:
    """The headers of one FastAGI request; `script` is the path after host:port."""

    headers: dict[str, str]
    args: tuple[str, ...] = field(default=())

    @property
    def script(self) -> str:
        return self.headers.get("agi_network_script", "").strip("/")

    @property
    def uniqueid(self) -> str:
        return self.headers.get("agi_uniqueid", "")

    @property
    def channel(self) -> str:
        return self.headers.get("agi_channel", "")

    def get(self, name: str, default: str = "") -> str:
        value = self.headers.get(name, default)
        return default if value == "unknown" else value


class RequestParser:
    """Feed it header lines (bytes without the newline); `done` once the blank line came."""

    def __init__(self) -> None:
        self._headers: dict[str, str] = {}
        self.done = False

    def feed_line(self, raw: bytes) -> None:
        if self.done:
            raise AgiProtocolError("header after the end of the request")
        if len(raw) > MAX_LINE:
            raise AgiProtocolError(f"header line longer than {MAX_LINE} bytes")
        try:
            line = raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            raise AgiProtocolError("header line is not UTF-8") from None
        if line == "":
            if not self._headers:
                raise AgiProtocolError("empty request")
            self.done = True
            return
        match = _HEADER.match(line)
        if match is None:
            raise AgiProtocolError(f"not an AGI header: {line[:60]!r}")
        if len(self._headers) >= MAX_HEADERS:
            raise AgiProtocolError(f"more than {MAX_HEADERS} headers")
        self._headers[match.group(1)] = match.group(2)

    def request(self) -> AgiRequest:
        if not self.done:
            raise AgiProtocolError("the request is not complete")
        if "agi_network_script" not in self._headers and "agi_request" not in self._headers:
            raise AgiProtocolError("not a FastAGI request: no agi_network_script or agi_request")
        args: list[str] = []
        while f"agi_arg_{len(args) + 1}" in self._headers:
            args.append(self._headers[f"agi_arg_{len(args) + 1}"])
        return AgiRequest(dict(self._headers), tuple(args))


def quote(value: str) -> str:
    """An AGI command argument: double-quoted, with quotes and backslashes escaped."""
    if "\n" in value or "\r" in value:
        raise ValueError("an AGI argument cannot hold a line break")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def set_variable(name: str, value: str) -> bytes:
    if not _VARIABLE.match(name):
        raise ValueError(f"'{name}' is not a channel variable name")
    return f"SET VARIABLE {name} {quote(value)}\n".encode()


# Values MSet takes as they are: no separator, quote, escape, bracket or `$`, which its argument
# parser (or AGI's) would otherwise split, strip or unescape.
_MSET_PLAIN = re.compile(r"^[\w./@&:+*#%~=-]*$")
AGI_COMMAND_MAX = 2048  # Asterisk's AGI_BUF_LEN: a longer command line is cut


def mset_command(variables: Mapping[str, str]) -> bytes | None:
    """Every variable in one `EXEC MSet` command (one round trip instead of one per variable),
    or None when a value is not plain and needs SET VARIABLE's exact quoting."""
    if len(variables) < 2:
        return None
    pairs = []
    for name, value in variables.items():
        if not _VARIABLE.match(name) or not _MSET_PLAIN.match(value):
            return None
        pairs.append(f"{name}={value}")
    command = f"EXEC MSet {quote(','.join(pairs))}\n".encode()
    return command if len(command) < AGI_COMMAND_MAX else None


@dataclass(frozen=True)
class Reply:
    code: int
    result: str
    data: str
    more: bool = False  # a '520-' line: the usage text goes on until '520 '

    @property
    def ok(self) -> bool:
        return self.code == 200


def parse_reply(line: str) -> Reply:
    """'200 result=1 (value)' -> Reply(200, '1', 'value'). A HANGUP line (AGISIGHUP) is 0."""
    text = line.rstrip("\r\n")
    if text == "HANGUP":
        return Reply(0, "", "HANGUP")
    match = _REPLY.match(text)
    if match is None:
        raise AgiProtocolError(f"not an AGI reply: {text[:60]!r}")
    rest = match.group(2) or ""
    more = len(text) > 3 and text[3] == "-"
    result, _, data = rest.partition(" ")
    return Reply(int(match.group(1)), result.removeprefix("result="), data.strip().strip("()"), more)
