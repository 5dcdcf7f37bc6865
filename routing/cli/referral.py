"""`routing referral set|clear|list`: referrals (hänvisning, R11) by hand, for the switchboard
and staff. They work on the store named in the config (store.url), which the running service
shares: a referral set here takes effect for the next call at once.
"""

from __future__ import annotations

import argparse
import sys

from routing.cli.calendar import PersonNow, people_now
from routing.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    open_config_and_store,
    table,
    until_text,
)
from routing.config.schema import Config
from routing.policy import spoken_swedish
from routing.policy.referral import Referral, parse_reason, parse_until


def _person_or_report(config: Config, person: str) -> bool:
    if any(p.id == person for p in config.people):
        return True
    print(f"routing: no person has the id '{person}'", file=sys.stderr)
    return False


def cmd_referral_set(args: argparse.Namespace) -> int:
    opened = open_config_and_store(args)
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
    opened = open_config_and_store(args)
    if opened is None:
        return EXIT_USAGE
    config, store, _ = opened
    if not _person_or_report(config, args.person):
        return EXIT_USAGE
    print(f"{args.person}: " + ("referral cleared" if store.clear_referral(args.person) else "had no referral"))
    return EXIT_OK


def cmd_referral_list(args: argparse.Namespace) -> int:
    """For the switchboard: who is away, why, until when, and their mobile (R15); where the
    referral comes from (who set it, or the calendar and its last good sync, #15), and a
    referral event within the hour."""
    opened = open_config_and_store(args)
    if opened is None:
        return EXIT_USAGE
    config, store, now = opened
    people = {p.id: p for p in config.people}
    shown = people_now(config, store, now)
    # Referrals in the store for people no longer in the config are still shown, as before.
    for stored in store.referrals():
        if stored.person not in people and stored.active_at(now):
            shown[stored.person] = PersonNow(stored, "", "")
    if not shown:
        print("nobody has a referral")
        return EXIT_OK
    rows = [("person", "name", "unit", "reason", "back", "mobile", "source", "soon")]
    for person_id, state in sorted(shown.items()):
        person = people.get(person_id)
        mobile = spoken_swedish.national_number(person.mobile) if person and person.mobile else ""
        away = state.referral
        rows.append(
            (
                person_id,
                person.name if person else "(not in the config)",
                person.unit if person else "",
                away.reason.value if away else "",
                until_text(away, now) if away else "",
                mobile,
                state.source,
                state.soon,
            )
        )
    table(rows)
    return EXIT_OK


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

    for parser in (set_, clear, listing):
        parser.add_argument("--config", required=True, metavar="FILE")
