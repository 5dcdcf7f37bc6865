"""Fixtures for end-to-end tests against the sandbox Asterisk (routing.sandbox).

`asterisk` brings the sandbox up once per session (building the root on a new
machine, ~35 s); `asterisk_reset` gives each test a clean Asterisk. In CI
(CI=true) a sandbox that cannot come up fails the run instead of skipping it,
so a green CI always means the e2e tests really ran.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from routing.sandbox import RunningSandbox, SandboxError, reset, up


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def asterisk() -> RunningSandbox:
    """The running sandbox: ami_host/ami_port/ami_username/ami_secret,
    ari_url/ari_username/ari_password, rx(cmd) -> CLI output, root_dir.

    It is left running after the session: the next run starts in a second,
    and `routing sandbox down` stops it."""
    try:
        return up()
    except SandboxError as exc:
        if _in_ci():
            pytest.fail(f"sandbox Asterisk did not come up in CI: {exc}", pytrace=False)
        pytest.skip(f"sandbox Asterisk unavailable: {exc}")


@pytest.fixture
def asterisk_reset(asterisk: RunningSandbox) -> Iterator[RunningSandbox]:
    """Clean before the test (not only after) so a test never inherits calls
    from a failed predecessor or from someone's manual session."""
    reset(asterisk.settings)
    yield asterisk
