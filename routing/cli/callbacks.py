"""`routing callbacks list|done|call`: the callbacks callers asked for (R4), followed up by hand.
`call` rings the employee's phone first, then the caller (routing.service.callback_call).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from routing.ami.client import AmiClient, AmiError
from routing.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, open_config_and_store, table
from routing.config.secrets import SecretMissing, read_secret
from routing.policy.directory import Directory
from routing.service.callback_call import CallbackResult, call_back
from routing.store import Callback, Store


def cmd_callbacks_list(args: argparse.Namespace) -> int:
    """The full caller number is shown here: the switchboard must call it (R4, R12)."""
    opened = open_config_and_store(args)
    if opened is None:
        return EXIT_USAGE
    _, store, now = opened
    callbacks = store.callbacks(only_open=args.open)
    if not callbacks:
        print("no open callbacks" if args.open else "no callbacks")
        return EXIT_OK
    rows = [("id", "requested", "for", "caller", "status", "attempts", "last outcome")]
    for cb in callbacks:
        rows.append(
            (
                str(cb.id),
                cb.requested_at.astimezone(now.tzinfo).strftime("%Y-%m-%d %H:%M"),
                cb.target,
                cb.caller,
                cb.status + (f" ({cb.done_by})" if cb.done_by else ""),
                str(cb.attempts),
                cb.last_outcome or "",
            )
        )
    table(rows)
    return EXIT_OK


def _callback_or_report(store: Store, callback_id: int, command: str) -> Callback | None:
    callback = store.callback(callback_id)
    if callback is None:
        print(f"routing callbacks {command}: no callback has the id {callback_id}", file=sys.stderr)
    return callback


def cmd_callbacks_done(args: argparse.Namespace) -> int:
    opened = open_config_and_store(args)
    if opened is None:
        return EXIT_USAGE
    _, store, now = opened
    callback = _callback_or_report(store, args.id, "done")
    if callback is None:
        return EXIT_USAGE
    if not store.mark_done(args.id, at=now, by=args.by):
        print(f"callback {args.id} was done already ({callback.done_by})")
        return EXIT_FAILED
    print(f"callback {args.id} done")
    return EXIT_OK


def cmd_callbacks_call(args: argparse.Namespace) -> int:
    """Ring the employee at --from first; when they answer, Asterisk calls the caller."""
    opened = open_config_and_store(args)
    if opened is None:
        return EXIT_USAGE
    config, store, now = opened
    callback = _callback_or_report(store, args.id, "call")
    if callback is None:
        return EXIT_USAGE
    if callback.status == "done":
        print(f"routing callbacks call: callback {args.id} was done already ({callback.done_by})", file=sys.stderr)
        return EXIT_USAGE
    directory = Directory.from_config(config)
    device = directory.device_of(args.from_extension)
    if device is None:
        print(f"routing callbacks call: no phone has the extension {args.from_extension}", file=sys.stderr)
        return EXIT_USAGE
    ami_config = config.asterisk.ami
    try:
        secret = read_secret(ami_config.secret_env, ami_config.secret_file)
    except SecretMissing as exc:
        print(f"routing callbacks call: {exc}", file=sys.stderr)
        return EXIT_USAGE

    async def run() -> CallbackResult:
        ami = AmiClient(ami_config.host, ami_config.port, ami_config.username, secret)
        await ami.connect()
        try:
            return await call_back(
                callback, device=device, by=args.from_extension, directory=directory, store=store, ami=ami, now=now
            )
        finally:
            ami.close()

    print(f"ringing {args.from_extension}; once answered, {callback.caller} is called …")
    try:
        result = asyncio.run(run())
    except AmiError as exc:
        print(f"routing callbacks call: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"callback {args.id}: {result.outcome}" + (" (done)" if result.done else " (still open)"))
    return EXIT_OK if result.done else EXIT_FAILED


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    callbacks = commands.add_parser("callbacks", help="callbacks callers asked for (R4)")
    callback_commands = callbacks.add_subparsers(dest="callbacks_command", required=True, metavar="ACTION")
    cb_list = callback_commands.add_parser("list", help="every callback, or --open ones")
    cb_list.add_argument("--open", action="store_true", help="only those not done yet")
    cb_list.set_defaults(func=cmd_callbacks_list)
    done = callback_commands.add_parser("done", help="mark callback ID as done")
    done.add_argument("id", type=int, metavar="ID")
    done.add_argument("--by", default="cli", help="who called back (default: cli)")
    done.set_defaults(func=cmd_callbacks_done)

    call = callback_commands.add_parser("call", help="ring your phone, then the caller, and connect you")
    call.add_argument("id", type=int, metavar="ID")
    call.add_argument("--from", dest="from_extension", required=True, metavar="EXTENSION", help="your extension")
    call.set_defaults(func=cmd_callbacks_call)

    for parser in (cb_list, done, call):
        parser.add_argument("--config", required=True, metavar="FILE")
