"""#6: a call whose service was killed mid-call gets exactly one call.end, from a running one."""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from structlog.testing import capture_logs

from routing.ami.client import AmiError
from routing.calllog.events import CallEnd
from routing.calllog.recorder import EventRecorder
from routing.calllog.setup import configure_logging
from routing.policy.steps import Outcome
from routing.service.call_router import FORGET_AFTER
from routing.service.orphan_calls import STALE_AFTER, Me, OrphanCalls, is_gone, others_alive, to_end
from routing.store import open_store
from routing.store.base import Instance, OpenCall

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ME = Me("me", "pbx1", 100)


def _alive(*pids: int) -> Callable[[int], bool]:
    return lambda pid: pid in pids


def test_the_others_that_can_go_on_with_a_stopping_instances_calls_beat_lately_and_run() -> None:
    """#17: a stopping service hands its calls over only to an instance that is there."""
    instances = [
        Instance("me", "pbx1", 100, NOW),
        Instance("standby", "pbx2", 5, NOW - timedelta(seconds=4)),
        Instance("silent", "pbx2", 6, NOW - timedelta(seconds=16)),
        Instance("here", "pbx1", 7, NOW),
        Instance("dead-here", "pbx1", 8, NOW),
    ]
    alive = others_alive(instances, ME, NOW, within=timedelta(seconds=15), pid_exists=_alive(100, 7))
    assert [i.id for i in alive] == ["standby", "here"]


def test_an_instance_is_never_gone_to_itself() -> None:
    assert not is_gone(Instance("me", "pbx1", 100, NOW - timedelta(days=1)), ME, NOW, pid_exists=_alive())


def test_on_this_host_a_process_that_no_longer_exists_is_gone_at_once() -> None:
    other = Instance("old", "pbx1", 7, NOW)
    assert is_gone(other, ME, NOW, pid_exists=_alive(100))
    assert not is_gone(other, ME, NOW, pid_exists=_alive(7, 100))


@pytest.mark.parametrize(
    ("silent_for", "gone"),
    [
        (STALE_AFTER - timedelta(milliseconds=1), False),
        (STALE_AFTER, False),
        (STALE_AFTER + timedelta(seconds=1), True),
    ],
)
def test_elsewhere_only_the_heartbeat_tells(silent_for: timedelta, gone: bool) -> None:
    other = Instance("b", "pbx2", 7, NOW - silent_for)
    assert is_gone(other, ME, NOW, pid_exists=_alive()) is gone


def test_a_live_process_with_a_stale_heartbeat_is_gone_too() -> None:
    # A restarted container may have handed the old service's pid to another process.
    assert is_gone(Instance("old", "pbx1", 7, NOW - timedelta(minutes=5)), ME, NOW, pid_exists=_alive(7))


def test_calls_asterisk_still_has_are_left_to_its_fail_safe() -> None:
    calls = [OpenCall("c1", "old", "Local/a;1", NOW), OpenCall("c2", "old", "Local/b;1", NOW)]
    assert to_end(calls, {"Local/a;1"}, NOW) == [calls[1]]


def test_without_ami_only_calls_older_than_any_call_are_ended() -> None:
    young = OpenCall("c1", "old", "Local/a;1", NOW - FORGET_AFTER)
    old = OpenCall("c2", "old", "Local/b;1", NOW - FORGET_AFTER - timedelta(seconds=1))
    assert to_end([young, old], None, NOW) == [old]


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _record_start(recorder: EventRecorder, call_id: str, instance: str, channel: str) -> None:
    recorder(None, "info", {"event": "call.start", "call_id": call_id, "instance": instance, "channel": channel})
    recorder.flush()


def _channels(live: set[str]) -> Callable[[], Awaitable[set[str]]]:
    async def now() -> set[str]:
        return set(live)

    return now


def _ends(out: io.StringIO) -> list[str]:
    return [line["call_id"] for line in map(json.loads, out.getvalue().splitlines()) if line["event"] == "call.end"]


