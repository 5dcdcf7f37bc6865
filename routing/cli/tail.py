"""`routing tail`: follow the service's JSON log and print it readably for operators.

One line an event: time, call id, event and its fields; colours on a terminal. `--call` follows
one call, `--unit` the calls for one unit (known from each call's call.start)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from routing.calllog import readable
from routing.calllog.events import CallEnd, CallStart
from routing.cli.common import EXIT_OK, EXIT_USAGE

_COLOURS = {"error": "\033[31m", "warning": "\033[33m", CallEnd.NAME: "\033[32m", CallStart.NAME: "\033[1m"}
_RESET = "\033[0m"


def _lines(source: TextIO, follow: bool) -> Iterator[str]:
    while True:
        line = source.readline()
        if line:
            yield line
        elif not follow:
            return
        else:
            time.sleep(0.2)


def format_line(record: dict[str, Any], colour: bool) -> str:
    stamp = str(record.get("timestamp", ""))[11:23]
    call = str(record.get("call_id") or "-")
    text = f"{stamp} {call:<22} {readable.describe(record)}"
    if colour:
        shade = _COLOURS.get(str(record.get("level"))) or _COLOURS.get(str(record.get("event")))
        if shade:
            text = shade + text + _RESET
    return text


def follow(source: TextIO, out: TextIO, *, call: str | None, unit: str | None, follow_on: bool) -> None:
    units: dict[str, str | None] = {}
    colour = out.isatty()
    for line in _lines(source, follow_on):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # not a JSON line (a stray print): operators see the JSON ones
        if not isinstance(record, dict):
            continue
        call_id = record.get("call_id")
        if record.get("event") == CallStart.NAME and call_id:
            units[str(call_id)] = CallStart.from_fields(record).unit
        if call is not None and call_id != call:
            continue
        if unit is not None and (call_id is None or units.get(str(call_id)) != unit):
            continue
        print(format_line(record, colour), file=out, flush=True)


def cmd_tail(args: argparse.Namespace) -> int:
    if args.file == "-":
        follow(sys.stdin, sys.stdout, call=args.call, unit=args.unit, follow_on=False)
        return EXIT_OK
    path = Path(args.file)
    try:
        source = path.open(encoding="utf-8")
    except OSError as exc:
        print(f"routing tail: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    with source:
        if not args.from_start:
            source.seek(0, 2)
        follow(source, sys.stdout, call=args.call, unit=args.unit, follow_on=not args.no_follow)
    return EXIT_OK


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tail = commands.add_parser("tail", help="follow the service's JSON log readably (one line an event)")
    tail.add_argument("file", metavar="FILE", help="the log file (logging.file), or - for standard input")
    tail.add_argument("--call", metavar="ID", help="only this call (its call_id)")
    tail.add_argument("--unit", metavar="UNIT", help="only calls for this unit")
    tail.add_argument("--from-start", action="store_true", help="print the file from its start first")
    tail.add_argument("--no-follow", action="store_true", help="stop at the end of the file")
    tail.set_defaults(func=cmd_tail)
