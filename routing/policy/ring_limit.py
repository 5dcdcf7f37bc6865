"""R1: no caller waits more than `max_rings` ring signals at one ringing step."""

from __future__ import annotations

import math


def ring_timeout_s(max_rings: int, ring_period_s: float) -> float:
    """R1: a ringing step lasts at most max_rings × ring_period_s seconds (5 × 6 s in Sweden)."""
    if max_rings < 1 or ring_period_s <= 0:
        raise ValueError("a ring limit needs at least one ring of positive length")
    return max_rings * ring_period_s


SIGNAL_TOLERANCE_S = 0.25  # a signal due within this of the end was cut off, not heard


def rings_heard(waited_s: float, ring_period_s: float) -> int:
    """How many ring signals a caller heard after `waited_s` seconds of ringing: the first
    sounds at once, then one every period. A signal due in the last moment (timer jitter
    when the ring limit ends) is not counted."""
    if waited_s <= 0:
        return 0
    return max(1, math.ceil((waited_s - SIGNAL_TOLERANCE_S) / ring_period_s))
