"""Calls out from the municipality's phones: premium-rate numbers (R18) and private calls (R17).

private_prefix + number   a private call (R17): dialled without the prefix, recorded
                          for repayment
barred prefix             refused (R18) unless the caller's person has the head of
                          unit's written permission (pay_services)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from routing.policy.directory import Directory

_NUMBER = re.compile(r"\+?[0-9]{2,20}")


@dataclass(frozen=True)
class Outbound:
    """Dial `dial` (the trunk with the number filled in)."""

    number: str
    dial: str
    private: bool  # R17: record for repayment
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Refused:
    number: str
    rule: str
    reason: str
    premium_rate: bool  # R18: a barred prefix without approval; else the number cannot be dialled


def decide_outbound(dialled: str, caller_extension: str, directory: Directory) -> Outbound | Refused:
    config = directory.config.outbound
    number, private = dialled, False
    if config.private_prefix and dialled.startswith(config.private_prefix):
        number, private = dialled[len(config.private_prefix) :], True
    if not _NUMBER.fullmatch(number):
        return Refused(number, "R18", f"'{dialled}' is not a number that can be dialled out", premium_rate=False)
    barred = next((p for p in config.barred_prefixes if number.startswith(p)), None)
    person = directory.by_extension.get(caller_extension)
    rules: tuple[str, ...] = ("R17",) if private else ()
    if barred is not None:
        if person is None or person.pay_services is None:
            who = person.id if person else f"extension {caller_extension}"
            reason = f"{barred} is a premium-rate prefix and {who} has no written permission"
            return Refused(number, "R18", reason, premium_rate=True)
        rules += ("R18",)
    return Outbound(number, config.trunk.replace("{number}", number), private, rules)
