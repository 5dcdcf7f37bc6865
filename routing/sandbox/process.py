"""Start, stop and query the Asterisk process running in the sandbox root."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import structlog

from routing.calllog.events import LogId
from routing.sandbox.rootfs import mounts_under
from routing.sandbox.settings import SandboxError, SandboxSettings

log = structlog.get_logger()

READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
RX_TIMEOUT_S = 30.0
# A minimal environment: the host's variables mean nothing inside the chroot.
CHROOT_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}

# Popen objects of Asterisks started by this Python process, so they are
# reaped (no zombie that looks alive) and not garbage-collected while running.
_children: dict[int, subprocess.Popen[bytes]] = {}


def control_socket(settings: SandboxSettings) -> Path:
    return settings.root_dir / "run" / "asterisk" / "asterisk.ctl"


def _asterisk_pid_file(settings: SandboxSettings) -> Path:
    return settings.root_dir / "run" / "asterisk" / "asterisk.pid"


def proc_mounted(settings: SandboxSettings) -> bool:
    proc_dir = (settings.root_dir / "proc").resolve()
    return proc_dir in mounts_under(proc_dir)


def mount_proc(settings: SandboxSettings) -> None:
    if proc_mounted(settings):
        return
    subprocess.run(
        ["mount", "-t", "proc", "proc", str(settings.root_dir / "proc")],
        check=True,
        capture_output=True,
    )


def unmount_proc(settings: SandboxSettings) -> None:
    if not proc_mounted(settings):
        return
    proc_dir = str(settings.root_dir / "proc")
    result = subprocess.run(["umount", proc_dir], capture_output=True, check=False)
    if result.returncode != 0:
        subprocess.run(["umount", "-l", proc_dir], capture_output=True, check=False)


# Host folders Asterisk must see at the same path as the service: the service writes prompts
# (recordings, generated speech) there and the dialplan plays them by path.
SHARED_DIRS = (Path("/var/lib/routing"),)


def _shared_target(settings: SandboxSettings, shared: Path) -> Path:
    return settings.root_dir / shared.relative_to("/")


def mount_shared(settings: SandboxSettings) -> None:
    for shared in SHARED_DIRS:
        target = _shared_target(settings, shared)
        if target.resolve() in mounts_under(target):
            continue
        shared.mkdir(parents=True, exist_ok=True)
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "--bind", str(shared), str(target)], check=True, capture_output=True)


def unmount_shared(settings: SandboxSettings) -> None:
    for shared in SHARED_DIRS:
        target = _shared_target(settings, shared)
        if target.exists() and target.resolve() in mounts_under(target):
            result = subprocess.run(["umount", str(target)], capture_output=True, check=False)
            if result.returncode != 0:
                subprocess.run(["umount", "-l", str(target)], capture_output=True, check=False)


def is_alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        del _children[pid]
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
        comm = Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip()
    except OSError:
        return False
    # A zombie has exited; a reused pid is not our Asterisk.
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state != "Z" and comm == "asterisk"


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def running_pid(settings: SandboxSettings) -> int | None:
    """Our pid file first; Asterisk's own pid file covers one started by hand."""
    for path in (settings.pid_file, _asterisk_pid_file(settings)):
        pid = _read_pid(path)
        if pid is not None and is_alive(pid):
            return pid
    return None


def rx_result(
    settings: SandboxSettings, command: str, timeout: float = RX_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["chroot", str(settings.root_dir), "asterisk", "-rx", command],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=CHROOT_ENV,
        check=False,
    )


def rx(settings: SandboxSettings, command: str, timeout: float = RX_TIMEOUT_S) -> str:
    """Run one CLI command in the running Asterisk and return its output."""
    try:
        result = rx_result(settings, command, timeout)
    except subprocess.TimeoutExpired as exc:
        raise SandboxError(f"`asterisk -rx {command!r}` timed out after {timeout}s") from exc
    if result.returncode != 0:
        raise SandboxError(
            f"`asterisk -rx {command!r}` failed ({result.returncode}): {(result.stderr or result.stdout).strip()}"
        )
    return result.stdout


def log_tail(settings: SandboxSettings, lines: int = 40) -> str:
    try:
        text = settings.log_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def wait_ready(settings: SandboxSettings, pid: int, timeout: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    socket_path = control_socket(settings)
    while True:
        if not is_alive(pid):
            raise SandboxError(
                f"Asterisk (pid {pid}) exited during startup; log {settings.log_file}:\n{log_tail(settings)}"
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SandboxError(
                f"Asterisk (pid {pid}) not fully booted after {timeout}s; "
                f"log {settings.log_file}:\n{log_tail(settings)}"
            )
        if socket_path.exists():
            with contextlib.suppress(subprocess.TimeoutExpired):
                result = rx_result(settings, "core waitfullybooted", timeout=remaining)
                if result.returncode == 0:
                    return
        time.sleep(0.2)


def start(settings: SandboxSettings, timeout: float = READY_TIMEOUT_S) -> int:
    """Start Asterisk unless it runs already; returns its pid once fully booted."""
    mount_shared(settings)
    existing = running_pid(settings)
    if existing is not None:
        wait_ready(settings, existing, timeout)
        return existing
    mount_proc(settings)
    run_dir = control_socket(settings).parent
    run_dir.mkdir(parents=True, exist_ok=True)
    # A socket left by a killed Asterisk would make readiness polling talk to nothing.
    control_socket(settings).unlink(missing_ok=True)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.log_file, "ab") as log_handle:
        # -f: stay in the foreground so the pid is Asterisk's; -n: no colour
        # codes in the log. Never -c without a terminal: it floods its output.
        child = subprocess.Popen(
            ["chroot", str(settings.root_dir), "asterisk", "-f", "-n"],
            stdin=subprocess.DEVNULL,
            stdout=log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=CHROOT_ENV,
        )
    _children[child.pid] = child
    settings.pid_file.write_text(f"{child.pid}\n", encoding="utf-8")
    log.info(LogId.SANDBOX_ASTERISK_STARTED, pid=child.pid, log=str(settings.log_file))
    try:
        wait_ready(settings, child.pid, timeout)
    except SandboxError:
        stop(settings)
        raise
    return child.pid


def _wait_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return True
        time.sleep(0.1)
    return not is_alive(pid)


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def stop(settings: SandboxSettings, timeout: float = STOP_TIMEOUT_S) -> bool:
    """Stop Asterisk if it runs; returns whether there was one to stop."""
    pid = running_pid(settings)
    if pid is None:
        settings.pid_file.unlink(missing_ok=True)
        return False
    with contextlib.suppress(subprocess.TimeoutExpired):
        rx_result(settings, "core stop now", timeout=10)
    if not _wait_exit(pid, timeout):
        log.warning(LogId.SANDBOX_ASTERISK_SIGTERM, pid=pid)
        _signal(pid, signal.SIGTERM)
        if not _wait_exit(pid, 5):
            log.warning(LogId.SANDBOX_ASTERISK_SIGKILL, pid=pid)
            _signal(pid, signal.SIGKILL)
            _wait_exit(pid, 5)
    settings.pid_file.unlink(missing_ok=True)
    log.info(LogId.SANDBOX_ASTERISK_STOPPED, pid=pid)
    return True
