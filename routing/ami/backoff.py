"""How long the AMI link waits before its next connection attempt: pure, no clock, no I/O."""

from __future__ import annotations


class Backoff:
    """Doubles after each failed attempt, up to `cap_s`; back to `first_s` after a login.

    A restarting Asterisk is back within seconds and is found at once; one that stays down is
    asked every `cap_s` seconds, not every second for hours."""

    def __init__(self, first_s: float = 1.0, cap_s: float = 30.0) -> None:
        if not 0 < first_s <= cap_s:
            raise ValueError("backoff needs 0 < first_s <= cap_s")
        self.first_s = first_s
        self.cap_s = cap_s
        self.delay_s = first_s  # before the next attempt

    def failed(self) -> float:
        """An attempt failed: the delay before the next one."""
        self.delay_s = min(self.cap_s, self.delay_s * 2)
        return self.delay_s

    def reset(self) -> float:
        """Logged in: a later drop is retried after `first_s`."""
        self.delay_s = self.first_s
        return self.delay_s
