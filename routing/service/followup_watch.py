"""The service's follow-up round: open callbacks past their limit are reported once (R4), and
call records older than the retention are deleted (R12)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog

from routing.calllog.events import LogId, PolicyViolation, emit
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
    ) -> None:
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
            pruned = self._store.prune(now - timedelta(days=directory.config.store.retention_days))
            if pruned:
                log.info(LogId.STORE_PRUNED, events=pruned, retention_days=directory.config.store.retention_days)
        except StoreError as exc:
            log.error(exc.log_id, error=str(exc), what="follow-up round skipped")
            return []
        return reported

    async def run(self) -> None:
        while True:
            self.check()
            await asyncio.sleep(self._interval_s)
