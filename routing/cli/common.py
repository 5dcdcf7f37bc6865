"""What every `routing` subcommand shares: exit codes, the config loaded with its errors shown,
the store opened, times and reasons parsed, a plain table printed."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from routing.config import Config, ConfigError, ConfigIssue, load_config
from routing.policy.referral import Referral
from routing.store import Store, StoreError, open_store

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran but did not reach its goal
EXIT_USAGE = 2  # the config or the command line is wrong: nothing was done


def load_or_report(path: str, *, warnings: list[ConfigIssue] | None = None) -> Config | None:
    """The config, or None after printing every problem (FILE:LINE:COL …) on stderr.
    `warnings`: gets what the policy advises against (see print_warnings)."""
    try:
        config = load_config(path, warnings=warnings)
    except ConfigError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        count = len(exc.issues)
        print(f"{path}: {count} error{'s' if count != 1 else ''}; nothing changed", file=sys.stderr)
        return None
    except OSError as exc:
        print(f"{path}: cannot read: {exc.strerror or exc}", file=sys.stderr)
        return None
    return config


def load_and_warn(path: str) -> Config | None:
    """load_or_report for the commands that check a config before it is used (check, reload):
    what the policy advises against is printed too, as FILE:LINE:COL: warning: key: message."""
    warnings: list[ConfigIssue] = []
    config = load_or_report(path, warnings=warnings)
    for issue in warnings:
        print(f"{issue.file}:{issue.line}:{issue.column}: warning: {issue.path}: {issue.message}", file=sys.stderr)
    return config


def open_config_and_store(args: argparse.Namespace) -> tuple[Config, Store, datetime] | None:
    config = load_or_report(args.config)
    if config is None:
        return None
    try:
        store = open_store(config.store.url)
    except StoreError as exc:
        print(f"routing: {exc}", file=sys.stderr)
        return None
    return config, store, datetime.now(ZoneInfo(config.timezone))


def until_text(referral: Referral, now: datetime) -> str:
    if referral.until is None:
        return "until further notice"
    if isinstance(referral.until, datetime):
        return referral.until.astimezone(now.tzinfo).strftime("%Y-%m-%d %H:%M")
    return referral.until.isoformat()


def table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
