"""A free TCP port on the loopback, for servers the tests start (FastAGI, PostgreSQL)."""

from __future__ import annotations

import contextlib
import socket


def free_port() -> int:
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
