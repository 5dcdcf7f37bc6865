"""The log file the service appends to (R12: never readable by everyone)."""

from __future__ import annotations

import stat
from pathlib import Path

from routing.calllog.setup import open_log_file


def test_r12_log_file_is_private_or_group_readable(tmp_path: Path) -> None:
    private = tmp_path / "logs" / "routing.log"
    open_log_file(str(private)).close()
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    shared = tmp_path / "shared.log"
    shared.write_text("")
    shared.chmod(0o644)
    open_log_file(str(shared), group_read=True).close()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o640
