"""Which of the instances sharing a store is the active one (#17).

Every instance routes the calls the dialplan asks it about. The work done for the site as a
whole is done by one at a time, the holder of the store's `active` lease: writing Asterisk's
AstDB fail-safe entries (two writers would each delete what they think is stale), the
follow-up round (R4 overdue callbacks, retention) and the switchboard's queue over ARI (two
connections to one ARI application would each get its events). The holder renews the lease
every `renew_s`; a killed holder's lease runs out after `lease_s`, and another instance takes
it within `renew_s` more, or at once when the holder was on the same host and its process is
gone. A holder that comes back stands by: the lease does not move back and forth.

A failover is one line each way in the log: `service.active` (this instance took the lease,
from whom) and `service.standing_by` (another holds it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

import structlog

from routing.calllog.events import LogId
from routing.store.base import Store, StoreError
from routing.store.io import store_io

log = structlog.get_logger("routing.service")

LEASE = "active"
# The switchboard's callers wait under a lease of their own (call_router.QUEUE_LEASE_S, 4 s, renewed
# every second): a standby that takes over within about 2.5 s renews theirs before they run out.
LEASE_S = 2.0
RENEW_S = 0.5


class ActiveLease:
    def __init__(
        self,
        store: Store,
        me: str,
        on_change: Callable[[bool], None],
        *,
        holder_gone: Callable[[str], bool] = lambda _holder: False,
        lease_s: float = LEASE_S,
        renew_s: float = RENEW_S,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`on_change(held)`: this instance became the active one, or stopped being it.
        `holder_gone(id)`: whether the instance holding the lease is known to be gone (a store
        read: run off the event loop)."""
        self._holder_gone = holder_gone
        self._store = store
        self._me = me
        self._on_change = on_change
        self._lease_s = lease_s
        self._renew_s = renew_s
        self._clock = clock
        self.held = False
        self.holder: str | None = None  # who holds it, as last read
        self._store_failing = False

    async def renew(self) -> bool:
        """One round: take or renew the lease; tell on_change when that changes anything."""
        now = self._clock()
        try:
            holder = await store_io(
                self._store, partial(self._store.hold_lease, LEASE, self._me, at=now, for_s=self._lease_s)
            )
            if holder != self._me and await asyncio.to_thread(self._holder_gone, holder):
                take = partial(self._store.take_lease, LEASE, self._me, from_holder=holder, at=now, for_s=self._lease_s)
                holder = await store_io(self._store, take)
        except StoreError as exc:
            # The store does not answer: nothing changes hands while it does not (an instance
            # alone, the usual site, goes on serving its switchboard); once per outage in the log.
            if not self._store_failing:
                log.error(exc.log_id, error=str(exc), what="the active lease is not renewed: kept as it is")
            self._store_failing = True
            return self.held
        self._store_failing = False
        before, self.holder = self.holder, holder
        held = holder == self._me
        if held and not self.held:
            log.warning(LogId.SERVICE_ACTIVE, instance=self._me, took_over_from=before)
        elif not held and (self.held or before != holder):
            log.warning(LogId.SERVICE_STANDING_BY, instance=self._me, active=holder)
        changed, self.held = held != self.held, held
        if changed:
            self._on_change(held)
        return held

    async def run(self) -> None:
        while True:
            try:
                await self.renew()
            except Exception as exc:  # the lease must outlive any one failure: a holder that
                # stopped renewing would still act as the active one after another took over
                log.exception(LogId.SERVICE_LEASE_FAILED, error=str(exc))
            await asyncio.sleep(self._renew_s)

    def release(self) -> None:
        """A clean stop: another instance takes over at its next round."""
        if not self.held:
            return
        try:
            self._store.release_lease(LEASE, self._me)
        except StoreError as exc:
            log.error(exc.log_id, error=str(exc), what="the active lease runs out by itself")
        self.held = False
