"""Config errors an admin can act on: FILE:LINE:COL: key.path: message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """('units', 0, 'members', 1) -> 'units[0].members[1]'."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top)"


@dataclass(frozen=True, order=True)
class ConfigIssue:
    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.path}: {self.message}"


class ConfigError(Exception):
    """Every problem found in one config file, in file order. Stable log id: config.invalid."""

    log_id = "config.invalid"

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        self.issues = tuple(sorted(issues))
        super().__init__("\n".join(str(i) for i in self.issues))

    def __reduce__(self) -> tuple[type[ConfigError], tuple[tuple[ConfigIssue, ...]]]:
        """Pickled as its issues: a reload reads the file in another process (#12)."""
        return (ConfigError, (self.issues,))
