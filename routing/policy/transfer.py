"""Where the switchboard puts a call through to (#13): R1, R15, R18, R20.

An operator names a target as they would say it: a person (id or extension), a unit's number, a
shared phone, the switchboard's voicemail choice for a person, a person's mobile, or an outside
number. The target rings for at most the ring limit (R1); a phone Asterisk reports unregistered
or in a call is passed over (ringing it would only delay the återfall); putting a call through
to a mobile is the exception R15 allows, so it needs the operator's confirmation and is counted
as a mobile cost (R20); premium-rate numbers stay barred (R18: the switchboard has no written
permission).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from routing.policy.directory import Directory
from routing.policy.outbound import Outbound, decide_outbound
from routing.policy.state import RoutingState


class TargetKind(StrEnum):
    PERSON = "person"
    UNIT = "unit"
    PHONE = "phone"
    MOBILE = "mobile"  # a person's mobile (R15, R20)
    OUTSIDE = "outside"  # an outside number through the trunk
    VOICEMAIL = "voicemail"  # the person's (or unit's) mailbox, chosen explicitly


@dataclass(frozen=True)
class TransferTarget:
    """What to ring (`devices`, for at most `timeout_s`), or the mailbox to leave the caller in.
    `devices` empty for a ring target means every phone was passed over: the call comes back at
    once, `passed_over` says why."""

    kind: TargetKind
    target: str  # the person's or unit's id, the phone's extension, the number
    label: str  # as the operator sees it: "Anna Lindqvist (5001)"
    devices: tuple[str, ...] = ()
    timeout_s: float = 0.0
    mailbox: str | None = None
    passed_over: tuple[tuple[str, str], ...] = ()  # (device, "unregistered" | "busy")
    person: str | None = None  # whose referral, cover and mobile the operator sees on a return
    rules: tuple[str, ...] = ()

    @property
    def is_mobile_cost(self) -> bool:
        """R20: a call put through to a mobile is counted as a mobile cost."""
        return self.kind is TargetKind.MOBILE

    @property
    def why_not_rung(self) -> str:
        """'busy' if any phone passed over was in a call, else 'unregistered'."""
        return "busy" if any(why == "busy" for _, why in self.passed_over) else "unregistered"


class TransferRefused(Exception):
    """Not put through, and why. `needs_confirmation`: a mobile (R15), ask the operator again."""

    log_id = "switchboard.transfer_refused"

    def __init__(self, reason: str, rule: str, *, needs_confirmation: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.rule = rule
        self.needs_confirmation = needs_confirmation


def transfer_target(
    directory: Directory,
    state: RoutingState,
    to: str,
    at: datetime,
    *,
    voicemail: bool = False,
    mobile: bool = False,
    confirmed: bool = False,
) -> TransferTarget:
    """The target `to` stands for at local time `at`. `voicemail`: the mailbox of that person or unit instead of
    ringing; `mobile`: the person's mobile (needs `confirmed`, R15). An outside number that is
    a person's mobile is that person's mobile."""
    to = to.strip()
    person = directory.people.get(to) or directory.by_extension.get(to)
    if person is None:
        person = next((p for p in directory.config.people if p.mobile is not None and p.mobile == to), None)
        if person is not None:
            mobile = True
    trunk = directory.config.outbound.trunk
    limit = directory.ring_timeout_s
    if person is not None:
        label = directory.label(person.id)
        if voicemail:
            if person.voicemail is None:
                raise TransferRefused(f"{label} has no mailbox", "R2")
            return TransferTarget(
                TargetKind.VOICEMAIL, person.id, label, mailbox=person.voicemail, person=person.id, rules=("R2",)
            )
        if mobile:
            if person.mobile is None:
                raise TransferRefused(f"{label} has no mobile number", "R15")
            if not confirmed:
                raise TransferRefused(
                    f"putting a call through to {person.name}'s mobile {person.mobile} is the exception R15 "
                    "allows and a mobile cost (R20): confirm it",
                    "R15",
                    needs_confirmation=True,
                )
            return TransferTarget(
                TargetKind.MOBILE,
                person.id,
                f"{person.name}, mobile {person.mobile}",
                devices=(trunk.replace("{number}", person.mobile),),
                timeout_s=limit,
                person=person.id,
                rules=("R1", "R15", "R20"),
            )
        devices, passed = _ringable((person.device,), state)
        return TransferTarget(
            TargetKind.PERSON, person.id, label, devices, limit, passed_over=passed, person=person.id, rules=("R1",)
        )
    unit = directory.units.get(to) or directory.by_number.get(to)
    if unit is not None:
        label = directory.label(unit.id)
        if voicemail:
            if unit.voicemail is None:
                raise TransferRefused(f"{label} has no mailbox", "R2")
            return TransferTarget(TargetKind.VOICEMAIL, unit.id, label, mailbox=unit.voicemail, rules=("R2",))
        present = [directory.people[p].device for p in directory.members[unit.id] if state.referral(p, at) is None]
        devices, passed = _ringable(tuple(present), state)
        return TransferTarget(TargetKind.UNIT, unit.id, label, devices, limit, passed_over=passed, rules=("R1", "R11"))
    phone = directory.phones.get(to)
    if phone is not None:
        if voicemail:
            raise TransferRefused(f"{directory.label(phone.extension)} is a shared phone without a mailbox", "R2")
        devices, passed = _ringable((phone.device,), state)
        return TransferTarget(
            TargetKind.PHONE,
            phone.extension,
            directory.label(phone.extension),
            devices,
            limit,
            passed_over=passed,
            rules=("R1",),
        )
    if voicemail:
        raise TransferRefused(f"'{to}' is no person or unit with a mailbox", "R2")
    decided = decide_outbound(to, directory.config.switchboard.extension, directory)
    if not isinstance(decided, Outbound):
        raise TransferRefused(decided.reason, decided.rule)
    return TransferTarget(TargetKind.OUTSIDE, decided.number, decided.number, (decided.dial,), limit, rules=("R1",))


def _ringable(devices: tuple[str, ...], state: RoutingState) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The devices that can ring now, and those passed over with why (RoutingState.cannot_ring)."""
    why = {device: state.cannot_ring(device) for device in devices}
    ringable = tuple(device for device in devices if why[device] is None)
    passed = tuple((device, reason) for device, reason in why.items() if reason is not None)
    return ringable, passed
