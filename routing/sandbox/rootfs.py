"""Build (once) and cache the Debian sid root that holds Asterisk 22.

Debian 12 has no asterisk package; sid has 22.x. The root is built next to its
final place and renamed when complete, so an interrupted build never looks
finished. It lives outside the repository because it is ~400 MB.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import structlog

from routing.calllog.events import LogId
from routing.sandbox.settings import NotRootError, SandboxError, SandboxSettings

log = structlog.get_logger()

SUITE = "sid"
PACKAGES = ("asterisk", "asterisk-core-sounds-en", "espeak-ng", "sox")
# sid's Release file on the mirror can be past its Valid-Until date.
APT_OPTIONS = ('Acquire::Check-Valid-Until "false"',)
BUILT_MARKER = ".routing-sandbox-built"
BUILDING_PREFIX = "root.building-"
BUILD_TIMEOUT_S = 1800


def require_root() -> None:
    if os.geteuid() != 0:
        raise NotRootError("the Asterisk sandbox needs root (chroot, mount, mmdebstrap); run it as root")


def _decode_mount_path(raw: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo.
    return raw.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def mounts_under(path: Path) -> list[Path]:
    """Mount points at or below path, deepest first (the order to unmount)."""
    target = path.resolve()
    found: list[Path] = []
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            if len(fields) < 5:
                continue
            mount_point = Path(_decode_mount_path(fields[4]))
            if mount_point == target or target in mount_point.parents:
                found.append(mount_point)
    return sorted(set(found), key=lambda p: len(p.parts), reverse=True)


def unmount_all_under(path: Path) -> None:
    for mount_point in mounts_under(path):
        result = subprocess.run(["umount", str(mount_point)], capture_output=True, check=False)
        if result.returncode != 0:
            # Busy (a process still has a cwd there): detach it from the tree
            # anyway so nothing below can be reached through it any more.
            subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, check=False)


def safe_rmtree(path: Path) -> None:
    """rmtree that never descends into a mount: a killed mmdebstrap can leave
    /dev, /proc or /sys bind mounts behind, and deleting through a /dev bind
    mount would delete the host's device nodes."""
    if not path.exists() and not path.is_symlink():
        return
    unmount_all_under(path)
    remaining = mounts_under(path)
    if remaining:
        raise SandboxError(f"refusing to delete {path}: still mounted: {remaining}")
    shutil.rmtree(path)


def is_built(settings: SandboxSettings) -> bool:
    return (settings.root_dir / BUILT_MARKER).is_file()


def ensure_mmdebstrap() -> str:
    found = shutil.which("mmdebstrap")
    if found:
        return found
    log.info(LogId.SANDBOX_INSTALLING_MMDEBSTRAP)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # A fresh machine's package lists may be empty or stale.
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "mmdebstrap"]):
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise SandboxError(f"`{' '.join(cmd)}` failed ({result.returncode}):\n{result.stderr[-2000:]}")
    found = shutil.which("mmdebstrap")
    if not found:
        raise SandboxError("mmdebstrap is still missing after apt-get install")
    return found


def mmdebstrap_command(mmdebstrap: str, target: Path) -> list[str]:
    cmd = [mmdebstrap, "--variant=apt"]
    cmd += [f"--aptopt={option}" for option in APT_OPTIONS]
    cmd += [f"--include={','.join(PACKAGES)}", SUITE, str(target)]
    return cmd


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _check_root(target: Path) -> None:
    """Fail the build, not the first test, when the root lacks a tool we rely on."""
    checks = (
        ["asterisk", "-V"],
        ["espeak-ng", "-v", "sv", "--stdout", "hej"],
        ["sox", "--version"],
    )
    for check in checks:
        result = subprocess.run(["chroot", str(target), *check], capture_output=True, check=False)
        # Each check prints something when it works; silence means it did not.
        if result.returncode != 0 or not result.stdout:
            stderr = result.stderr.decode(errors="replace").strip()[-500:]
            raise SandboxError(f"built root fails `{' '.join(check)}`: {stderr}")


def build(settings: SandboxSettings) -> float:
    """Build the root; returns the seconds it took."""
    require_root()
    base = settings.base_dir
    base.mkdir(parents=True, exist_ok=True)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    for stale in base.glob(f"{BUILDING_PREFIX}*"):
        log.info(LogId.SANDBOX_REMOVING_STALE_BUILD, path=str(stale))
        safe_rmtree(stale)
    mmdebstrap = ensure_mmdebstrap()
    target = base / f"{BUILDING_PREFIX}{os.getpid()}"
    started = time.monotonic()
    log.info(LogId.SANDBOX_BUILDING_ROOT, target=str(settings.root_dir), log=str(settings.build_log_file))
    try:
        with open(settings.build_log_file, "w", encoding="utf-8") as build_log:
            result = subprocess.run(
                mmdebstrap_command(mmdebstrap, target),
                stdin=subprocess.DEVNULL,
                stdout=build_log,
                stderr=subprocess.STDOUT,
                timeout=BUILD_TIMEOUT_S,
                check=False,
            )
        if result.returncode != 0:
            raise SandboxError(
                f"mmdebstrap failed ({result.returncode}); log {settings.build_log_file}:\n"
                f"{_tail(settings.build_log_file)}"
            )
        _check_root(target)
        # systemd-tmpfiles would create this on a booted system; a chroot has none.
        (target / "run" / "asterisk").mkdir(parents=True, exist_ok=True)
        (target / BUILT_MARKER).write_text(
            f"suite={SUITE}\npackages={','.join(PACKAGES)}\nbuilt={time.time():.0f}\n",
            encoding="utf-8",
        )
        if settings.root_dir.exists():
            # A root without the marker: something half-made from an older tool.
            safe_rmtree(settings.root_dir)
        target.rename(settings.root_dir)
    except (SandboxError, OSError, subprocess.SubprocessError):
        safe_rmtree(target)
        raise
    elapsed = time.monotonic() - started
    log.info(LogId.SANDBOX_ROOT_BUILT, seconds=round(elapsed, 1))
    return elapsed


def ensure_built(settings: SandboxSettings) -> float | None:
    """Build if needed; returns the build time, or None when the cache was used."""
    if is_built(settings):
        return None
    return build(settings)
