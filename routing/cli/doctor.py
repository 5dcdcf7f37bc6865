"""`routing doctor`: the live installation checked as an admin would by hand, one line a check
with what to do when it fails (routing.service.install_checks). Exit 0 when all pass."""

from __future__ import annotations

import argparse
import asyncio

from routing.ami.client import AmiClient, AmiError
from routing.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, load_or_report
from routing.config.schema import Config
from routing.config.secrets import SecretMissing, read_secret
from routing.policy.directory import Directory
from routing.service.install_checks import Check, run_checks
from routing.store import StoreError, open_store


async def _checks(config: Config) -> list[Check]:
    ami_config = config.asterisk.ami
    where = f"{ami_config.username}@{ami_config.host}:{ami_config.port}"
    try:
        secret = read_secret(ami_config.secret_env, ami_config.secret_file)
    except SecretMissing as exc:
        return [
            Check("ami.login", False, str(exc), "give the AMI secret through the variable or file the config names")
        ]
    try:
        store = open_store(config.store.url)
    except StoreError as exc:
        return [Check("store", False, str(exc), "check store.url, and that this user may open it")]
    ami = AmiClient(ami_config.host, ami_config.port, ami_config.username, secret, keepalive=False)
    try:
        await ami.connect(wait_for_login=True)
    except AmiError as exc:
        ami.close()
        return [
            Check(
                "ami.login",
                False,
                f"{where}: {exc}",
                "check asterisk.ami (host, port, username, secret) against manager.conf (enabled, permit)",
            )
        ]
    try:
        login = Check("ami.login", True, f"logged in as {where}")
        return [login, *await run_checks(config, Directory.from_config(config), store, ami)]
    finally:
        ami.close()
        store.close()


def cmd_doctor(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return EXIT_USAGE
    checks = asyncio.run(_checks(config))
    width = max(len(check.name) for check in checks)
    for check in checks:
        mark = "ok  " if check.ok else "FAIL"
        print(f"{mark}  {check.name:<{width}}  {check.detail}")
        if not check.ok:
            print(f"      {'':<{width}}  → {check.fix}")
    failed = sum(not check.ok for check in checks)
    print(f"\n{len(checks) - failed} of {len(checks)} checks passed" + (f"; {failed} failed" if failed else ""))
    return EXIT_OK if not failed else EXIT_FAILED


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor = commands.add_parser("doctor", help="check the live installation (Asterisk, AMI, dialplan, AstDB, prompts)")
    doctor.add_argument("--config", required=True, metavar="FILE")
    doctor.set_defaults(func=cmd_doctor)
