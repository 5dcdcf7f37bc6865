"""`routing sandbox up|down|status`: the CLI face of routing.sandbox.lifecycle."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from routing.sandbox import lifecycle
from routing.sandbox.settings import NotRootError, SandboxError, SandboxSettings

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NOT_ROOT = 2


def _settings(args: argparse.Namespace) -> SandboxSettings:
    base_dir: Path | None = args.base_dir
    dialplan_dir: Path | None = getattr(args, "dialplan_dir", None)
    return SandboxSettings.from_env(base_dir=base_dir, dialplan_dir=dialplan_dir)


def _fail(exc: SandboxError) -> int:
    print(f"routing sandbox: {exc}", file=sys.stderr)
    return EXIT_NOT_ROOT if isinstance(exc, NotRootError) else EXIT_FAILED


def cmd_up(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
        sandbox = lifecycle.up(settings)
    except SandboxError as exc:
        return _fail(exc)
    if sandbox.build_seconds is not None:
        print(f"built root in {sandbox.build_seconds:.0f}s: {sandbox.root_dir}")
    print(f"Asterisk {sandbox.version} running, pid {sandbox.pid}")
    print(f"secrets and connection details: {sandbox.secrets_file} (mode 0600)")
    print(f"AMI: {sandbox.ami_host}:{sandbox.ami_port} user {sandbox.ami_username}")
    print(f"ARI: {sandbox.ari_url} user {sandbox.ari_username}")
    print(f"CLI: chroot {sandbox.root_dir} asterisk -rvvv")
    print(f"log: {settings.log_file}")
    return EXIT_OK


def cmd_down(args: argparse.Namespace) -> int:
    try:
        stopped = lifecycle.down(_settings(args))
    except SandboxError as exc:
        return _fail(exc)
    print("Asterisk stopped" if stopped else "Asterisk was not running")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    try:
        state = lifecycle.status(_settings(args))
    except SandboxError as exc:
        return _fail(exc)
    if state.running:
        print(f"running, pid {state.pid}, Asterisk {state.version or 'unknown version'}")
    else:
        print("stopped")
    print(f"root: {state.root_dir} ({'built' if state.built else 'not built'})")
    print(f"secrets: {state.secrets_file}")
    print(f"log: {state.log_file}")
    # Scripts can test `routing sandbox status` like `systemctl is-active`.
    return EXIT_OK if state.running else 3


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="run a real Asterisk 22 in a chroot for tests and the demo",
        description="Provision and run the sandbox Asterisk (needs root).",
    )
    parser.add_argument(
        "--base-dir",
        type=Path,
        default=None,
        help="where the root and state live (default $ROUTING_SANDBOX_DIR or /var/cache/routing/sandbox)",
    )
    actions = parser.add_subparsers(dest="sandbox_command", required=True)
    up_parser = actions.add_parser("up", help="build if needed, configure and start Asterisk")
    up_parser.add_argument(
        "--dialplan-dir",
        type=Path,
        default=None,
        help="folder whose *.conf go into /etc/asterisk (default $ROUTING_DIALPLAN_DIR or the checkout's dialplan/)",
    )
    up_parser.set_defaults(func=cmd_up)
    down_parser = actions.add_parser("down", help="stop Asterisk and unmount proc")
    down_parser.set_defaults(func=cmd_down)
    status_parser = actions.add_parser("status", help="running or stopped, pid, version")
    status_parser.set_defaults(func=cmd_status)


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (`python -m routing.cli.sandbox`) until routing.cli.main wires it in."""
    parser = argparse.ArgumentParser(prog="routing")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
