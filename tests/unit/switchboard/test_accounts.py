"""#13: the switchboard operators' accounts file: argon2 hashes, mode 0600, replaced whole;
a malformed line is an error naming its line."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from routing.switchboard.accounts import (
    AccountsError,
    read_accounts,
    remove_account,
    set_password,
    verify,
)


def test_a_password_is_kept_as_an_argon2_hash_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "operators"
    set_password(path, "eva", "rätt lösenord 1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert "rätt lösenord" not in text and "eva:$argon2id$" in text
    accounts = read_accounts(path)
    assert verify(accounts, "eva", "rätt lösenord 1")
    assert not verify(accounts, "eva", "rätt lösenord 2")
    assert not verify(accounts, "nobody", "rätt lösenord 1")
    assert [p.name for p in path.parent.iterdir()] == ["operators"]  # no temporary file left


def test_setting_a_password_again_replaces_it_and_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "operators"
    set_password(path, "eva", "first password")
    set_password(path, "olle", "olles password")
    set_password(path, "eva", "second password")
    accounts = read_accounts(path)
    assert sorted(accounts) == ["eva", "olle"]
    assert verify(accounts, "eva", "second password") and not verify(accounts, "eva", "first password")
    assert remove_account(path, "eva") and not remove_account(path, "eva")
    assert sorted(read_accounts(path)) == ["olle"]


def test_a_short_password_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 10 characters"):
        set_password(tmp_path / "operators", "eva", "kort")
    assert not (tmp_path / "operators").exists()


def test_no_file_means_no_accounts(tmp_path: Path) -> None:
    assert read_accounts(tmp_path / "operators") == {}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("eva", r"operators:2: not '<operator id>:<argon2 hash>'"),
        ("eva:plaintext", r"operators:2: not '<operator id>:<argon2 hash>'"),
        ("olle:$argon2id$v=19$x", r"operators:2: operator 'olle' has a second line"),
    ],
)
def test_a_malformed_line_is_named(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "operators"
    path.write_text("olle:$argon2id$v=19$m=65536,t=3,p=4$abc$def\n" + line + "\n", encoding="utf-8")
    with pytest.raises(AccountsError, match=message):
        read_accounts(path)


def test_a_hash_that_is_not_argon2s_does_not_verify() -> None:
    from routing.switchboard.accounts import Account

    assert not verify({"eva": Account("eva", "$argon2id$broken")}, "eva", "anything at all")
