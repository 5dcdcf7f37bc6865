"""`routing operators`: passwords for the operators the config names (#13)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from routing.cli.main import main
from routing.switchboard.accounts import read_accounts, verify
from tests.unit.example_config import example_with_operators


@pytest.fixture
def config(tmp_path: Path) -> str:
    return str(example_with_operators(tmp_path, "eva", "olle"))


def test_passwd_list_remove(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("ett bra lösenord\n"))
    assert main(["operators", "passwd", "eva", "--password-stdin", "--config", config]) == 0
    assert verify(read_accounts(tmp_path / "operators"), "eva", "ett bra lösenord")
    capsys.readouterr()
    assert main(["operators", "list", "--config", config]) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert lines[1][0] == "eva" and lines[1][-1] == "yes"
    assert lines[2][0] == "olle" and lines[2][-2:] == ["no", "password"]
    assert main(["operators", "remove", "eva", "--config", config]) == 0
    assert read_accounts(tmp_path / "operators") == {}


def test_an_operator_not_in_the_config_gets_no_password(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("ett bra lösenord\n"))
    assert main(["operators", "passwd", "mallory", "--password-stdin", "--config", config]) == 2
    assert "no operator has the id 'mallory'" in capsys.readouterr().err
    assert not (tmp_path / "operators").exists()


def test_a_short_password_changes_nothing(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("kort\n"))
    assert main(["operators", "passwd", "eva", "--password-stdin", "--config", config]) == 2
    assert "at least 10 characters; nothing was changed" in capsys.readouterr().err
    assert not (tmp_path / "operators").exists()
