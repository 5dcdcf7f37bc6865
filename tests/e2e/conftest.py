"""Fixtures for end-to-end tests against the sandbox Asterisk (routing.sandbox).

`asterisk` brings the sandbox up once per session (building the root on a new
machine, ~35 s); `asterisk_reset` gives each test a clean Asterisk. In CI
(CI=true) a sandbox that cannot come up fails the run instead of skipping it,
so a green CI always means the e2e tests really ran.

For the routing tests (test_inbound.py): `sandbox_exclusive` holds the sandbox's lock during
a test (no reset from elsewhere under a call), `ami` is a recording AMI client with the
test-only dialplan installed, and `routing` starts the service in-process (tests/e2e/harness.py).
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import structlog
import yaml

from routing.policy.referral import Referral
from routing.sandbox import RunningSandbox, SandboxError, reset, up
from routing.service.failsafe import FAMILY as FAILSAFE_FAMILY
from routing.store import open_store
from tests.ci import in_ci
from tests.e2e.harness import (
    Ami,
    AmiLogin,
    RunningService,
    ServiceProcess,
    install_test_dialplan,
    start_service,
    stockholm,
)
from tests.ports import free_port


@pytest.fixture(scope="session")
def asterisk() -> RunningSandbox:
    """The running sandbox: ami_host/ami_port/ami_username/ami_secret,
    ari_url/ari_username/ari_password, rx(cmd) -> CLI output, root_dir.

    It is left running after the session: the next run starts in a second,
    and `routing sandbox down` stops it."""
    try:
        return up()
    except SandboxError as exc:
        if in_ci():
            pytest.fail(f"sandbox Asterisk did not come up in CI: {exc}", pytrace=False)
        pytest.skip(f"sandbox Asterisk unavailable: {exc}")


@pytest.fixture
def asterisk_reset(asterisk: RunningSandbox) -> Iterator[RunningSandbox]:
    """Clean before the test (not only after) so a test never inherits calls
    from a failed predecessor or from someone's manual session."""
    reset(asterisk.settings)
    yield asterisk


# --- inbound routing tests (test_inbound.py): AMI client and the service in-process ------------

SANDBOX_LOCK_TIMEOUT_S = 120.0


@pytest.fixture
def sandbox_exclusive(asterisk_reset: RunningSandbox) -> Iterator[RunningSandbox]:
    """Hold the sandbox's lock (the one `reset`, `up` and `down` take) for the test, after its
    reset: a test run or CLI elsewhere on this machine cannot reset Asterisk under a call in
    progress. Their reset waits until this test is over."""
    lock_path = asterisk_reset.settings.base_dir / ".lock"
    with open(lock_path, "w", encoding="utf-8") as handle:
        deadline = time.monotonic() + SANDBOX_LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the sandbox lock {lock_path} stayed taken for {SANDBOX_LOCK_TIMEOUT_S}s")
                time.sleep(0.1)
        try:
            yield asterisk_reset
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture
def ami_login(asterisk: RunningSandbox) -> AmiLogin:
    """For a service whose own AMI link is on: `await routing(data, ami_login=ami_login)`."""
    return AmiLogin(asterisk.ami_host, asterisk.ami_port, asterisk.ami_username, asterisk.ami_secret)


@pytest.fixture
async def ami(sandbox_exclusive: RunningSandbox) -> AsyncIterator[Ami]:
    """An AMI connection recording every event, with the test-only dialplan installed
    (e2e-phones, e2e-caller; the next reset removes it) and the routing service's AstDB
    family (the dialplan's fail-safe entries) emptied: the reset does not clear AstDB, and
    what a service wrote before would change where the fail-safe sends a call."""
    client = await Ami.connect(
        sandbox_exclusive.ami_host,
        sandbox_exclusive.ami_port,
        sandbox_exclusive.ami_username,
        sandbox_exclusive.ami_secret,
    )
    try:
        await install_test_dialplan(client)
        await client.db_del_tree(FAILSAFE_FAMILY)
        yield client
    finally:
        await client.close()


