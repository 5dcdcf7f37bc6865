"""The `routing` command: check a config, explain what a call would get, run the service."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog

from routing.cli_common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, load_or_report, parse_reason, parse_until
from routing.explain import explain
from routing.followup_cli import register as register_followup
from routing.phones_cli import register as register_phones
from routing.policy.call import Call
from routing.policy.directory import Directory
from routing.policy.planner import plan_call
from routing.policy.referral import Referral
from routing.policy.state import RoutingState
from routing.report_cli import register as register_report
from routing.sandbox.cli import register as register_sandbox
from routing.structured_log import configure_logging, open_log_file
from routing.tail_cli import register as register_tail


def cmd_check(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return EXIT_USAGE
    print(
        f"{args.config}: OK (schema v{config.version}): {len(config.units)} units, "
        f"{len(config.people)} people, {len(config.phones)} shared phones, "
        f"ring limit {config.ring.max_rings} × {config.ring.ring_period_s:g} s"
    )
    return EXIT_OK


def _parse_at(text: str | None, zone: ZoneInfo) -> datetime:
    if text is None:
        return datetime.now(zone)
    at = datetime.fromisoformat(text)
    return at if at.tzinfo is not None else at.replace(tzinfo=zone)


def _parse_referral(text: str, at: datetime) -> Referral:
    """PERSON=REASON or PERSON=REASON@HH:MM or PERSON=REASON@YYYY-MM-DD."""
    person, sep, rest = text.partition("=")
    if not sep or not person:
        raise ValueError(f"'{text}': write PERSON=REASON[@HH:MM|@YYYY-MM-DD]")
    reason_text, _, until_text = rest.partition("@")
    return Referral(person, parse_reason(reason_text), parse_until(until_text, at) if until_text else None)


def cmd_explain(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return EXIT_USAGE
    zone = ZoneInfo(config.timezone)
    directory = Directory.from_config(config)
    try:
        at = _parse_at(args.at, zone)
        referrals = [_parse_referral(text, at.astimezone(zone)) for text in args.referral]
    except ValueError as exc:
        print(f"routing explain: {exc}", file=sys.stderr)
        return EXIT_USAGE
    unknown = [r.person for r in referrals if r.person not in directory.people]
    if unknown:
        print(f"routing explain: no person has the id '{unknown[0]}'", file=sys.stderr)
        return EXIT_USAGE
    state = RoutingState({r.person: r for r in referrals})
    caller = None if args.from_number in (None, "", "hidden") else args.from_number
    plan = plan_call(directory, state, Call(args.to, caller, args.internal, at))
    print(explain(plan, mask=config.logging.mask_numbers, zone_name=config.timezone))
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return EXIT_USAGE
    from routing.event_recorder import EventRecorder  # the service's modules: loaded only to run it
    from routing.service.runner import serve
    from routing.store import StoreError, open_store

    try:
        store = open_store(config.store.url)
        recorder = EventRecorder(store)
    except StoreError as exc:
        print(f"routing run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    logging = config.logging
    try:
        stream = open_log_file(logging.file, group_read=logging.group_read) if logging.file else None
    except OSError as exc:
        print(f"routing run: cannot write the log file {logging.file}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(
        logging.format, logging.level, mask_numbers=logging.mask_numbers, stream=stream, recorder=recorder
    )
    if args.pid_file:
        Path(args.pid_file).parent.mkdir(parents=True, exist_ok=True)
        Path(args.pid_file).write_text(f"{os.getpid()}\n", encoding="ascii")
    try:
        return asyncio.run(serve(config, args.config, store=store))
    finally:
        if not recorder.flush():  # the last call.end lines, logged as the service stopped
            structlog.get_logger("routing.store").error(
                StoreError.log_id, pending=recorder.pending, what="call events not stored at exit; the log has them"
            )
        if args.pid_file:
            Path(args.pid_file).unlink(missing_ok=True)


def cmd_reload(args: argparse.Namespace) -> int:
    """Check the config first (a broken file is never sent); then SIGHUP the running service."""
    if load_or_report(args.config) is None:
        return EXIT_USAGE
    try:
        pid = int(Path(args.pid_file).read_text(encoding="ascii").strip())
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError) as exc:
        print(f"routing reload: no running service found through {args.pid_file}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{args.config}: valid; sent to the service (pid {pid}), which logs config.reloaded")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return EXIT_USAGE
    from routing.demo import run_demo  # loaded only for the demo
    from routing.sandbox import lifecycle

    was_running = lifecycle.status().running
    print("Starting the sandbox Asterisk 22 (the first time builds it: about a minute) …")
    sandbox = lifecycle.up()
    print(f"Asterisk {sandbox.version} is up. Ring period shortened to 1 s for the demo.")
    try:
        outcomes = asyncio.run(run_demo(config, sandbox))
    finally:
        if not was_running and not args.keep_running:
            lifecycle.down()
            print("\nSandbox stopped (it was not running before the demo).")
    ends = [e for o in outcomes for e in o.events if e["event"] == "call.end"]
    answered = [e for e in ends if e["outcome"] not in ("abandoned", "failed")]
    print(
        f"\n{len(outcomes)} calls, {len(answered)} answered in the sense of R2 "
        "(person, cover, referral, voicemail, callback)."
    )
    return EXIT_OK if outcomes and len(answered) == len(ends) == len(outcomes) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="routing", description="Makes the municipality's telephone policy true on every call."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="validate a config file (exit 2 and FILE:LINE errors if wrong)")
    check.add_argument("--config", required=True, metavar="FILE")
    check.set_defaults(func=cmd_check)

    exp = commands.add_parser("explain", help="show the flow a call would get, step by step")
    exp.add_argument("--config", required=True, metavar="FILE")
    exp.add_argument("--to", required=True, metavar="NUMBER", help="the dialled number")
    exp.add_argument("--from", dest="from_number", metavar="NUMBER", help="the caller's number (default: hidden)")
    exp.add_argument("--internal", action="store_true", help="the call comes from the municipality's own phones")
    exp.add_argument("--at", metavar="TIME", help="e.g. 2026-12-01T10:15 (default: now, in the config's zone)")
    exp.add_argument(
        "--referral",
        action="append",
        default=[],
        metavar="PERSON=REASON[@UNTIL]",
        help="pretend PERSON has a referral, e.g. soc1=meeting@13:00 or soc2=vacation@2026-12-07",
    )
    exp.set_defaults(func=cmd_explain)

    run = commands.add_parser("run", help="run the service beside Asterisk (FastAGI), until SIGTERM")
    run.add_argument("--config", required=True, metavar="FILE")
    run.add_argument("--pid-file", metavar="FILE", help="write the service's pid here (for routing reload)")
    run.set_defaults(func=cmd_run)

    reload = commands.add_parser("reload", help="check a config, then make the running service read it (SIGHUP)")
    reload.add_argument("--config", required=True, metavar="FILE")
    reload.add_argument("--pid-file", required=True, metavar="FILE", help="the file routing run --pid-file wrote")
    reload.set_defaults(func=cmd_reload)

    demo = commands.add_parser("demo", help="real calls through the sandbox Asterisk with a config (as root)")
    demo.add_argument("--config", default="config/example.yaml", metavar="FILE")
    demo.add_argument("--keep-running", action="store_true", help="leave the sandbox Asterisk running afterwards")
    demo.set_defaults(func=cmd_demo)

    register_followup(commands)
    register_phones(commands)
    register_report(commands)
    register_tail(commands)
    register_sandbox(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging("auto")
    log = structlog.get_logger()
    try:
        result: int = args.func(args)
    except KeyboardInterrupt:
        log.info("routing.interrupted")
        return 130
    return result
