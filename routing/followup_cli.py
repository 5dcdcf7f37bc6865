"""`routing referral …` and `routing callbacks …`: what the switchboard and staff do by hand.

Both work on the store named in the config (store.url), which the running service shares:
a referral set here takes effect for the next call at once.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from routing.ami.client import AmiClient, AmiError
from routing.callback_call import CallbackResult, call_back, device_of
from routing.cli_common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, load_or_report, parse_reason, parse_until
from routing.config.schema import Config
from routing.policy import spoken_swedish
from routing.policy.directory import Directory
from routing.policy.referral import Referral
from routing.secrets import SecretMissing, read_secret
from routing.store import Callback, Store, StoreError, open_store


def _open(args: argparse.Namespace) -> tuple[Config, Store, datetime] | None:
    config = load_or_report(args.config)
    if config is None:
        return None
    try:
        store = open_store(config.store.url)
    except StoreError as exc:
        print(f"routing: {exc}", file=sys.stderr)
        return None
    return config, store, datetime.now(ZoneInfo(config.timezone))


def _person_or_report(config: Config, person: str) -> bool:
    if any(p.id == person for p in config.people):
        return True
    print(f"routing: no person has the id '{person}'", file=sys.stderr)
    return False


def cmd_referral_set(args: argparse.Namespace) -> int:
    opened = _open(args)
    if opened is None:
        return EXIT_USAGE
    config, store, now = opened
    if not _person_or_report(config, args.person):
        return EXIT_USAGE
    try:
        referral = Referral(
            args.person, parse_reason(args.reason), parse_until(args.until, now) if args.until else None
        )
    except ValueError as exc:
        print(f"routing referral set: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if referral.until is not None and not referral.active_at(now):
        print("routing referral set: the return time has passed already", file=sys.stderr)
        return EXIT_USAGE
    store.set_referral(referral, at=now, by="cli")
    print(f"{args.person}: {referral.reason.value}" + (f" until {until_text(referral, now)}" if referral.until else ""))
    return EXIT_OK


def cmd_referral_clear(args: argparse.Namespace) -> int:
    opened = _open(args)
    if opened is None:
        return EXIT_USAGE
    config, store, _ = opened
    if not _person_or_report(config, args.person):
        return EXIT_USAGE
    print(f"{args.person}: " + ("referral cleared" if store.clear_referral(args.person) else "had no referral"))
    return EXIT_OK


def until_text(referral: Referral, now: datetime) -> str:
    if referral.until is None:
        return "until further notice"
    if isinstance(referral.until, datetime):
        return referral.until.astimezone(now.tzinfo).strftime("%Y-%m-%d %H:%M")
    return referral.until.isoformat()


def cmd_referral_list(args: argparse.Namespace) -> int:
    """For the switchboard: who is away, why, until when, and their mobile (R15)."""
    opened = _open(args)
    if opened is None:
        return EXIT_USAGE
    config, store, now = opened
    people = {p.id: p for p in config.people}
    active = sorted((r for r in store.referrals() if r.active_at(now)), key=lambda r: r.person)
    if not active:
        print("nobody has a referral")
        return EXIT_OK
    rows = [("person", "name", "unit", "reason", "back", "mobile")]
    for referral in active:
        person = people.get(referral.person)
        mobile = spoken_swedish.phone_number(person.mobile).replace(" ", "") if person and person.mobile else ""
        rows.append(
            (
                referral.person,
                person.name if person else "(not in the config)",
                person.unit if person else "",
                referral.reason.value,
                until_text(referral, now),
                mobile,
            )
        )
    table(rows)
    return EXIT_OK


def cmd_callbacks_list(args: argparse.Namespace) -> int:
    """The full caller number is shown here: the switchboard must call it (R4, R12)."""
    opened = _open(args)
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
    opened = _open(args)
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
    opened = _open(args)
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
    if device_of(directory, args.from_extension) is None:
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
            return await call_back(callback, args.from_extension, directory=directory, store=store, ami=ami, now=now)
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


def table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    referral = commands.add_parser("referral", help="set, clear or list referrals (hänvisning, R11)")
    referral_commands = referral.add_subparsers(dest="referral_command", required=True, metavar="ACTION")
    set_ = referral_commands.add_parser("set", help="PERSON is away: callers hear why and until when")
    set_.add_argument("person", metavar="PERSON")
    set_.add_argument("--reason", required=True, help="lunch, meeting, errand, sick, vacation, course, …")
    set_.add_argument("--until", metavar="HH:MM|YYYY-MM-DD", help="when PERSON is back (omit: until cleared)")
    set_.set_defaults(func=cmd_referral_set)
    clear = referral_commands.add_parser("clear", help="PERSON is back")
    clear.add_argument("person", metavar="PERSON")
    clear.set_defaults(func=cmd_referral_clear)
    listing = referral_commands.add_parser("list", help="who is away, why, until when, mobile number")
    listing.set_defaults(func=cmd_referral_list)

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

    for parser in (set_, clear, listing, cb_list, done, call):
        parser.add_argument("--config", required=True, metavar="FILE")
