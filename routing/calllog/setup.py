"""Logging setup: one JSON object per line for operators' tools, readable on a terminal.

Every line has `timestamp` (ISO-8601 with the local offset), `level` and `event`; call events
add `call_id`. Caller numbers are masked by default (R12), see `routing.calllog.masking`.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, MutableMapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TextIO

import structlog

from routing.calllog.masking import mask_processor

LogFormat = Literal["json", "console", "auto"]
Processor = Callable[[Any, str, MutableMapping[str, Any]], MutableMapping[str, Any]]


def _timestamp(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    event["timestamp"] = datetime.now().astimezone().isoformat(timespec="milliseconds")
    return event


def _json_line(obj: Any, **kwargs: Any) -> str:
    # Swedish names stay readable (ensure_ascii=False); one object per line, nothing else.
    kwargs.setdefault("default", str)
    return json.dumps(obj, ensure_ascii=False, **kwargs)


def configure_logging(
    fmt: LogFormat = "auto",
    level: str = "info",
    *,
    mask_numbers: bool = True,
    stream: TextIO | None = None,
    recorder: Processor | None = None,
) -> None:
    """`recorder` (an EventRecorder) stores call events before their numbers are masked."""
    out = stream if stream is not None else sys.stderr
    use_console = fmt == "console" or (fmt == "auto" and out.isatty())
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        _timestamp,
    ]
    if recorder is not None:
        processors.append(recorder)
    if mask_numbers:
        processors.append(mask_processor)
    processors.append(structlog.processors.format_exc_info)
    if use_console:
        processors.append(structlog.dev.ConsoleRenderer(colors=out.isatty()))
    else:
        processors.append(structlog.processors.JSONRenderer(serializer=_json_line))
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )


def open_log_file(path: str, *, group_read: bool = False) -> TextIO:
    """Append to the log file, creating it 0600 (0640 with `group_read`), never wider (R12)."""
    mode = 0o640 if group_read else 0o600
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, mode)
    os.fchmod(fd, mode)  # an older, wider file is narrowed too
    return os.fdopen(fd, "a", encoding="utf-8", buffering=1)
