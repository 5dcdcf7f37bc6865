"""`routing run` as a process without Asterisk: it keeps serving, `routing reload` checks and
applies a config (a broken one is refused before anything is sent), SIGTERM stops it with 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "example.yaml"


def _wait_for(log: Path, event: str, timeout: float = 15.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        for line in lines:
            record = json.loads(line)
            if record.get("event") == event:
                return dict(record)
        time.sleep(0.05)
    raise AssertionError(f"{event} not logged: {log.read_text(encoding='utf-8')[-800:] if log.exists() else ''}")


def test_run_reload_and_graceful_stop(tmp_path: Path) -> None:
    text = (
        EXAMPLE.read_text(encoding="utf-8")
        .replace("sqlite:///var/lib/routing/routing.db", f"sqlite:///{tmp_path}/routing.db")
        .replace("/var/lib/routing/prompts", f"{tmp_path}/prompts")
        .replace("/var/log/routing/routing.log", f"{tmp_path}/routing.log")
        .replace('agi: {listen: "127.0.0.1:4573"}', 'agi: {listen: "127.0.0.1:0"}')
        .replace("port: 5038", "port: 1")  # no AMI here: the service runs on, and says so
    )
    config = tmp_path / "routing.yaml"
    config.write_text(text, encoding="utf-8")
    pid_file = tmp_path / "routing.pid"
    env = {**os.environ, "ROUTING_AMI_SECRET": "not-used-here", "ROUTING_ARI_PASSWORD": "x"}
    service = subprocess.Popen(
        [sys.executable, "-m", "routing", "run", "--config", str(config), "--pid-file", str(pid_file)], env=env
    )
    try:
        log = tmp_path / "routing.log"
        _wait_for(log, "service.started")
        assert int(pid_file.read_text()) == service.pid

        def reload() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "routing", "reload", "--config", str(config), "--pid-file", str(pid_file)],
                capture_output=True,
                text=True,
                check=False,
            )

        config.write_text(text.replace("max_rings: 5", "max_rings: 4"), encoding="utf-8")
        assert reload().returncode == 0
        assert _wait_for(log, "config.reloaded")["file"] == str(config)

        config.write_text(text.replace('cover: "6002"', 'cover: "6999"'), encoding="utf-8")
        refused = reload()
        assert refused.returncode == 2 and "people[3].cover" in refused.stderr  # nothing sent

        service.send_signal(signal.SIGTERM)
        assert service.wait(15) == 0
        _wait_for(log, "service.stopped")
        assert not pid_file.exists()
        assert oct(log.stat().st_mode & 0o777) == "0o600"
        assert "not-used-here" not in log.read_text(encoding="utf-8")  # R12: no secret in the log
    finally:
        if service.poll() is None:
            service.kill()
