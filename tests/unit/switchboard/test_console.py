"""#14: the console's page and files, served by the switchboard's app over real HTTP on the
loopback: without a session (they hold no call data), each with the headers that keep it a
page of this server only (CSP without inline script, no framing, no referrer, no caching),
nothing but the shipped files; and every /api/* route still refuses a request without a
session (R12). The wheel carries the files (pyproject's package-data)."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from routing.config import Config
from routing.policy.directory import Directory
from routing.service.device_states import DeviceStates
from routing.store import open_store
from routing.switchboard import console
from routing.switchboard.api import SwitchboardApi
from routing.switchboard.console import SECURITY_HEADERS
from tests.unit.policy.builders import at

ROOT = Path(__file__).resolve().parents[3]
STATIC = ROOT / "routing" / "switchboard" / "static"


@pytest.fixture
async def base(tmp_path: Path, operator_config: Config) -> AsyncIterator[str]:
    directory = Directory.from_config(operator_config)
    store = open_store(f"sqlite:///{tmp_path}/routing.db")
    states = DeviceStates()
    api = SwitchboardApi(lambda: directory, store, states.known, lambda: at("2026-12-01 10:15"))
    host, port = await api.start("127.0.0.1", 0)
    try:
        yield f"http://{host}:{port}"
    finally:
        await api.stop()
        store.close()


def _assert_guarded(response: aiohttp.ClientResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp


async def test_the_page_is_served_without_a_session_with_its_security_headers(base: str) -> None:
    async with aiohttp.ClientSession(base) as client:
        async with client.get("/") as response:
            assert response.status == 200 and response.content_type == "text/html"
            _assert_guarded(response)
            page = await response.text()
        async with client.head("/") as response:
            assert response.status == 200
    assert '<html lang="sv">' in page and "Logga in" in page
    # The CSP forbids inline script and style: the page must not need any.
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []
    assert "<style" not in page and " style=" not in page and " on" + "click=" not in page
    assert "http://" not in page and "https://" not in page  # nothing fetched from elsewhere


async def test_every_file_the_page_names_is_served_with_its_type_and_headers(base: str) -> None:
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    named = re.findall(r'(?:src|href)="(/console/[^"]+)"', page)
    imported = {
        f"/console/{name}"
        for path in STATIC.glob("*.js")
        for name in re.findall(r'from "\./([\w.-]+)"', path.read_text(encoding="utf-8"))
    }
    assert {"/console/console.js", "/console/console.css"} <= set(named) and imported
    types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    async with aiohttp.ClientSession(base) as client:
        for path in sorted(set(named) | imported):
            async with client.get(path) as response:
                assert response.status == 200, path
                assert response.content_type == types[Path(path).suffix], path
                _assert_guarded(response)
                assert await response.read() == (STATIC / Path(path).name).read_bytes()


async def test_nothing_but_the_shipped_files_is_served(base: str) -> None:
    async with aiohttp.ClientSession(base) as client:
        for path in (
            "/console/nothing.js",
            "/console/..%2Fapi.py",
            "/console/%2e%2e/console.py",
            "/console/",
            "/console/../api.py",
        ):
            async with client.get(path) as response:
                assert response.status in (401, 404), path  # never a file of the package
                assert "import" not in await response.text()


async def test_r12_every_api_route_still_needs_a_session(base: str) -> None:
    async with aiohttp.ClientSession(base) as client:
        for method, path in (
            ("GET", "/api/me"),
            ("GET", "/api/calls"),
            ("GET", "/api/directory?q=anna"),
            ("GET", "/api/callbacks"),
            ("GET", "/api/stream"),
            ("HEAD", "/api/calls"),
            ("POST", "/api/calls/x/answer"),
            ("PUT", "/api/referrals/soc1"),
            ("POST", "/"),
        ):
            async with client.request(method, path) as response:
                assert response.status == 401, (method, path)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/api/stream")
        assert refused.value.status == 401


def test_the_wheel_carries_every_file_of_the_page() -> None:
    """pyproject's package-data patterns match each file the page is made of (a file they
    missed would be absent from a non-editable install)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["routing.switchboard"]
    files = [f"static/{p.name}" for p in STATIC.iterdir()]
    assert files and [f for f in files if not any(fnmatch.fnmatch(f, p) for p in patterns)] == []
    served = console.console_files()
    assert sorted(served) == sorted(p.name for p in STATIC.iterdir())
