"""Calls a killed service left open get their one call.end from a running one (#6).

A service killed mid-call (SIGKILL, a crash, a power cut) cannot log the end of the calls it was
routing; Asterisk's fail-safe finishes those calls alone (R3). Each service therefore keeps a
heartbeat in the store, and each call it routes is in the store's `open_calls` from call.start
to call.end. Every running service looks, every `interval_s`, for instances that are gone: on
this host a process that no longer exists, on any host one whose heartbeat is older than
`stale_after`. Once Asterisk no longer has a gone instance's call (the fail-safe is done with
it), one running service claims the call in the store and logs its call.end (`failsafe`,
`lost`), so the event log has exactly one call.end for it whichever instances run.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

import structlog

from routing.ami.client import AmiError
from routing.calllog.events import CallEnd, InstanceGone, emit
from routing.policy.steps import Outcome
from routing.service.call_router import FORGET_AFTER  # no call lasts longer: taken as over then
from routing.store.base import Instance, OpenCall, Store, StoreError
from routing.store.io import store_io

log = structlog.get_logger("routing.calls")

STALE_AFTER = timedelta(seconds=60)
INTERVAL_S = 5.0  # heartbeat and sweep


@dataclass(frozen=True)
class Me:
    id: str
    host: str
    pid: int

    @classmethod
    def new(cls) -> Me:
        return cls(uuid.uuid4().hex[:12], socket.gethostname(), os.getpid())


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def is_gone(
    instance: Instance,
    me: Me,
    now: datetime,
    *,
    pid_exists: Callable[[int], bool] = pid_exists,
    stale_after: timedelta = STALE_AFTER,
) -> bool:
    """Pure: whether `instance` no longer routes calls. On this host its process is asked;
    elsewhere (or when a restarted container gave the pid to another process) its heartbeat
    tells."""
    if instance.id == me.id:
        return False
    if instance.host == me.host and not pid_exists(instance.pid):
        return True
    return now - instance.seen_at > stale_after


def others_alive(
    instances: Iterable[Instance],
    me: Me,
    now: datetime,
    *,
    within: timedelta,
    pid_exists: Callable[[int], bool] = pid_exists,
) -> list[Instance]:
    """Pure: the other instances not gone (is_gone) by a heartbeat within `within`: those that
    can go on with this one's calls (#17)."""
    return [
        i for i in instances if i.id != me.id and not is_gone(i, me, now, pid_exists=pid_exists, stale_after=within)
    ]


def to_end(calls: Iterable[OpenCall], live_channels: set[str] | None, now: datetime) -> list[OpenCall]:
    """Pure: the gone instance's calls that are over. Asterisk's channel list tells; without it
    (no AMI) only a call older than FORGET_AFTER is taken as over."""
    if live_channels is None:
        return [call for call in calls if now - call.started_at > FORGET_AFTER]
    return [call for call in calls if call.channel not in live_channels]


class OrphanCalls:
    def __init__(
        self,
        store: Store,
        me: Me,
        live_channels: Callable[[], Awaitable[set[str]]] | None,
        *,
        interval_s: float = INTERVAL_S,
    ) -> None:
        """`live_channels()`: Asterisk's channel names now (AMI); None when there is no AMI."""
        self._store = store
        self.me = me
        self._live_channels_now = live_channels
        self._ami_missing = False
        self._interval_s = interval_s

    def beat(self) -> None:
        try:
            self._store.heartbeat(self.me.id, host=self.me.host, pid=self.me.pid, at=datetime.now(UTC))
        except StoreError as exc:
            log.error(exc.log_id, error=str(exc), what="heartbeat not written")

    def leave(self) -> None:
        """A clean stop: this instance's calls got their call.end already."""
        try:
            self._store.remove_instance(self.me.id)
        except StoreError as exc:
            log.error(exc.log_id, error=str(exc), what="instance not removed; others will find it gone")

    async def sweep(self) -> int:
        """End the calls gone instances left open and Asterisk has finished; returns how many."""
        now = datetime.now(UTC)
        try:
            known = {i.id: i for i in await store_io(self._store, self._store.instances)}
            # A call whose instance is not known at all: it stopped before its last calls
            # reached the store as ended.
            owners = await store_io(self._store, self._store.open_call_owners)
            unknown = [Instance(owner, "", 0, now) for owner in owners - set(known) - {self.me.id}]
            gone = [i for i in known.values() if is_gone(i, self.me, now)] + unknown
            if not gone:
                return 0
            live = await self._live_channels()
            ended = 0
            for instance in gone:
                calls = await store_io(self._store, partial(self._store.open_calls, instance.id))
                over = to_end(calls, live, now)
                for call in over:
                    claim = partial(
                        self._store.claim_call, call.call_id, from_instance=instance.id, to_instance=self.me.id
                    )
                    if await store_io(self._store, claim):
                        self._end(call, instance, now)
                        ended += 1
                if len(over) == len(calls):
                    await store_io(self._store, partial(self._store.remove_instance, instance.id))
                    emit(log, InstanceGone(instance=instance.id, host=instance.host, calls_ended=len(over)))
            return ended
        except StoreError as exc:
            log.error(exc.log_id, error=str(exc), what="calls of stopped instances not checked")
            return 0

    async def _live_channels(self) -> set[str] | None:
        if self._live_channels_now is None:
            return None
        try:
            live = await self._live_channels_now()
        except AmiError as exc:
            if not self._ami_missing:  # once per outage, not at every round
                log.warning(exc.log_id, error=str(exc), what="calls of stopped instances checked once AMI is back")
            self._ami_missing = True
            return None
        self._ami_missing = False
        return live

    def _end(self, call: OpenCall, instance: Instance, now: datetime) -> None:
        emit(
            log.bind(call_id=call.call_id),
            CallEnd(
                outcome=Outcome.FAILSAFE,
                wait_s=None,
                by=None,
                duration_s=round((now - call.started_at).total_seconds(), 3),
                lost=True,
                ended_for=instance.id,
            ),
        )

    async def run(self) -> None:
        while True:
            await store_io(self._store, self.beat)
            await self.sweep()
            await asyncio.sleep(self._interval_s)
