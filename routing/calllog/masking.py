"""R12: caller numbers never reach a log line whole unless the admin turns masking off."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

# Every log field that may hold an outside party's number. Staff extensions are not masked:
# they are in the directory anyway and operators need them to follow a call.
NUMBER_FIELDS = frozenset({"caller", "callerid", "caller_number", "from_number", "dialled", "remote"})

_KEEP = 2  # trailing digits kept so an operator can tell calls apart


def mask_number(number: str) -> str:
    """'+46701234567' -> '+4670*****67': country and network code stay, the subscriber goes."""
    digits = [i for i, ch in enumerate(number) if ch.isdigit()]
    if len(digits) <= _KEEP:
        return "*" * len(number)
    head = 4 if number.startswith("+") else 3
    keep = set(digits[:head]) | set(digits[-_KEEP:]) if len(digits) > head + _KEEP else set(digits[-_KEEP:])
    return "".join(ch if (i in keep or not ch.isdigit()) else "*" for i, ch in enumerate(number))


def mask_processor(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: masks every field named in NUMBER_FIELDS."""
    for key in NUMBER_FIELDS.intersection(event):
        value = event[key]
        if isinstance(value, str) and value:
            event[key] = mask_number(value)
    return event
