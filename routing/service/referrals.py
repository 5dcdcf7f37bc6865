"""Where the running service reads referrals from (R11). The durable store comes with #4;
this registry keeps them in memory for the service and its tests."""

from __future__ import annotations

from typing import Protocol

from routing.policy.referral import Referral
from routing.policy.state import RoutingState


class ReferralSource(Protocol):
    def snapshot(self) -> RoutingState:
        """The referrals as they stand now; a call plans with one snapshot throughout."""
        ...


class MemoryReferrals:
    def __init__(self) -> None:
        self._referrals: dict[str, Referral] = {}

    def set(self, referral: Referral) -> None:
        self._referrals[referral.person] = referral

    def clear(self, person: str) -> None:
        self._referrals.pop(person, None)

    def snapshot(self) -> RoutingState:
        return RoutingState(dict(self._referrals))
