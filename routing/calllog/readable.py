"""One call event (a parsed JSON log line) as one readable line for operators."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_SKIP = {"event", "level", "timestamp", "call_id", "logger"}


def _value(value: Any) -> str:
    if isinstance(value, list):
        return "+".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def describe(event: Mapping[str, Any]) -> str:
    """'call.step        step=person target=soc1 devices=PJSIP/5001 timeout_s=30' …"""
    name = str(event.get("event", "?"))
    fields = " ".join(f"{k}={_value(v)}" for k, v in event.items() if k not in _SKIP and v is not None)
    return f"{name:<18} {fields}".rstrip()
