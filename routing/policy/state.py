"""What the engine knows beyond the config at the moment of a call: who has a referral."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from routing.policy.referral import Referral


@dataclass(frozen=True)
class RoutingState:
    referrals: Mapping[str, Referral] = field(default_factory=dict)

    def referral(self, person: str, at: datetime) -> Referral | None:
        """The person's referral if it is in force at `at` (R11: it expires by itself)."""
        found = self.referrals.get(person)
        return found if found is not None and found.active_at(at) else None
