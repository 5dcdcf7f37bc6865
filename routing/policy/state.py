"""What the engine knows beyond the config at the moment of a call: who has a referral, and
which phones cannot ring now."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from routing.policy.referral import Referral


@dataclass(frozen=True)
class RoutingState:
    referrals: Mapping[str, Referral] = field(default_factory=dict)
    # Devices Asterisk reports as not reachable (unregistered) or already in a call: a flow
    # passes over them at once instead of ringing them for the whole ring limit (R1, R2).
    unavailable_devices: frozenset[str] = frozenset()
    busy_devices: frozenset[str] = frozenset()

    def cannot_ring(self, device: str) -> str | None:
        """Why `device` is passed over now: 'unregistered' or 'busy' (in a call); None if it can ring."""
        if device in self.unavailable_devices:
            return "unregistered"
        if device in self.busy_devices:
            return "busy"
        return None

    def referral(self, person: str, at: datetime) -> Referral | None:
        """The person's referral if it is in force at `at` (R11: it expires by itself)."""
        found = self.referrals.get(person)
        return found if found is not None and found.active_at(at) else None
