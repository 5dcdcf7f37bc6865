"""How long the events socket waits before its next attempt: pure; the randomness is passed in."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """1 s, 2, 4, … up to `cap_s`, each cut by up to `jitter` (a fraction) at random, so that
    several services restarting together do not knock on Asterisk in step; back to the start
    after a connection. A restarting Asterisk is found within seconds, one down for hours is
    asked every `cap_s`."""

    def __init__(
        self,
        first_s: float = 1.0,
        cap_s: float = 30.0,
        jitter: float = 0.2,
        *,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        if not 0 < first_s <= cap_s:
            raise ValueError("backoff needs 0 < first_s <= cap_s")
        if not 0 <= jitter < 1:
            raise ValueError("backoff needs 0 <= jitter < 1")
        self.first_s = first_s
        self.cap_s = cap_s
        self.jitter = jitter
        self._uniform = uniform
        self._base_s = first_s

    def next_delay(self) -> float:
        """An attempt failed (or a connection dropped): the wait before the next one."""
        base = self._base_s
        self._base_s = min(self.cap_s, self._base_s * 2)
        return base * (1 - self._uniform(0.0, self.jitter)) if self.jitter else base

    def reset(self) -> None:
        """Connected: a later drop is retried after `first_s` again."""
        self._base_s = self.first_s
