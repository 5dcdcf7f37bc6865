"""What a call's plan was made from (#16), so that it can be made again: for an auditor's "why
did this call go there" (`routing explain --call`) and for "what would a changed config have
done" (`routing whatif`). The planner is pure, so the same inputs under the same config give
the same plan, exactly.

The inputs are what the planner was given and what it asked of the moment's state: the dialled
number, internal or not, hidden or not (never the caller's number, R12: the plan depends on
hidden-ness only, R4), the moment, the referrals in force (R11) of the people it asked about,
and the phones it asked about that Asterisk reported unregistered or in a call. A plan made
again under another config may ask about someone the original did not: that answer was never
observed (`Replayed.beyond`), and what is predicted from it is unknown.
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
    """Kept small (a unit of 60 is asked about 60 people and phones on every call, and calls are
    kept by the million): only what was in the way is written, the referrals in force and the
    phones passed over among those the planner asked about. Who else it asked about is not
    kept: the same plan made again under the same config asks the same (`replan`)."""

    called: str
    internal: bool
    hidden: bool
    at: datetime
    referrals: Mapping[str, Referral]  # the referrals in force of the people the planner asked about
    devices: Mapping[str, str]  # the phones it asked about that could not ring: 'unregistered' or 'busy'
    config: str = ""  # the hash of the config the plan was made under

    @classmethod
    def of(cls, call: Call, state: ObservedState, config: str) -> DecisionInputs:
        """The inputs of a plan just made with `state` (after plan_call)."""
        referrals = {p: RoutingState.referral(state, p, call.at) for p in sorted(state.asked_people)}
        devices = {d: RoutingState.cannot_ring(state, d) for d in sorted(state.asked_devices)}
        return cls(
            call.called,
            call.internal,
            call.caller is None,
            call.at,
            {p: r for p, r in referrals.items() if r is not None},
            {d: why for d, why in devices.items() if why is not None},
            config,
        )

    def call(self) -> Call:
        return Call(self.called, None if self.hidden else KEPT_NO_NUMBER, self.internal, self.at)

    def state(self) -> ObservedState:
        return ObservedState(
            dict(self.referrals),
            frozenset(d for d, why in self.devices.items() if why == "unregistered"),
            frozenset(d for d, why in self.devices.items() if why == "busy"),
        )

    def to_fields(self) -> dict[str, Any]:
        """As stored with call.start (JSON)."""
        return {
            "at": self.at.isoformat(),
            "internal": self.internal,
            "hidden": self.hidden,
            "referrals": {p: _referral_fields(r) for p, r in self.referrals.items()},
            "devices": dict(self.devices),
        }

    @classmethod
    def from_fields(cls, called: str, config: str, data: Mapping[str, Any]) -> DecisionInputs:
        """Read back what to_fields wrote (ValueError, KeyError or TypeError for what it did not)."""
        return cls(
            called,
            bool(data["internal"]),
            bool(data["hidden"]),
            datetime.fromisoformat(data["at"]),
            {str(p): _referral_of(str(p), fields) for p, fields in sorted(data["referrals"].items())},
            {str(d): str(why) for d, why in sorted(data["devices"].items())},
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
    """A plan made again from stored inputs, and whom and what it asked about."""

    plan: Plan
    asked_people: frozenset[str]
    asked_devices: frozenset[str]

    def beyond(self, original: Replayed) -> frozenset[str]:
        """What this plan asked about that the original did not: its answer then (a referral, a
        phone's state) was never observed, and was taken as nothing in the way."""
        return (self.asked_people - original.asked_people) | (self.asked_devices - original.asked_devices)


def replan(directory: Directory, inputs: DecisionInputs) -> Replayed:
    """The plan `directory` gives a call with these inputs. Under the config the call was planned
    under it is the plan the call had, asking about the same people and phones; under another,
    people and phones the inputs do not name are taken as nothing in the way (Replayed.beyond
    says which of them the original never asked about)."""
    state = inputs.state()
    plan = plan_call(directory, state, inputs.call())
    return Replayed(plan, frozenset(state.asked_people), frozenset(state.asked_devices))