# Log events that mean the service or the dialplan went wrong, whatever the test.
FAULT_EVENTS = frozenset(
    {
        "policy.violation",
        "flow.bad_event",
        "agi.bad_result",
        "call.unknown",
        "call.not_resumed",
        "agi.handler_timeout",
        "prompt.not_played",
    }
)

ServiceFactory = Callable[..., Awaitable[RunningService]]


@pytest.fixture
async def routing(ami: Ami, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[ServiceFactory]:
    """`await routing(config_dict, at=datetime, referrals=[...], ami_login=…)` starts the
    service in-process (see harness.start_service) with its store in the test's tmp_path
    (services of one test share it, as a restarted service does). At the end: every service
    is stopped, the log config is put back, and no call logged a fault (FAULT_EVENTS) unless
    the test is marked `@pytest.mark.faults_expected`."""
    saved = structlog.get_config()
    started: list[RunningService] = []

    async def start(data: Mapping[str, Any], **options: Any) -> RunningService:
        running = await start_service(ami, data, state_dir=tmp_path, **options)
        started.append(running)
        return running

    try:
        yield start
    finally:
        for running in started:
            await running.stop()
        if any(running.linked for running in started):
            await ami.db_del_tree(FAILSAFE_FAMILY)  # leave no fail-safe entries of this test's config
        structlog.configure(**saved)
    if request.node.get_closest_marker("faults_expected") is None:
        for running in started:
            faults = [r for r in running.log.records() if r.get("event") in FAULT_EVENTS]
            assert not faults, f"the service logged faults: {faults}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults_expected: the service may log fault events (see FAULT_EVENTS)")


@pytest.fixture
async def service_process(
    ami: Ami, ami_login: AmiLogin, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[ServiceProcess]]]:
    started: list[ServiceProcess] = []

    async def start(
        data: dict[str, Any],
        referrals: tuple[Referral, ...] = (),
        *,
        ari: dict[str, Any] | None = None,
        store: str | None = None,
        phone_hours: dict[str, str] | None = None,
        port: int | None = None,
    ) -> ServiceProcess:
        """`ari`: the config's asterisk.ari (default one whose password is never used); `store`:
        its URL (default a SQLite file in tmp_path); `phone_hours`: the unit's telephone hours
        (default none: the real clock's hour must ring); `port`: its FastAGI port (a restart
        on the same address)."""
        port = port or free_port()
        data = {
            **data,
            "asterisk": {
                "ami": ami_login.config_section(tmp_path),
                "ari": ari or {"password_env": "ROUTING_ARI_PASSWORD"},
                "agi": {"listen": f"127.0.0.1:{port}"},
            },
            "store": {"url": store or f"sqlite:///{tmp_path.as_posix().lstrip('/')}/routing.db"},
            # The policy's clock is the real one here: every hour of the week must ring.
            "working_hours": {"mon-sun": "00:00-24:00"},
            "calendar": {"holidays": "none"},
        }
        data["units"][0].pop("phone_hours", None)
        if phone_hours is not None:
            data["units"][0]["phone_hours"] = phone_hours
        config = tmp_path / f"routing-{len(started)}.yaml"
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        kept = open_store(data["store"]["url"])
        for referral in referrals:
            kept.set_referral(referral, at=stockholm("2026-12-01 10:00"), by="e2e")
        kept.close()
        log_path = tmp_path / f"routing-{len(started)}.log"
        with open(log_path, "wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "routing", "run", "--config", str(config)],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env={**os.environ, "ROUTING_ARI_PASSWORD": "unused"},
            )
        running = ServiceProcess(process, log_path, f"agi://127.0.0.1:{port}")
        started.append(running)
        # AMI is up: the fail-safe entries written, or left to the active instance (#17)
        await running.wait_logged('"astdb.synced"', or_text='"astdb.left_to_active"')
        await ami.set_global("ROUTING_AGI", running.agi_url)
        return running

    try:
        yield start
    finally:
        for running in started:
            if running.process.poll() is None:
                running.kill()
        await ami.db_del_tree("routing")  # leave no fail-safe entries of this test's config
