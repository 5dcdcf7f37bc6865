"""What Asterisk needs to finish calls alone when the service is gone (R3), as AstDB entries.

The dialplan's fail-safe reads family `routing`:
    ext/<number>/dial      devices to ring for a person, phone, unit or the switchboard (& joined);
                           for a unit whose phones do not fit one value, one Local channel per
                           group (routing-failsafe-group), each group in ext/<number>/group/<i>
    ext/<number>/mailbox   the mailbox that answers after the ring limit
    ext/<number>/timeout   the ring limit in seconds (R1)
    failsafe/mailbox       the switchboard's mailbox, when the number is unknown
    barred/<prefix>        1 for every premium-rate prefix: refused for everyone (R18, fail closed)
    outbound/trunk_prefix, outbound/trunk_suffix, outbound/private_prefix
    agi/token              the secret the dialplan sends with every FastAGI request (#11)
"""

from __future__ import annotations

from routing.policy.directory import Directory
from routing.service.step_codec import dial_groups, seconds

FAMILY = "routing"
TOKEN_KEY = "agi/token"
# AMI reads a header line of at most 1024 bytes ("Val: " and the value): a longer value is
# refused ("line too long"), so a dial string longer than this is split into groups.
MAX_VALUE = 900
GROUP_CONTEXT = "routing-failsafe-group"


def astdb_entries(directory: Directory, agi_token: str) -> dict[str, str]:
    """Everything the service keeps in AstDB: the secret first, then the fail-safe."""
    return {TOKEN_KEY: agi_token, **failsafe_entries(directory)}


def failsafe_entries(directory: Directory) -> dict[str, str]:
    config = directory.config
    timeout = seconds(directory.ring_timeout_s)
    entries: dict[str, str] = {}

    def number(ext: str, devices: list[str], mailbox: str | None) -> None:
        if devices:
            groups = dial_groups(devices, MAX_VALUE)
            if len(groups) == 1:
                entries[f"ext/{ext}/dial"] = groups[0]
            else:  # every group rung together, each by a Local channel of its own
                for index, group in enumerate(groups, start=1):
                    entries[f"ext/{ext}/group/{index}"] = group
                entries[f"ext/{ext}/dial"] = "&".join(
                    f"Local/{index}-{ext}@{GROUP_CONTEXT}" for index in range(1, len(groups) + 1)
                )
            entries[f"ext/{ext}/timeout"] = timeout
        if mailbox:
            entries[f"ext/{ext}/mailbox"] = mailbox

    board = config.switchboard
    number(board.extension, [board.device], board.voicemail)
    for person in config.people:
        number(person.extension, [person.device], person.voicemail)
    for unit in config.units:
        devices = [directory.people[p].device for p in directory.members[unit.id]]
        number(unit.number, devices, unit.voicemail)
    for phone in config.phones:
        mailbox = directory.units[phone.unit].voicemail if phone.unit else None
        number(phone.extension, [phone.device], mailbox)
    entries["failsafe/mailbox"] = board.voicemail
    for prefix in config.outbound.barred_prefixes:
        entries[f"barred/{prefix}"] = "1"
    trunk_prefix, _, trunk_suffix = config.outbound.trunk.partition("{number}")
    entries["outbound/trunk_prefix"] = trunk_prefix
    entries["outbound/trunk_suffix"] = trunk_suffix
    if config.outbound.private_prefix:
        entries["outbound/private_prefix"] = config.outbound.private_prefix
    return entries
