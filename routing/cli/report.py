"""`routing report`: accessibility over a period, per unit and per person (R19, R20)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from routing.cli.common import EXIT_OK, EXIT_USAGE, load_or_report
from routing.reports.accessibility import render_csv, render_json, render_table
from routing.reports.html import render_html
from routing.reports.mobiles import mobiles_review, render_mobiles
from routing.reports.period import report_for
from routing.store import StoreError, open_store

RENDERERS = {"table": render_table, "csv": render_csv, "json": render_json, "html": render_html}


def _moment(text: str, zone: ZoneInfo) -> datetime:
    """'2026-12-01' (midnight) or '2026-12-01T10:00', in the config's zone unless it says."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a date (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM)") from None
    if len(text) == 10:
        parsed = datetime.combine(parsed.date(), time(0), zone)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def cmd_report(args: argparse.Namespace) -> int:
    if args.config is None:
        print("routing report: --config FILE is required", file=sys.stderr)
        return EXIT_USAGE
    config = load_or_report(args.config)
    if config is None:
        return EXIT_USAGE
    zone = ZoneInfo(config.timezone)
    try:
        end = _moment(args.to, zone) if args.to else datetime.now(zone)
        start = _moment(args.from_, zone) if args.from_ else end - timedelta(days=7)
    except ValueError as exc:
        print(f"routing report: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if start >= end:
        print("routing report: --from must come before --to", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = report_for(config, open_store(config.store.url), start, end)
    except StoreError as exc:
        print(f"routing report: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(RENDERERS[args.format](report).rstrip("\n"))
    return EXIT_OK


def cmd_mobiles(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return EXIT_USAGE
    today = datetime.now(ZoneInfo(config.timezone)).date()
    print(render_mobiles(mobiles_review(config, today), args.format).rstrip("\n"))
    return EXIT_OK


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser("report", help="accessibility per unit and person over a period (default 7 days)")
    kinds = report.add_subparsers(dest="report_kind", metavar="[mobiles]")
    mobiles = kinds.add_parser("mobiles", help="the yearly review of mobiles and their approvals (R19)")
    mobiles.add_argument("--config", required=True, metavar="FILE")
    mobiles.add_argument("--format", choices=["csv", "json", "table"], default="table")
    mobiles.set_defaults(func=cmd_mobiles)
    report.add_argument("--config", metavar="FILE", help="the config (required)")
    report.add_argument("--from", dest="from_", metavar="DATE", help="start, e.g. 2026-12-01 (default: 7 days ago)")
    report.add_argument("--to", metavar="DATE", help="end, not included (default: now)")
    report.add_argument("--format", choices=sorted(RENDERERS), default="table")
    report.set_defaults(func=cmd_report)
