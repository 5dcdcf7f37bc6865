"""R14: a person's calls go on to their mobile only with a recorded, written approval."""

from __future__ import annotations

from routing.config.schema import Person


def approved_mobile_device(person: Person, trunk: str) -> str | None:
    """The dial string of the person's mobile through the trunk, or None without approval."""
    if person.forward_to_mobile is None or person.mobile is None:
        return None
    return trunk.replace("{number}", person.mobile)
