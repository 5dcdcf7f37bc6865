"""`routing sandbox up|down|status`: registered, and refused without root."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from routing.cli.sandbox import register


def test_cli_registers_up_down_status() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    for action in ("up", "down", "status"):
        args = parser.parse_args(["sandbox", action])
        assert callable(args.func)


@pytest.mark.parametrize("action", ["up", "down"])
def test_cli_refuses_non_root_with_status_2(
    action: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sandbox", "--base-dir", str(tmp_path), action])
    assert args.func(args) == 2
    assert "needs root" in capsys.readouterr().err
    assert not (tmp_path / "root").exists()
