"""R1: five ring signals, one every 6 s (1 s tone, 5 s pause)."""

from __future__ import annotations

import pytest

from routing.policy.ring_limit import ring_timeout_s, rings_heard


def test_r1_swedish_default_is_thirty_seconds() -> None:
    assert ring_timeout_s(5, 6) == 30


def test_r1_refuses_a_limit_of_nothing() -> None:
    with pytest.raises(ValueError):
        ring_timeout_s(0, 6)
    with pytest.raises(ValueError):
        ring_timeout_s(5, 0)


@pytest.mark.parametrize(
    ("waited", "rings"),
    [(0, 0), (0.1, 1), (0.5, 1), (6, 1), (6.2, 1), (6.3, 2), (29.9, 5), (30, 5), (30.2, 5), (30.3, 6)],
)
def test_r1_rings_heard(waited: float, rings: int) -> None:
    assert rings_heard(waited, 6) == rings