async def test_a_killed_instances_calls_each_get_one_call_end_once_asterisk_is_done_with_them(
    store_url: str,
) -> None:
    store = open_store(store_url)
    out = io.StringIO()
    recorder = EventRecorder(store)
    configure_logging("json", stream=out, recorder=recorder)
    killed = Me("killed", ME.host, _dead_pid())
    store.heartbeat(killed.id, host=killed.host, pid=killed.pid, at=datetime.now(UTC))
    _record_start(recorder, "c1", killed.id, "Local/a;1")
    _record_start(recorder, "c2", killed.id, "Local/b;1")
    live = {"Local/a;1"}  # c1 is still in the fail-safe's voicemail
    # Two running services look at once: each call is ended by exactly one of them.
    first = OrphanCalls(store, Me("one", ME.host, os.getpid()), _channels(live))
    second = OrphanCalls(store, Me("two", ME.host, os.getpid()), _channels(live))
    first.beat()
    second.beat()
    assert await first.sweep() + await second.sweep() == 1
    recorder.flush()
    assert _ends(out) == ["c2"]
    assert [i.id for i in store.instances()] == ["killed", "one", "two"]  # c1 is still open

    live.clear()  # the caller of c1 hung up
    assert await second.sweep() + await first.sweep() == 1
    recorder.flush()
    assert _ends(out) == ["c2", "c1"]
    assert [i.id for i in store.instances()] == ["one", "two"] and store.open_call_owners() == set()
    events = store.events_between(datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC), CallEnd)
    assert sorted(str(e.call_id) for e in events) == ["c1", "c2"]
    ends = [e.event for e in events if isinstance(e.event, CallEnd)]
    assert [(e.outcome, e.lost, e.ended_for) for e in ends] == [(Outcome.FAILSAFE, True, "killed")] * 2


async def test_calls_of_an_instance_that_stopped_before_they_were_stored_as_ended(store_url: str) -> None:
    store = open_store(store_url)
    out = io.StringIO()
    recorder = EventRecorder(store)
    configure_logging("json", stream=out, recorder=recorder)
    _record_start(recorder, "c9", "never-registered", "Local/z;1")
    assert await OrphanCalls(store, ME, _channels(set())).sweep() == 1
    assert _ends(out) == ["c9"]


async def test_a_running_instances_calls_and_our_own_are_left_alone(store_url: str) -> None:
    store = open_store(store_url)
    recorder = EventRecorder(store)
    configure_logging("json", stream=io.StringIO(), recorder=recorder)
    me = OrphanCalls(store, Me("me", ME.host, os.getpid()), _channels(set()))
    me.beat()
    store.heartbeat("peer", host="pbx2", pid=1, at=datetime.now(UTC))
    _record_start(recorder, "mine", "me", "Local/a;1")
    _record_start(recorder, "theirs", "peer", "Local/b;1")
    assert await me.sweep() == 0
    assert store.open_call_owners() == {"me", "peer"}
    me.leave()
    assert [i.id for i in store.instances()] == ["peer"]


async def test_without_ami_a_gone_instances_recent_calls_wait(store_url: str) -> None:
    store = open_store(store_url)
    recorder = EventRecorder(store)
    configure_logging("json", stream=io.StringIO(), recorder=recorder)
    store.heartbeat("old", host=ME.host, pid=_dead_pid(), at=datetime.now(UTC))
    _record_start(recorder, "c1", "old", "Local/a;1")

    async def unreachable() -> set[str]:
        raise AmiError("AMI action CoreShowChannels timed out after 5 s")

    assert await OrphanCalls(store, ME, None).sweep() == 0
    sweeper = OrphanCalls(store, ME, unreachable)
    with capture_logs() as logs:
        for _ in range(3):
            assert await sweeper.sweep() == 0
    assert [entry["event"] for entry in logs] == ["ami.action_failed"]  # once, not at every round
    assert store.open_call_owners() == {"old"}
