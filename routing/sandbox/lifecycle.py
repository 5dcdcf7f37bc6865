"""The sandbox's public operations: up, down, status, reset."""

from __future__ import annotations

import contextlib
import fcntl
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import structlog

from routing.calllog.events import LogId
from routing.sandbox import asterisk_config, credentials, process, rootfs
from routing.sandbox.credentials import Credentials
from routing.sandbox.settings import (
    AMI_USERNAME,
    ARI_USERNAME,
    BIND_HOST,
    SandboxError,
    SandboxSettings,
)

log = structlog.get_logger()

RESET_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class RunningSandbox:
    """Everything a test or the demo needs to talk to the sandbox Asterisk."""

    settings: SandboxSettings
    credentials: Credentials
    pid: int
    version: str
    build_seconds: float | None
    boot_seconds: float

    @property
    def root_dir(self) -> Path:
        return self.settings.root_dir

    @property
    def secrets_file(self) -> Path:
        return self.settings.secrets_file

    @property
    def ami_host(self) -> str:
        return BIND_HOST

    @property
    def ami_port(self) -> int:
        return self.settings.ami_port

    @property
    def ami_username(self) -> str:
        return AMI_USERNAME

    @property
    def ami_secret(self) -> str:
        return self.credentials.ami_secret

    @property
    def ari_url(self) -> str:
        return self.settings.ari_url

    @property
    def ari_username(self) -> str:
        return ARI_USERNAME

    @property
    def ari_password(self) -> str:
        return self.credentials.ari_password

    def rx(self, command: str, timeout: float = process.RX_TIMEOUT_S) -> str:
        return process.rx(self.settings, command, timeout)

    def reset(self) -> None:
        reset(self.settings)


@dataclass(frozen=True)
class SandboxStatus:
    running: bool
    pid: int | None
    version: str | None
    built: bool
    root_dir: Path
    secrets_file: Path
    log_file: Path


@contextlib.contextmanager
def _locked(settings: SandboxSettings) -> Iterator[None]:
    """Serialise up/down/reset between processes (two pytest runs, a CLI)."""
    settings.base_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.base_dir / ".lock", "w", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _version(settings: SandboxSettings) -> str:
    # "Asterisk 22.10.1+dfsg+... built by ..." -> "22.10.1+dfsg+..."
    output = process.rx(settings, "core show version").strip()
    match = re.match(r"Asterisk\s+(\S+)", output)
    return match.group(1) if match else output


def up(settings: SandboxSettings | None = None) -> RunningSandbox:
    """Build the root if needed, write config, start Asterisk; idempotent."""
    settings = settings or SandboxSettings.from_env()
    rootfs.require_root()
    with _locked(settings):
        build_seconds = rootfs.ensure_built(settings)
        creds = credentials.load_or_create(settings)
        asterisk_config.install(settings, creds)
        was_running = process.running_pid(settings) is not None
        started = time.monotonic()
        pid = process.start(settings)
        boot_seconds = time.monotonic() - started
        if was_running:
            # The config was just rewritten: let the dialplan, voicemail and AMI users follow it.
            for command in ("dialplan reload", "voicemail reload", "manager reload"):
                process.rx(settings, command)
        version = _version(settings)
    log.info(LogId.SANDBOX_UP, pid=pid, version=version, boot_seconds=round(boot_seconds, 1))
    return RunningSandbox(settings, creds, pid, version, build_seconds, boot_seconds)


def down(settings: SandboxSettings | None = None) -> bool:
    """Stop Asterisk and unmount proc; idempotent. Returns whether one was running."""
    settings = settings or SandboxSettings.from_env()
    rootfs.require_root()
    with _locked(settings):
        stopped = process.stop(settings)
        process.unmount_shared(settings)
        process.unmount_proc(settings)
    return stopped


def status(settings: SandboxSettings | None = None) -> SandboxStatus:
    settings = settings or SandboxSettings.from_env()
    pid = process.running_pid(settings)
    version: str | None = None
    if pid is not None:
        with contextlib.suppress(SandboxError):
            version = _version(settings)
    return SandboxStatus(
        running=pid is not None,
        pid=pid,
        version=version,
        built=rootfs.is_built(settings),
        root_dir=settings.root_dir,
        secrets_file=settings.secrets_file,
        log_file=settings.log_file,
    )


def active_channels(settings: SandboxSettings) -> int:
    output = process.rx(settings, "core show channels count")
    match = re.search(r"(\d+) active channels?", output)
    if match is None:
        raise SandboxError(f"unexpected `core show channels count` output: {output!r}")
    return int(match.group(1))


# Spool folders whose leftovers would leak into the next test: recorded
# messages change mailbox counts; a stray call file would start a call.
RESET_SPOOLS = ("voicemail", "outgoing")


def _clear_spools(settings: SandboxSettings) -> None:
    spool = settings.root_dir / "var" / "spool" / "asterisk"
    for name in RESET_SPOOLS:
        folder = spool / name
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()


def reset(settings: SandboxSettings | None = None, timeout: float = RESET_TIMEOUT_S) -> None:
    """Give the next test a clean Asterisk without restarting it: no channels,
    no voicemail messages or call files, config files as shipped (test
    leftovers removed), dialplan and voicemail reloaded from them."""
    settings = settings or SandboxSettings.from_env()
    with _locked(settings):
        process.rx(settings, "channel request hangup all")
        deadline = time.monotonic() + timeout
        # Hangup is asynchronous: Local channels take a moment to tear down.
        while (count := active_channels(settings)) > 0:
            if time.monotonic() > deadline:
                raise SandboxError(f"{count} channels still up {timeout}s after hangup all")
            time.sleep(0.05)
        _clear_spools(settings)
        creds = credentials.load(settings.secrets_file)
        if creds is None:
            raise SandboxError(f"{settings.secrets_file} is missing; run `routing sandbox up`")
        asterisk_config.install(settings, creds)
        process.rx(settings, "dialplan reload")
        process.rx(settings, "voicemail reload")
