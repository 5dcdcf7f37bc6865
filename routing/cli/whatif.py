"""`routing whatif --config NEW.yaml`: what NEW.yaml would have done to the calls of a period
(#16): every stored call planned again under it with the same inputs, the changes grouped, and
the headline figures before and after (routing.reports.whatif)."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from routing.cli.common import EXIT_OK, EXIT_USAGE, load_or_report
from routing.reports.whatif import render_html, render_json, render_table, what_if
from routing.store import StoreError, open_store

RENDERERS = {"table": render_table, "json": render_json, "html": render_html}


def cmd_whatif(args: argparse.Namespace) -> int:
    new = load_or_report(args.config)
    if new is None:
        return EXIT_USAGE
    current = load_or_report(args.current) if args.current else None
    if args.current and current is None:
        return EXIT_USAGE
    today = datetime.now(ZoneInfo(new.timezone)).date()
    try:
        end = date.fromisoformat(args.to) if args.to else today
        start = date.fromisoformat(args.from_) if args.from_ else end - timedelta(days=30)
    except ValueError as exc:
        print(f"routing whatif: {exc} (write dates as YYYY-MM-DD)", file=sys.stderr)
        return EXIT_USAGE
    if start > end:
        print("routing whatif: --from must not come after --to", file=sys.stderr)
        return EXIT_USAGE
    if args.unit is not None and args.unit not in {u.id for u in new.units}:
        print(f"routing whatif: no unit has the id '{args.unit}' in {args.config}", file=sys.stderr)
        return EXIT_USAGE
    url = (current or new).store.url
    try:
        store = open_store(url)
    except StoreError as exc:
        print(f"routing whatif: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = what_if(store, new, start, end, unit=args.unit, current=current)
    finally:
        store.close()
    print(RENDERERS[args.format](result).rstrip("\n"))
    return EXIT_OK


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    whatif = commands.add_parser("whatif", help="what a changed config would have done to the calls of a period")
    whatif.add_argument("--config", required=True, metavar="NEW.yaml", help="the changed config")
    whatif.add_argument(
        "--current",
        metavar="FILE",
        help="the config in use (its store is read; it stands in for calls planned under it that the store "
        "does not keep the config of; default: the store of NEW.yaml)",
    )
    whatif.add_argument(
        "--from", dest="from_", metavar="DATE", help="first day, e.g. 2026-11-01 (default: 30 days ago)"
    )
    whatif.add_argument("--to", metavar="DATE", help="last day, included (default: today)")
    whatif.add_argument("--unit", metavar="UNIT", help="only calls counted for this unit")
    whatif.add_argument("--format", choices=sorted(RENDERERS), default="table")
    whatif.set_defaults(func=cmd_whatif)
