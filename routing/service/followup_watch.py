"""The service's follow-up round: open callbacks past their limit are reported once (R4), and
call records older than the retention are deleted (R12), their figures kept as daily totals."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog

from routing.calllog.events import LogId, PolicyViolation, emit
from routing.policy.answer_measures import within_ring_limit_s
from routing.policy.directory import Directory
from routing.policy.followup import OpenCallback, Overdue, overdue_callbacks
from routing.store.base import Store, StoreError

log = structlog.get_logger("routing.followup")


class FollowUpWatch:
    def __init__(
        self,
        directory: Callable[[], Directory],
        store: Store,
        clock: Callable[[], datetime],
        interval_s: float = 60.0,
        active: Callable[[], bool] = lambda: True,
    ) -> None:
        """`active()`: whether this instance runs the round (the active one of those sharing the
        store, #17); the others skip it."""
        self._active = active
        self._directory = directory
        self._store = store
        self._clock = clock
        self._interval_s = interval_s

    def check(self) -> list[Overdue]:
        """Report every open callback that has just become overdue; returns them."""
        now = self._clock()
        directory = self._directory()
        try:
            candidates = [
                OpenCallback(c.id, c.target, c.requested_at)
                for c in self._store.callbacks(only_open=True)
                if c.overdue_at is None
            ]
            reported = []
            for overdue in overdue_callbacks(directory, candidates, now):
                if self._store.mark_overdue(overdue.id, at=now):
                    detail = (
                        f"callback {overdue.id} for {overdue.target} open {overdue.working_hours_open:g} "
                        f"working hours (limit {directory.config.follow_up.callback_within:g})"
                    )
                    emit(log, PolicyViolation(rule="R4", detail=detail, callback_id=overdue.id, target=overdue.target))
                    reported.append(overdue)
            self._retain(directory, now)
        except StoreError as exc:
            log.error(exc.log_id, error=str(exc), what="follow-up round skipped")
            return []
        return reported

    def _retain(self, directory: Directory, now: datetime) -> None:
        """R12: calls older than the retention go, their figures into the daily totals (#12),
        which are kept for totals_retention_days."""
        kept = directory.config.store
        zone = directory.calendar.zone
        local = now.astimezone(zone)
        rolled, pruned = self._store.roll_up_and_prune(
            (local - timedelta(days=kept.retention_days)).date(),
            zone=zone,
            within_s=within_ring_limit_s(directory.ring_timeout_s),
            totals_from=(local - timedelta(days=kept.totals_retention_days)).date(),
        )
        if rolled:
            log.info(LogId.STORE_ROLLED_UP, days=len(rolled), first=rolled[0].isoformat(), last=rolled[-1].isoformat())
        if pruned:
            log.info(LogId.STORE_PRUNED, events=pruned, retention_days=kept.retention_days)

    async def run(self) -> None:
        while True:
            # In a thread: with a PostgreSQL store every query is a round trip, and a day's roll-up
            # takes a while at a municipality's size; no call waits on the event loop for it (#12).
            if self._active():
                await asyncio.to_thread(self.check)
            await asyncio.sleep(self._interval_s)
