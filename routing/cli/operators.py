"""`routing operators list|passwd|remove`: the switchboard operators' accounts (#13). The
operators themselves (id, name, phone) are in the config (`switchboard.operators`); their
passwords are hashed into `switchboard.accounts_file` (mode 0600), never in the YAML."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

import structlog

from routing.calllog.events import LogId
from routing.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, load_or_report, table
from routing.config.schema import Config
from routing.switchboard.accounts import AccountsError, read_accounts, remove_account, set_password

log = structlog.get_logger("routing.operators")


def _operator_or_report(config: Config, operator: str) -> bool:
    if any(o.id == operator for o in config.switchboard.operators):
        return True
    print(f"routing operators: no operator has the id '{operator}' (switchboard.operators)", file=sys.stderr)
    return False


def _new_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"New password for {args.operator}: ")
    if getpass.getpass("Again: ") != first:
        print("routing operators passwd: the passwords differ; nothing was changed", file=sys.stderr)
        return None
    return first


def cmd_passwd(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None or not _operator_or_report(config, args.operator):
        return EXIT_USAGE
    password = _new_password(args)
    if password is None:
        return EXIT_USAGE
    try:
        set_password(Path(config.switchboard.accounts_file), args.operator, password)
    except ValueError as exc:
        print(f"routing operators passwd: {exc}; nothing was changed", file=sys.stderr)
        return EXIT_USAGE
    except AccountsError as exc:
        print(f"routing operators passwd: {exc}", file=sys.stderr)
        return EXIT_FAILED
    log.info(LogId.OPERATOR_PASSWORD_SET, operator=args.operator, by="cli")
    print(f"{args.operator}: password set")
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return EXIT_USAGE
    try:
        removed = remove_account(Path(config.switchboard.accounts_file), args.operator)
    except AccountsError as exc:
        print(f"routing operators remove: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if removed:
        log.info(LogId.OPERATOR_REMOVED, operator=args.operator, by="cli")
    print(f"{args.operator}: " + ("can no longer log in" if removed else "had no account"))
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return EXIT_USAGE
    try:
        accounts = read_accounts(Path(config.switchboard.accounts_file))
    except AccountsError as exc:
        print(f"routing operators list: {exc}", file=sys.stderr)
        return EXIT_FAILED
    rows = [("operator", "name", "phone", "may log in")]
    for operator in config.switchboard.operators:
        rows.append((operator.id, operator.name, operator.device, "yes" if operator.id in accounts else "no password"))
    configured = {o.id for o in config.switchboard.operators}
    for stray in sorted(set(accounts) - configured):
        rows.append((stray, "(not in switchboard.operators)", "", "no: not in the config"))
    if len(rows) == 1:
        print("no operators: add them under switchboard.operators in the config")
        return EXIT_OK
    table(rows)
    return EXIT_OK


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    operators = commands.add_parser("operators", help="the switchboard operators' accounts (passwords)")
    actions = operators.add_subparsers(dest="operators_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the operators in the config and whether each may log in")
    listing.set_defaults(func=cmd_list)
    passwd = actions.add_parser("passwd", help="set OPERATOR's password (asked twice, or one line from stdin)")
    passwd.add_argument("operator", metavar="OPERATOR")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd.set_defaults(func=cmd_passwd)
    remove = actions.add_parser("remove", help="OPERATOR can no longer log in")
    remove.add_argument("operator", metavar="OPERATOR")
    remove.set_defaults(func=cmd_remove)
    for parser in (listing, passwd, remove):
        parser.add_argument("--config", required=True, metavar="FILE")
