"""One active instance among those sharing a store (#17): the lease, its takeover, the log's
one line each way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from structlog.testing import capture_logs

from routing.service.active_lease import ActiveLease
from routing.store.base import StoreError
from routing.store.sqlite import SqliteStore


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_the_standby_takes_over_when_the_active_instance_stops_renewing(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "routing.db")
    clock = Clock()
    changes: list[tuple[str, bool]] = []
    a = ActiveLease(store, "a", lambda held: changes.append(("a", held)), clock=clock)
    b = ActiveLease(store, "b", lambda held: changes.append(("b", held)), clock=clock)
    with capture_logs() as logs:
        assert await a.renew() and not await b.renew()
        for _ in range(5):  # a renews every second; b stands by
            clock.now += timedelta(seconds=1)
            assert await a.renew() and not await b.renew()
        clock.now += timedelta(seconds=3.5)  # a was killed: its lease runs out
        assert await b.renew()
        assert not await a.renew()  # a back: it stands by, the lease does not move back
    assert changes == [("a", True), ("b", True), ("a", False)]
    assert [(e["event"], e["instance"], e.get("took_over_from"), e.get("active")) for e in logs] == [
        ("service.active", "a", None, None),
        ("service.standing_by", "b", None, "a"),
        ("service.active", "b", "a", None),
        ("service.standing_by", "a", None, "b"),
    ]


async def test_a_clean_stop_hands_over_at_the_next_round(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "routing.db")
    clock = Clock()
    a = ActiveLease(store, "a", lambda held: None, clock=clock)
    b = ActiveLease(store, "b", lambda held: None, clock=clock)
    with capture_logs():
        assert await a.renew() and not await b.renew()
        a.release()
        assert not a.held and await b.renew()


async def test_a_holder_known_to_be_gone_is_taken_over_before_its_lease_runs_out(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "routing.db")
    clock = Clock()
    gone: set[str] = set()
    a = ActiveLease(store, "a", lambda held: None, clock=clock, holder_gone=gone.__contains__)
    b = ActiveLease(store, "b", lambda held: None, clock=clock, holder_gone=gone.__contains__)
    with capture_logs():
        assert await a.renew() and not await b.renew()
        gone.add("a")  # its process no longer exists (same host)
        clock.now += timedelta(seconds=0.5)
        assert await b.renew()


class FlakyStore(SqliteStore):
    failing = False

    def hold_lease(self, name: str, holder: str, *, at: datetime, for_s: float) -> str:
        if self.failing:
            raise StoreError("store down")
        return super().hold_lease(name, holder, at=at, for_s=for_s)


async def test_while_the_store_does_not_answer_nothing_changes_hands_and_it_is_said_once(tmp_path: Path) -> None:
    """An instance alone (the usual site) goes on serving through a store outage; once the store
    answers again, the lease is renewed as before."""
    store = FlakyStore(tmp_path / "routing.db")
    clock = Clock()
    changes: list[bool] = []
    a = ActiveLease(store, "a", changes.append, clock=clock)
    with capture_logs() as logs:
        assert await a.renew()
        store.failing = True
        for _ in range(10):
            clock.now += timedelta(seconds=0.5)
            assert await a.renew()
        store.failing = False
        clock.now += timedelta(seconds=0.5)
        assert await a.renew()
    assert changes == [True]
    assert [e["event"] for e in logs] == ["service.active", "store.error"]
