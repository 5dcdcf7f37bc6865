"""`routing phones`: the switchboard's view of everyone's phone right now — the state Asterisk
reports (free, in a call, ringing, not registered) and any referral (R11, with mobile, R15)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from routing.ami.client import AmiClient, AmiError
from routing.cli.calendar import people_now
from routing.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, load_or_report, table, until_text
from routing.config.schema import Config
from routing.config.secrets import SecretMissing, read_secret
from routing.policy import spoken_swedish
from routing.policy.directory import Directory
from routing.store import StoreError, open_store
from routing.switchboard.directory_view import STATE_WORDS


async def _states(config: Config, secret: str, devices: list[str]) -> dict[str, str]:
    ami_config = config.asterisk.ami
    ami = AmiClient(ami_config.host, ami_config.port, ami_config.username, secret)
    await ami.connect()
    try:
        found = {}
        for device in devices:
            reply = await ami.action({"Action": "Getvar", "Variable": f"DEVICE_STATE({device})"})
            found[device] = str(reply.get("Value", "UNKNOWN"))
        return found
    finally:
        ami.close()


def cmd_phones(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return EXIT_USAGE
    ami_config = config.asterisk.ami
    try:
        secret = read_secret(ami_config.secret_env, ami_config.secret_file)
        store = open_store(config.store.url)
    except (SecretMissing, StoreError) as exc:
        print(f"routing phones: {exc}", file=sys.stderr)
        return EXIT_USAGE
    now = datetime.now(ZoneInfo(config.timezone))
    devices = sorted(Directory.from_config(config).devices())
    try:
        states = asyncio.run(_states(config, secret, devices))
    except AmiError as exc:
        print(f"routing phones: {exc}", file=sys.stderr)
        return EXIT_FAILED
    # Referrals set by hand and from calendars (#15), with where each comes from.
    shown = people_now(config, store, now)
    rows = [("ext", "name", "unit", "phone", "referral", "back", "mobile", "source", "soon")]
    for person in sorted(config.people, key=lambda p: p.extension):
        known = shown.get(person.id)
        referral = known.referral if known is not None else None
        mobile = spoken_swedish.national_number(person.mobile) if person.mobile else ""
        rows.append(
            (
                person.extension,
                person.name,
                person.unit,
                STATE_WORDS.get(states.get(person.device, "UNKNOWN"), states.get(person.device, "")),
                referral.reason.value if referral else "",
                until_text(referral, now) if referral else "",
                mobile,
                known.source if known is not None else "",
                known.soon if known is not None else "",
            )
        )
    for phone in sorted(config.phones, key=lambda p: p.extension):
        state = states.get(phone.device, "UNKNOWN")
        rows.append((phone.extension, phone.name, phone.unit or "", STATE_WORDS.get(state, state), "", "", "", "", ""))
    table(rows)
    return EXIT_OK


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    phones = commands.add_parser("phones", help="everyone's phone state and referral now (for the switchboard)")
    phones.add_argument("--config", required=True, metavar="FILE")
    phones.set_defaults(func=cmd_phones)
