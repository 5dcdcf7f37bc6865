"""What an admin installs beside the package: the systemd unit (`routing unit-file` prints its path)."""

from __future__ import annotations

from pathlib import Path

SYSTEMD_UNIT = Path(__file__).with_name("routing.service")
