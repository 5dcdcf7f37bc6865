"""The store's leases and call takeover between instances sharing it (#17), on SQLite and on a
real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from routing.store import Store, open_store

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


def test_a_free_lease_is_taken_and_kept_by_its_holder_only(store: Store) -> None:
    assert store.hold_lease("active", "a", at=T0, for_s=3) == "a"
    assert store.hold_lease("active", "b", at=T0 + timedelta(seconds=2.9), for_s=3) == "a"
    assert store.hold_lease("active", "a", at=T0 + timedelta(seconds=2.95), for_s=3) == "a"  # renewed
    assert store.hold_lease("active", "b", at=T0 + timedelta(seconds=5.9), for_s=3) == "a"  # until 5.95


def test_a_lease_not_renewed_runs_out_and_another_takes_it(store: Store) -> None:
    store.hold_lease("active", "a", at=T0, for_s=3)
    assert store.hold_lease("active", "b", at=T0 + timedelta(seconds=3, microseconds=1), for_s=3) == "b"
    assert store.hold_lease("active", "a", at=T0 + timedelta(seconds=4), for_s=3) == "b"  # it stands by


def test_a_released_lease_is_free_at_once_and_only_its_holder_releases_it(store: Store) -> None:
    store.hold_lease("active", "a", at=T0, for_s=3)
    store.release_lease("active", "b")
    assert store.hold_lease("active", "b", at=T0, for_s=3) == "a"
    store.release_lease("active", "a")
    assert store.hold_lease("active", "b", at=T0, for_s=3) == "b"


def test_a_call_in_progress_is_taken_over_once_and_its_owner_known(store: Store) -> None:
    store.record_event(
        at=T0.isoformat(),
        call_id="c1",
        event="call.start",
        fields={
            "called": "5001",
            "caller": None,
            "hidden": True,
            "internal": False,
            "target_kind": "person",
            "target": "soc1",
            "unit": "soc",
            "hours": "open",
            "channel": "PJSIP/trunk-1",
            "instance": "a",
            "notes": None,
        },
    )
    assert store.call_owner("c1") == (True, "a")
    assert store.claim_call("c1", from_instance="a", to_instance="b")
    assert not store.claim_call("c1", from_instance="a", to_instance="c")  # it is b's already
    assert store.call_owner("c1") == (True, "b")
    assert store.call_owner("c2") == (False, None)  # not open
    assert [c.call_id for c in store.open_calls("b")] == ["c1"] and store.open_calls("a") == []
