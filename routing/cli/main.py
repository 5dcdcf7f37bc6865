"""The `routing` command's one entry point: the parser, each command's module registering its
own subcommands, and `routing check` (the smallest command, kept beside the parser)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import structlog

from routing.calllog.events import LogId
from routing.calllog.setup import configure_logging
from routing.cli import (
    calendar,
    callbacks,
    demo,
    doctor,
    explain,
    operators,
    phones,
    referral,
    report,
    run,
    sandbox,
    tail,
    whatif,
)
from routing.cli.common import EXIT_OK, EXIT_USAGE, load_and_warn
from routing.deploy import SYSTEMD_UNIT


def cmd_check(args: argparse.Namespace) -> int:
    config = load_and_warn(args.config)
    if config is None:
        return EXIT_USAGE
    print(
        f"{args.config}: OK (schema v{config.version}): {len(config.units)} units, "
        f"{len(config.people)} people, {len(config.phones)} shared phones, "
        f"ring limit {config.ring.max_rings} × {config.ring.ring_period_s:g} s"
    )
    return EXIT_OK


def cmd_unit_file(args: argparse.Namespace) -> int:
    print(SYSTEMD_UNIT)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="routing", description="Makes the municipality's telephone policy true on every call."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="validate a config file (exit 2 and FILE:LINE errors if wrong)")
    check.add_argument("--config", required=True, metavar="FILE")
    check.set_defaults(func=cmd_check)

    for command in (
        explain,
        run,
        doctor,
        demo,
        referral,
        callbacks,
        phones,
        calendar,
        operators,
        report,
        whatif,
        tail,
        sandbox,
    ):
        command.register(commands)

    unit = commands.add_parser("unit-file", help="print the path of the systemd unit shipped with the package")
    unit.set_defaults(func=cmd_unit_file)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging("auto")
    log = structlog.get_logger()
    try:
        result: int = args.func(args)
    except KeyboardInterrupt:
        log.info(LogId.INTERRUPTED)
        return 130
    return result
