"""A real Asterisk 22 in a Debian sid chroot, for tests and the demo.

`up()` builds (once, cached) and starts it, `reset()` cleans it between tests,
`down()` stops it. See routing.sandbox.lifecycle.
"""

from routing.sandbox.lifecycle import RunningSandbox, SandboxStatus, down, reset, status, up
from routing.sandbox.settings import NotRootError, SandboxError, SandboxSettings

__all__ = [
    "NotRootError",
    "RunningSandbox",
    "SandboxError",
    "SandboxSettings",
    "SandboxStatus",
    "down",
    "reset",
    "status",
    "up",
]
