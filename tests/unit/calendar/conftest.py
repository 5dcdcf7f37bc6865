"""A real CalDAV server for the calendar tests: Radicale (from PyPI, the `test` extra), started
once per session on a free loopback port with one user, `anna`, whose password is in a file
the tests name (never in a config)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ci import in_ci
from tests.ports import free_port

USER = "anna"
PASSWORD = "kalender-hemlis-1"


@dataclass(frozen=True)
class Radicale:
    base_url: str
    user: str
    password_file: str

    def calendar_url(self, name: str) -> str:
        return f"{self.base_url}/{self.user}/{name}/"


@pytest.fixture(scope="session")
def radicale() -> Iterator[Radicale]:
    try:
        import radicale  # noqa: F401
    except ImportError:
        if in_ci():
            pytest.fail("Radicale is needed in CI (the test extra)", pytrace=False)
        pytest.skip("Radicale is not installed (pip install -e .[test])")
    base = Path(tempfile.mkdtemp(prefix="routing-radicale-"))
    (base / "users").write_text(f"{USER}:{PASSWORD}\n", encoding="utf-8")
    password_file = base / "password"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "radicale",
            f"--server-hosts=127.0.0.1:{port}",
            f"--storage-filesystem-folder={base / 'collections'}",
            "--auth-type=htpasswd",
            f"--auth-htpasswd-filename={base / 'users'}",
            "--auth-htpasswd-encryption=plain",
            "--rights-type=owner_only",
            "--logging-level=warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(base / "radicale.log", "wb"),  # noqa: SIM115 - the server's log, closed with the process
        env={**os.environ, "HOME": str(base)},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/.web/", timeout=1).close()
                break
            except (urllib.error.URLError, OSError):
                if server.poll() is not None or time.monotonic() > deadline:
                    log = (base / "radicale.log").read_text(errors="replace")[-500:]
                    pytest.fail(f"Radicale did not start: {log}", pytrace=False)
                time.sleep(0.1)
        yield Radicale(url, USER, str(password_file))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
