"""What a call's plan was made from (#16), so that it can be made again: for an auditor's "why
did this call go there" (`routing explain --call`) and for "what would a changed config have
done" (`routing whatif`). The planner is pure, so the same inputs under the same config give
the same plan, exactly.

The inputs are what the planner was given and what it asked of the moment's state: the dialled
number, internal or not, hidden or not (never the caller's number, R12: the plan depends on
hidden-ness only, R4), the moment, and for each person it asked about their referral in force
(R11), for each phone it asked about whether Asterisk reported it unregistered or in a call. A
plan made again under another config may ask about someone the original did not: that answer
was never observed, and the plan made from it is marked as resting on the unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from routing.policy.call import Call
from routing.policy.directory import Directory
from routing.policy.planner import Plan, plan_call
from routing.policy.referral import Reason, Referral
from routing.policy.state import RoutingState

# Stands for a caller's number in a plan made again: the number itself is not kept (R12), and
# the planner only asks whether there is one.
KEPT_NO_NUMBER = "kept-no-number"


@dataclass(frozen=True)
class ObservedState(RoutingState):
    """A RoutingState that notes what the planner asks of it: the people whose referral and
    the phones whose state a plan depends on."""

    asked_people: set[str] = field(default_factory=set, compare=False)
    asked_devices: set[str] = field(default_factory=set, compare=False)

    @classmethod
    def watching(cls, state: RoutingState) -> ObservedState:
        return cls(state.referrals, state.unavailable_devices, state.busy_devices)

    def referral(self, person: str, at: datetime) -> Referral | None:
        self.asked_people.add(person)
        return super().referral(person, at)

    def cannot_ring(self, device: str) -> str | None:
        self.asked_devices.add(device)
        return super().cannot_ring(device)


@dataclass(frozen=True)
class DecisionInputs:
    called: str
    internal: bool
    hidden: bool
    at: datetime
    referrals: Mapping[str, Referral | None]  # every person asked about: their referral in force, or None
    devices: Mapping[str, str | None]  # every phone asked about: 'unregistered', 'busy' or None (could ring)
    config: str = ""  # the hash of the config the plan was made under

    @classmethod
    def of(cls, call: Call, state: ObservedState, config: str) -> DecisionInputs:
        """The inputs of a plan just made with `state` (after plan_call)."""
        return cls(
            call.called,
            call.internal,
            call.caller is None,
            call.at,
            {person: RoutingState.referral(state, person, call.at) for person in sorted(state.asked_people)},
            {device: RoutingState.cannot_ring(state, device) for device in sorted(state.asked_devices)},
            config,
        )

    def call(self) -> Call:
        return Call(self.called, None if self.hidden else KEPT_NO_NUMBER, self.internal, self.at)

    def to_fields(self) -> dict[str, Any]:
        """As stored with call.start (JSON): only what differs from "nothing in the way" is written
        out in full; people and phones asked about without anything in the way are listed."""
        return {
            "at": self.at.isoformat(),
            "internal": self.internal,
            "hidden": self.hidden,
            "referrals": {p: _referral_fields(r) for p, r in self.referrals.items() if r is not None},
            "no_referral": [p for p, r in self.referrals.items() if r is None],
            "devices": {d: why for d, why in self.devices.items() if why is not None},
            "can_ring": [d for d, why in self.devices.items() if why is None],
        }

    @classmethod
    def from_fields(cls, called: str, config: str, data: Mapping[str, Any]) -> DecisionInputs:
        """Read back what to_fields wrote (ValueError, KeyError or TypeError for what it did not)."""
        referrals: dict[str, Referral | None] = {p: None for p in data["no_referral"]}
        for person, fields in data["referrals"].items():
            referrals[person] = _referral_of(person, fields)
        devices: dict[str, str | None] = {d: None for d in data["can_ring"]}
        devices.update({str(d): str(why) for d, why in data["devices"].items()})
        return cls(
            called,
            bool(data["internal"]),
            bool(data["hidden"]),
            datetime.fromisoformat(data["at"]),
            dict(sorted(referrals.items())),
            dict(sorted(devices.items())),
            config,
        )


def _referral_fields(referral: Referral) -> dict[str, str | None]:
    until = referral.until
    return {"reason": referral.reason.value, "until": until.isoformat() if until is not None else None}


def _referral_of(person: str, fields: Mapping[str, Any]) -> Referral:
    until_text = fields.get("until")
    until: datetime | date | None = None
    if until_text:
        until = datetime.fromisoformat(until_text) if "T" in until_text else date.fromisoformat(until_text)
    return Referral(person, Reason(fields["reason"]), until)


@dataclass(frozen=True)
class Replayed:
    """A plan made again from stored inputs, and what it asked that the inputs do not say."""

    plan: Plan
    unknown_people: frozenset[str]  # asked about, but not by the original plan: their referral was not observed
    unknown_devices: frozenset[str]


def replan(directory: Directory, inputs: DecisionInputs) -> Replayed:
    """The plan `directory` gives a call with these inputs. People and phones the inputs do not
    cover are taken as nothing in the way (no referral, can ring), and named as unknown."""
    referrals = {p: r for p, r in inputs.referrals.items() if r is not None}
    state = ObservedState(
        referrals,
        frozenset(d for d, why in inputs.devices.items() if why == "unregistered"),
        frozenset(d for d, why in inputs.devices.items() if why == "busy"),
    )
    plan = plan_call(directory, state, inputs.call())
    return Replayed(
        plan,
        frozenset(state.asked_people - inputs.referrals.keys()),
        frozenset(state.asked_devices - inputs.devices.keys()),
    )
