"""`routing demo`: real calls through the sandbox Asterisk with the admin's config (the calls
themselves: routing.cli.demo_calls, loaded only when the demo runs)."""

from __future__ import annotations

import argparse
import asyncio

from routing.calllog.events import CallEnd
from routing.cli.common import EXIT_OK, EXIT_USAGE, load_or_report


def cmd_demo(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return EXIT_USAGE
    from routing.cli.demo_calls import run_demo  # loaded only for the demo
    from routing.sandbox import lifecycle

    was_running = lifecycle.status().running
    print("Starting the sandbox Asterisk 22 (the first time builds it: about a minute) …")
    sandbox = lifecycle.up()
    print(f"Asterisk {sandbox.version} is up. Ring period shortened to 1 s for the demo.")
    try:
        runs = asyncio.run(run_demo(config, sandbox))
    finally:
        if not was_running and not args.keep_running:
            lifecycle.down()
            print("\nSandbox stopped (it was not running before the demo).")
    ends = [CallEnd.from_fields(e) for run in runs for e in run.events if e["event"] == CallEnd.NAME]
    answered = [end for end in ends if end.outcome.is_r2_answer]
    print(
        f"\n{len(runs)} calls, {len(answered)} answered in the sense of R2 "
        "(person, cover, referral, voicemail, callback)."
    )
    return EXIT_OK if runs and len(answered) == len(ends) == len(runs) else 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser("demo", help="real calls through the sandbox Asterisk with a config (as root)")
    demo.add_argument("--config", default="config/example.yaml", metavar="FILE")
    demo.add_argument("--keep-running", action="store_true", help="leave the sandbox Asterisk running afterwards")
    demo.set_defaults(func=cmd_demo)
