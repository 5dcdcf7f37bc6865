"""Whether the tests run in CI, where a missing Asterisk or PostgreSQL fails instead of skipping."""

from __future__ import annotations

import os


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
