"""Which counts a report over a period is made from (#12): the raw calls the store still holds,
aggregated in the database, and for the days before them (pruned, R12) the daily totals."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from routing.config.schema import Config
from routing.policy.answer_measures import within_ring_limit_s
from routing.policy.ring_limit import ring_timeout_s
from routing.reports.accessibility import Report, build_report
from routing.store.base import Store
from routing.store.tally import Tally


class PeriodCounts(NamedTuple):
    tally: Tally
    daily_totals: tuple[date, date] | None  # the days counted from the daily totals, if any


def period_counts(store: Store, start: datetime, end: datetime, *, within_s: float, zone: ZoneInfo) -> PeriodCounts:
    """Days before the store's `raw_kept_from` come from the daily totals, as whole local days
    (a period that starts in the middle of one counts all of it); the rest from the raw calls."""
    kept_from = store.raw_kept_from()
    raw_from = datetime.combine(kept_from, datetime.min.time(), zone) if kept_from is not None else None
    if raw_from is None or start >= raw_from:
        return PeriodCounts(store.tally_between(start, end, within_s=within_s, zone=zone), None)
    assert kept_from is not None
    first = start.astimezone(zone).date()
    last = min(kept_from - timedelta(days=1), (end - timedelta(microseconds=1)).astimezone(zone).date())
    tally = store.daily_totals(first, last)
    if end > raw_from:
        tally.update(store.tally_between(raw_from, end, within_s=within_s, zone=zone))
    return PeriodCounts(tally, (first, last))


def report_for(config: Config, store: Store, start: datetime, end: datetime) -> Report:
    """`routing report`'s figures for [start, end) under `config`."""
    zone = ZoneInfo(config.timezone)
    within_s = within_ring_limit_s(ring_timeout_s(config.ring.max_rings, config.ring.ring_period_s))
    counts = period_counts(store, start, end, within_s=within_s, zone=zone)
    return build_report(config, start, end, counts.tally, store.callbacks(), daily_totals=counts.daily_totals)
