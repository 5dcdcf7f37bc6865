"""Call events kept in the store as they are logged; outside numbers hashed, never stored (R12)."""

from __future__ import annotations

import asyncio
import io
import json
import stat
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from routing.calllog import recorder as event_recorder
from routing.calllog.events import RecordedEvent
from routing.calllog.recorder import EventRecorder, hash_number
from routing.calllog.setup import configure_logging
from routing.policy.steps import Outcome
from routing.store import SqliteStore, open_store
from routing.store.base import StoreError


def test_r12_events_are_stored_with_hashed_numbers_and_logged_masked(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "routing.db")
    out = io.StringIO()
    configure_logging("json", stream=out, recorder=EventRecorder(store))
    log = structlog.get_logger().bind(call_id="c1")
    log.info(
        "call.start",
        called="5001",
        caller="0701234567",
        internal=False,
        target_kind="person",
        target="soc1",
        unit="soc",
        hours="open",
    )
    log.info("call.answered", by="soc2", step="cover", wait_s=34.0, rings=2)
    log.info("call.end", outcome="cover", wait_s=34.0, by="soc2", duration_s=94.0)
    structlog.get_logger().info("service.started")  # not a call event: not stored

    (call,) = store.calls_between(datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC) + timedelta(minutes=1))
    key = store.installation_key()
    assert call.caller_hash == hash_number(key, "0701234567") != "0701234567"
    assert (call.unit, call.outcome, call.answered_by, call.wait_s) == ("soc", Outcome.COVER, "soc2", 34.0)
    events = store.events_between(datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC) + timedelta(minutes=1))
    assert [e.event.NAME for e in events] == ["call.start", "call.answered", "call.end"]
    assert "0701234567" not in (tmp_path / "routing.db").read_bytes().decode("latin-1")
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert lines[0]["caller"] == "070*****67"  # the log line is masked as before
    assert stat.S_IMODE((tmp_path / "routing.db").stat().st_mode) == 0o600  # the key lives in it
    store.close()
    assert SqliteStore(tmp_path / "routing.db").installation_key() == key  # one key per installation


def test_events_recorded_alike_in_every_store(store_url: str) -> None:
    store = open_store(store_url)
    recorder = EventRecorder(store)
    recorder(None, "info", {"event": "call.start", "call_id": "c1", "caller": "0701234567", "unit": "soc"})
    recorder(None, "info", {"event": "call.end", "call_id": "c1", "outcome": "voicemail", "wait_s": 31.5})
    now = datetime.now(UTC)
    (call,) = store.calls_between(now - timedelta(minutes=1), now + timedelta(minutes=1))
    assert (call.unit, call.outcome, call.wait_s) == ("soc", Outcome.VOICEMAIL, 31.5)
    assert call.caller_hash == hash_number(store.installation_key(), "0701234567")


async def test_in_the_service_events_are_written_once_the_loop_is_free_in_one_transaction(tmp_path: Path) -> None:
    """A FastAGI answer is sent before the store is written: no call waits for the store."""
    store = SqliteStore(tmp_path / "routing.db")
    batches: list[int] = []
    write = store.record_events

    def counted(events: Sequence[RecordedEvent]) -> None:
        batches.append(len(events))
        write(events)

    store.record_events = counted  # type: ignore[method-assign]
    recorder = EventRecorder(store)
    configure_logging("json", stream=io.StringIO(), recorder=recorder)
    log = structlog.get_logger().bind(call_id="c1")
    log.info("call.start", called="5001", caller="0701234567")
    log.info("call.step", step="person", target="soc1")
    assert (recorder.pending, batches) == (2, [])  # nothing written while the request runs
    await asyncio.sleep(0)
    assert (recorder.pending, batches) == (0, [2])
    assert len(store.events_between(datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC))) == 2


class FlakyStore(SqliteStore):
    failing = True

    def record_events(self, events: Sequence[RecordedEvent]) -> None:
        if self.failing:
            raise StoreError("database is locked")
        super().record_events(events)


async def test_a_failing_store_keeps_events_and_writes_them_when_it_works_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_recorder, "RETRY_S", 0.02)
    store = FlakyStore(tmp_path / "routing.db")
    out = io.StringIO()
    recorder = EventRecorder(store)
    configure_logging("json", stream=out, recorder=recorder)
    for n in range(3):
        structlog.get_logger().bind(call_id=f"c{n}").info("call.start", called="5001")
        await asyncio.sleep(0.03)  # each failed retry and each new event: still one error line
    assert recorder.pending == 3
    store.failing = False
    await asyncio.sleep(0.1)
    assert recorder.pending == 0
    assert len(store.calls_between(datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC))) == 3
    events = [json.loads(line)["event"] for line in out.getvalue().splitlines()]
    assert events.count("store.error") == 1
    assert events.count("store.recovered") == 1


async def test_events_beyond_the_bound_are_dropped_oldest_first_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_recorder, "MAX_PENDING", 5)
    monkeypatch.setattr(event_recorder, "RETRY_S", 60)
    store = FlakyStore(tmp_path / "routing.db")
    recorder = EventRecorder(store)
    configure_logging("json", stream=io.StringIO(), recorder=recorder)
    for n in range(8):
        structlog.get_logger().bind(call_id=f"c{n}").info("call.start", called="5001")
    await asyncio.sleep(0)
    assert (recorder.pending, recorder.dropped) == (5, 3)
    store.failing = False
    assert recorder.flush()
    calls = store.calls_between(datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC))
    assert [c.call_id for c in calls] == ["c3", "c4", "c5", "c6", "c7"]


async def test_a_store_behind_a_round_trip_is_written_from_a_thread_in_order(postgresql_url: str) -> None:
    """#12 item 8: with PostgreSQL the event loop never waits for the server: batches are written
    in a worker thread, one at a time, so every call's call.end lands after its call.start."""
    import threading
    import uuid

    import psycopg

    name = "t_" + uuid.uuid4().hex[:16]
    with psycopg.connect(postgresql_url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    store = open_store(postgresql_url.rsplit("/", 1)[0] + "/" + name)
    assert store.io_off_loop
    threads: set[str] = set()
    write = store.record_events

    def noted(events: Sequence[RecordedEvent]) -> None:
        threads.add(threading.current_thread().name)
        write(events)

    store.record_events = noted  # type: ignore[method-assign]
    recorder = EventRecorder(store)
    configure_logging("json", stream=io.StringIO(), recorder=recorder)
    for n in range(200):
        log = structlog.get_logger().bind(call_id=f"c{n}")
        log.info("call.start", called="5001", caller="0701234567", target_kind="unit", target="soc")
        if n % 7 == 0:
            await asyncio.sleep(0)  # the loop is free now and then, as between calls
        log.info("call.end", outcome="voicemail", wait_s=1.0, duration_s=2.0)
    for _ in range(500):
        if recorder.pending == 0 and not recorder._writing:
            break
        await asyncio.sleep(0.01)
    assert threading.main_thread().name not in threads and threads
    calls = store.calls_between(datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC) + timedelta(seconds=1))
    assert len(calls) == 200 and {c.outcome for c in calls} == {Outcome.VOICEMAIL}
