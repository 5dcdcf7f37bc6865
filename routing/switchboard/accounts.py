"""The switchboard operators' accounts (#13): a file the admin manages with `routing operators`,
one line an operator, `<id>:<argon2id hash>`, mode 0600 (R12: logged-in operators see callers'
numbers). The hash is argon2-cffi's (its parameters are in the hash, so a later release can
raise them and rehash at the next login); a password is never written or logged.

The file is replaced whole (written beside it, then renamed), so a crash leaves the old one or
the new one, never half of either. A malformed line is an error naming its line: the service
refuses to guess who may log in.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD = 10
_HASHER = PasswordHasher()


@functools.cache
def _unknown() -> str:
    """Verified against when the id is unknown, so a wrong id takes as long as a wrong password."""
    return _HASHER.hash("an operator who does not exist")


class AccountsError(Exception):
    """The accounts file cannot be read or written, or holds a malformed line."""

    log_id = "operators.error"


@dataclass(frozen=True)
class Account:
    id: str
    password_hash: str


def read_accounts(path: Path) -> dict[str, Account]:
    """Every account in the file; an absent file holds none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise AccountsError(f"cannot read the operators' accounts {path}: {exc.strerror}") from exc
    accounts: dict[str, Account] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        operator, sep, password_hash = line.partition(":")
        if not sep or not operator or not password_hash.startswith("$argon2"):
            raise AccountsError(f"{path}:{number}: not '<operator id>:<argon2 hash>' (use `routing operators passwd`)")
        if operator in accounts:
            raise AccountsError(f"{path}:{number}: operator '{operator}' has a second line")
        accounts[operator] = Account(operator, password_hash)
    return accounts


def write_accounts(path: Path, accounts: Mapping[str, Account]) -> None:
    lines = ["# routing operators: <id>:<argon2 hash>; managed by `routing operators`\n"]
    lines += [f"{account.id}:{account.password_hash}\n" for account in sorted(accounts.values(), key=lambda a: a.id)]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=".operators-", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.writelines(lines)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise AccountsError(f"cannot write the operators' accounts {path}: {exc.strerror}") from exc


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password has at least {MIN_PASSWORD} characters")
    return _HASHER.hash(password)


def set_password(path: Path, operator: str, password: str) -> None:
    accounts = read_accounts(path)
    accounts[operator] = Account(operator, hash_password(password))
    write_accounts(path, accounts)


def remove_account(path: Path, operator: str) -> bool:
    accounts = read_accounts(path)
    if accounts.pop(operator, None) is None:
        return False
    write_accounts(path, accounts)
    return True


def verify(accounts: Mapping[str, Account], operator: str, password: str) -> bool:
    """Whether `password` is the operator's; the same work whether or not the id exists."""
    account = accounts.get(operator)
    try:
        return _HASHER.verify(account.password_hash if account else _unknown(), password) and account is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
