"""The SQLite store: durable referrals and callbacks, file mode 0600 (R12)."""

from __future__ import annotations

import stat
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from routing.policy.referral import Reason, Referral
from routing.store import SqliteStore, StoreError, open_store
from tests.unit.policy.builders import at

NOW = at("2026-12-01 10:15")


def test_r12_store_file_is_private(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/sub/routing.db")
    assert stat.S_IMODE((tmp_path / "sub" / "routing.db").stat().st_mode) == 0o600
    store.close()


def test_r11_referrals_survive_reopening(store_url: str) -> None:
    store = open_store(store_url)
    store.set_referral(Referral("soc1", Reason.MEETING, at("2026-12-01 13:00")), at=NOW, by="phone:5001")
    store.set_referral(Referral("soc2", Reason.VACATION, date(2026, 12, 7)), at=NOW, by="cli")
    store.set_referral(Referral("kc1", Reason.SICK), at=NOW, by="cli")
    store.close()
    again = open_store(store_url)
    assert sorted(again.referrals(), key=lambda r: r.person) == [
        Referral("kc1", Reason.SICK),
        Referral("soc1", Reason.MEETING, at("2026-12-01 13:00")),
        Referral("soc2", Reason.VACATION, date(2026, 12, 7)),
    ]
    state = again.snapshot()
    assert state.referral("soc1", NOW) is not None and state.referral("soc1", at("2026-12-01 13:00")) is None
    assert again.clear_referral("soc1") and not again.clear_referral("soc1")
    assert {r.person for r in again.referrals()} == {"kc1", "soc2"}


def test_a_new_referral_replaces_the_old(store_url: str) -> None:
    store = open_store(store_url)
    store.set_referral(Referral("soc1", Reason.LUNCH), at=NOW, by="cli")
    store.set_referral(Referral("soc1", Reason.COURSE), at=NOW, by="cli")
    assert store.referrals() == [Referral("soc1", Reason.COURSE)]


def test_r4_callbacks_open_attempt_done(store_url: str) -> None:
    store = open_store(store_url)
    first = store.add_callback(call_id="1.1", caller="+46701234567", target="soc1", at=NOW)
    second = store.add_callback(call_id="1.2", caller="0812345678", target="soc", at=NOW)
    assert [c.id for c in store.callbacks(only_open=True)] == [first, second]
    store.record_attempt(first, at=NOW, outcome="no_answer")
    assert store.mark_done(first, at=NOW, by="5001")
    assert not store.mark_done(first, at=NOW, by="5001")  # once
    done = store.callback(first)
    assert done is not None and done.status == "done" and done.attempts == 1 and done.done_by == "5001"
    assert done.caller == "+46701234567"  # the full number is kept here, and only here
    assert [c.id for c in store.callbacks(only_open=True)] == [second]
    assert store.callback(999) is None


def test_unsupported_store_url() -> None:
    with pytest.raises(StoreError, match="sqlite:///PATH or postgresql://"):
        open_store("mysql://db/routing")


def test_unreachable_postgresql_is_a_store_error_without_the_password() -> None:
    with pytest.raises(StoreError) as error:
        open_store("postgresql://routing:hemligt@127.0.0.1:1/routing")
    assert "hemligt" not in str(error.value)


def test_two_instances_share_one_store(store_url: str) -> None:
    first, second = open_store(store_url), open_store(store_url)
    first.set_referral(Referral("soc1", Reason.LUNCH), at=NOW, by="instance-1")
    assert second.referrals() == [Referral("soc1", Reason.LUNCH)]  # the next call on any instance
    callback_id = second.add_callback(call_id="1.1", caller="0701234567", target="soc1", at=NOW)
    assert first.mark_done(callback_id, at=NOW, by="5001") and not second.mark_done(callback_id, at=NOW, by="x")
    assert first.installation_key() == second.installation_key()


def test_unwritable_store_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot open the store"):
        SqliteStore(blocker / "routing.db")


def test_r4_overdue_is_recorded_once(store_url: str) -> None:
    store = open_store(store_url)
    callback_id = store.add_callback(call_id="1.1", caller="0701234567", target="soc1", at=NOW)
    assert store.mark_overdue(callback_id, at=NOW)
    assert not store.mark_overdue(callback_id, at=NOW)
    found = store.callback(callback_id)
    assert found is not None and found.overdue_at == NOW


def test_one_store_used_from_many_threads_at_once_keeps_every_write(store_url: str) -> None:
    """#12: the service reads and writes the store from worker threads and the event loop at
    once; the store's lock keeps each transaction whole, on both backends."""
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime

    store = open_store(store_url)
    now = datetime.now(UTC)

    def book(n: int) -> int:
        store.set_referral(Referral(f"p{n % 5}", Reason.MEETING), at=now, by="test")
        ids = store.add_callback(call_id=f"c{n}", caller="0701234567", target="soc1", at=now)
        store.snapshot()
        return ids

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(book, range(80)))
    assert len(set(ids)) == 80 and len(store.callbacks()) == 80
    assert sorted(r.person for r in store.referrals()) == ["p0", "p1", "p2", "p3", "p4"]
    store.close()


def test_a_postgresql_store_without_its_driver_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """#17 item 4: not a ModuleNotFoundError traceback, a StoreError naming the package."""
    import builtins

    real_import = builtins.__import__

    def no_psycopg(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "psycopg" or name.startswith("psycopg."):
            raise ModuleNotFoundError("No module named 'psycopg'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    with pytest.raises(StoreError) as refused:
        open_store("postgresql://routing:secret@db.example/routing")
    message = str(refused.value)
    assert ".[postgresql]" in message and "psycopg[binary]" in message and "secret" not in message


def test_config_versions_and_a_calls_events_on_each_store(store_url: str) -> None:
    """#16: a config's text kept once by its hash (the first load's time stays), and one call's
    events read back in order, typed, on SQLite and PostgreSQL."""
    store = open_store(store_url)
    try:
        assert store.save_config_version("abc", "version: 1\n", at=at("2026-12-01 08:00")) is True
        assert store.save_config_version("abc", "changed?\n", at=at("2026-12-02 08:00")) is False
        assert store.config_version("abc") == "version: 1\n" and store.config_version("nope") is None
        logged: list[tuple[str, dict[str, object]]] = [
            ("call.start", {"called": "5001", "target_kind": "person", "target": "soc1", "inputs": {"at": "x"}}),
            ("call.step", {"step": "person", "target": "soc1", "rules": ["R1"]}),
            ("call.end", {"outcome": "voicemail", "wait_s": 31.0, "duration_s": 40.0}),
        ]
        for n, (event, fields) in enumerate(logged):
            store.record_event(at=f"2026-12-01T08:00:0{n}+00:00", call_id="c1", event=event, fields=fields)
        store.record_event(at="2026-12-01T08:00:05+00:00", call_id="c2", event="call.start", fields={"called": "1"})
        events = store.call_events("c1")
        assert [e.event.NAME for e in events] == ["call.start", "call.step", "call.end"]
        assert events[0].event.inputs == {"at": "x"}  # type: ignore[attr-defined]
        assert store.call_events("none") == []
    finally:
        store.close()
