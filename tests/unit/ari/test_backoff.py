from __future__ import annotations

import pytest

from routing.ari.backoff import Backoff


def test_doubles_from_one_second_to_thirty_without_jitter() -> None:
    backoff = Backoff(jitter=0)
    assert [backoff.next_delay() for _ in range(8)] == [1, 2, 4, 8, 16, 30, 30, 30]


def test_a_connection_starts_it_again() -> None:
    backoff = Backoff(jitter=0)
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 1


def test_jitter_only_ever_shortens_by_at_most_its_fraction() -> None:
    most = Backoff(jitter=0.2, uniform=lambda low, high: high)
    assert [round(most.next_delay(), 6) for _ in range(7)] == [0.8, 1.6, 3.2, 6.4, 12.8, 24.0, 24.0]
    least = Backoff(jitter=0.2, uniform=lambda low, high: low)
    assert [least.next_delay() for _ in range(3)] == [1, 2, 4]


def test_real_jitter_stays_within_bounds() -> None:
    backoff = Backoff()
    for base in (1, 2, 4, 8, 16, 30, 30):
        assert 0.8 * base <= backoff.next_delay() <= base


@pytest.mark.parametrize(("first", "cap", "jitter"), [(0, 30, 0.2), (5, 1, 0.2), (1, 30, 1.0), (1, 30, -0.1)])
def test_nonsense_is_refused(first: float, cap: float, jitter: float) -> None:
    with pytest.raises(ValueError):
        Backoff(first, cap, jitter)
