"""`routing run` (the service, until SIGTERM) and `routing reload` (check, then SIGHUP it)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

import structlog

from routing.calllog.events import LogId
from routing.calllog.setup import configure_logging, open_log_file
from routing.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, load_and_warn, load_or_report
from routing.config import ConfigIssue


def cmd_run(args: argparse.Namespace) -> int:
    warnings: list[ConfigIssue] = []
    config = load_or_report(args.config, warnings=warnings)
    if config is None:
        return EXIT_USAGE
    from routing.calllog.recorder import EventRecorder  # the service's modules: loaded only to run it
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
    for issue in warnings:  # said once at start, in the log (the service runs all the same)
        structlog.get_logger("routing.config").warning(
            LogId.CONFIG_ADVISED_AGAINST, file=issue.file, line=issue.line, key=issue.path, detail=issue.message
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
    if load_and_warn(args.config) is None:
        return EXIT_USAGE
    try:
        pid = int(Path(args.pid_file).read_text(encoding="ascii").strip())
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError) as exc:
        print(f"routing reload: no running service found through {args.pid_file}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{args.config}: valid; sent to the service (pid {pid}), which logs config.reloaded")
    return EXIT_OK


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = commands.add_parser("run", help="run the service beside Asterisk (FastAGI), until SIGTERM")
    run.add_argument("--config", required=True, metavar="FILE")
    run.add_argument("--pid-file", metavar="FILE", help="write the service's pid here (for routing reload)")
    run.set_defaults(func=cmd_run)

    reload = commands.add_parser("reload", help="check a config, then make the running service read it (SIGHUP)")
    reload.add_argument("--config", required=True, metavar="FILE")
    reload.add_argument("--pid-file", required=True, metavar="FILE", help="the file routing run --pid-file wrote")
    reload.set_defaults(func=cmd_reload)
