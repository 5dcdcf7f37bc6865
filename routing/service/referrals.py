"""Where the running service reads and writes referrals (R11): the store, or memory in tests."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from routing.policy.referral import Referral
from routing.policy.state import RoutingState


class ReferralSource(Protocol):
    def snapshot(self) -> RoutingState:
        """The referrals as they stand now; a call plans with one snapshot throughout."""
        ...


class ReferralStore(ReferralSource, Protocol):
    def set_referral(self, referral: Referral, *, at: datetime, by: str) -> None: ...

    def clear_referral(self, person: str) -> bool: ...


class MemoryReferrals:
    """Referrals kept in memory: for tests and the demo, where nothing must outlive the run."""

    def __init__(self) -> None:
        self._referrals: dict[str, Referral] = {}

    def set(self, referral: Referral) -> None:
        self._referrals[referral.person] = referral

    def clear(self, person: str) -> None:
        self._referrals.pop(person, None)

    def set_referral(self, referral: Referral, *, at: datetime, by: str) -> None:
        self.set(referral)

    def clear_referral(self, person: str) -> bool:
        return self._referrals.pop(person, None) is not None

    def snapshot(self) -> RoutingState:
        return RoutingState(dict(self._referrals))
