"""Where the sandbox lives and which ports it listens on.

Everything here is derived from the environment once, so the CLI, the pytest
fixtures and the demo all agree on the same paths without passing them around.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BASE_DIR = Path("/var/cache/routing/sandbox")
DEFAULT_AMI_PORT = 5038
DEFAULT_HTTP_PORT = 8088
# Only loopback: the sandbox's credentials sit in a file readable by root, and
# nothing outside this machine has any business talking to a test PBX.
BIND_HOST = "127.0.0.1"
AMI_USERNAME = "routing"
ARI_USERNAME = "routing"

ENV_BASE_DIR = "ROUTING_SANDBOX_DIR"
ENV_AMI_PORT = "ROUTING_SANDBOX_AMI_PORT"
ENV_HTTP_PORT = "ROUTING_SANDBOX_HTTP_PORT"
ENV_DIALPLAN_DIR = "ROUTING_DIALPLAN_DIR"


class SandboxError(Exception):
    """The sandbox cannot do what was asked; the message says why and what to do."""


class NotRootError(SandboxError):
    """chroot, mount and mmdebstrap all need root."""


@dataclass(frozen=True)
class SandboxSettings:
    base_dir: Path
    ami_port: int
    http_port: int
    dialplan_dir: Path | None

    @property
    def root_dir(self) -> Path:
        return self.base_dir / "root"

    @property
    def state_dir(self) -> Path:
        return self.base_dir / "state"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "asterisk.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "asterisk.log"

    @property
    def build_log_file(self) -> Path:
        return self.state_dir / "build.log"

    @property
    def secrets_file(self) -> Path:
        return self.state_dir / "secrets.env"

    @property
    def etc_dir(self) -> Path:
        return self.root_dir / "etc" / "asterisk"

    @property
    def ari_url(self) -> str:
        return f"http://{BIND_HOST}:{self.http_port}/ari"

    @classmethod
    def from_env(
        cls,
        base_dir: Path | None = None,
        dialplan_dir: Path | None = None,
    ) -> SandboxSettings:
        env_base = os.environ.get(ENV_BASE_DIR)
        resolved_base = base_dir or (Path(env_base) if env_base else DEFAULT_BASE_DIR)
        return cls(
            base_dir=resolved_base,
            ami_port=_port_from_env(ENV_AMI_PORT, DEFAULT_AMI_PORT),
            http_port=_port_from_env(ENV_HTTP_PORT, DEFAULT_HTTP_PORT),
            dialplan_dir=dialplan_dir or default_dialplan_dir(),
        )


def _port_from_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError as exc:
        raise SandboxError(f"{name}={raw!r} is not a port number") from exc
    if not 1 <= port <= 65535:
        raise SandboxError(f"{name}={port} is outside 1..65535")
    return port


def default_dialplan_dir() -> Path | None:
    """The product's dialplan folder: env first (explicit wins), then the checkout's.

    An installed (non-editable) package has no checkout next to it, which is why
    the env var exists at all.
    """
    env_dir = os.environ.get(ENV_DIALPLAN_DIR)
    if env_dir:
        return Path(env_dir)
    checkout_dir = Path(__file__).resolve().parents[2] / "dialplan"
    if checkout_dir.is_dir():
        return checkout_dir
    return None
