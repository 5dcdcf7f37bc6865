"""The systemd unit shipped with the package (#11): systemd accepts it, it runs the service as
its own user with the file-system protections systemd offers, reloads by SIGHUP only after the
config was checked, and restarts on failure."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from routing.cli.main import main
from routing.deploy import SYSTEMD_UNIT
from tests.ci import in_ci


def _unit() -> dict[str, list[str]]:
    """Every key of [Service] with all its values (a key may repeat)."""
    values: dict[str, list[str]] = {}
    section = ""
    for line in SYSTEMD_UNIT.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


def test_the_unit_runs_the_service_as_its_own_user_and_restarts_it_on_failure() -> None:
    unit = _unit()
    assert unit["User"] == ["routing"] and unit["Group"] == ["routing"]
    assert unit["ExecStart"] == ["/opt/routing/bin/routing run --config /etc/routing/routing.yaml"]
    assert unit["Restart"] == ["on-failure"]
    assert unit["ExecReload"] == [
        "/opt/routing/bin/routing check --config /etc/routing/routing.yaml",  # a broken file is never sent
        "/bin/kill -HUP $MAINPID",
    ]
    assert unit["StateDirectory"] == ["routing"] and unit["ProtectSystem"] == ["strict"]
    assert unit["NoNewPrivileges"] == ["yes"] and unit["CapabilityBoundingSet"] == [""]
    assert int(unit["TimeoutStopSec"][0]) > 30  # the drain of calls in progress fits


def test_systemd_accepts_the_unit_and_rates_its_exposure_low(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if in_ci():
            pytest.fail("systemd-analyze is needed in CI")
        pytest.skip("systemd-analyze is not installed")
    routing = Path(sys.executable).with_name("routing")
    copy = tmp_path / "routing.service"  # the same unit, with this checkout's command in it
    copy.write_text(SYSTEMD_UNIT.read_text(encoding="utf-8").replace("/opt/routing/bin/routing", str(routing)))
    verified = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0 and verified.stderr == "", verified.stderr
    security = subprocess.run(
        [analyze, "security", "--offline=yes", str(copy)], capture_output=True, text=True, timeout=60
    )
    level = float(security.stdout.rsplit("Overall exposure level for routing.service:", 1)[1].split()[0])
    assert level < 2.5, security.stdout[-2000:]


def test_routing_unit_file_prints_where_the_unit_is(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["unit-file"]) == 0
    assert Path(capsys.readouterr().out.strip()) == SYSTEMD_UNIT and SYSTEMD_UNIT.is_file()
