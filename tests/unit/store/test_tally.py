"""#12 items 5 and 6: the report's counts are added up in the database (one row per group, not
per call), and kept as daily totals when the calls are pruned; on SQLite and PostgreSQL.

The reference is the report's arithmetic done in Python over every stored row
(`calls_between`, `events_between`): the SQL must give exactly the same counts."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from routing.calllog.events import (
    CallPrivate,
    MobileForward,
    OutboundBlocked,
    PolicyViolation,
    PromptNotPlayed,
    SwitchboardAnswered,
    SwitchboardConnected,
    SwitchboardPutThrough,
    SwitchboardQueued,
    SwitchboardTransfer,
)
from routing.config import load_config
from routing.policy.answer_measures import answered_within_ring_limit
from routing.policy.steps import Outcome
from routing.policy.switchboard_queue import OPERATOR_DID_NOT_ANSWER
from routing.reports.period import period_counts, report_for
from routing.store import Store, open_store
from routing.store.base import SECONDS_COUNTED
from routing.store.tally import NOBODY, Measure, Tally, answer_key, who

ZONE = ZoneInfo("Europe/Stockholm")
EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "example.yaml"
LIMIT = 30.0
WITHIN = LIMIT + 1.0
# Five local days around the end of daylight-saving time (2026-10-25 has 25 hours in Stockholm).
DAY0 = date(2026, 10, 23)
DAYS = 5
TARGETS: list[tuple[str | None, str | None, str | None]] = [
    ("person", "soc1", "soc"),
    ("person", "soc2", "soc"),
    ("unit", "soc", "soc"),
    ("person", "kc1", "kc"),
    ("person", "gone", "old-unit"),  # not in the config
    (None, None, None),  # no target at all
]  # not in the config; no target at all
OUTCOMES = [o.value for o in Outcome]


def _fill(store: Store, seed: int, calls: int = 240) -> None:
    rnd = random.Random(seed)
    start = datetime.combine(DAY0, datetime.min.time(), ZONE)
    span = (datetime.combine(DAY0 + timedelta(days=DAYS), datetime.min.time(), ZONE) - start).total_seconds()
    for n in range(calls):
        at = (start + timedelta(seconds=rnd.uniform(0, span))).astimezone(UTC)
        stamp = at.isoformat()
        kind, target, unit = rnd.choice(TARGETS)
        cid = f"c{seed}-{n}"
        store.record_event(
            at=stamp,
            call_id=cid,
            event="call.start",
            fields={"called": "x", "target_kind": kind, "target": target, "unit": unit},
        )
        if rnd.random() < 0.1:
            continue  # no call.end: in progress, or lost before one
        outcome = rnd.choice(OUTCOMES)
        step = rnd.choice([None, "person", "unit", "cover"]) if outcome == "answered" else None
        if step:
            store.record_event(at=stamp, call_id=cid, event="call.answered", fields={"by": target, "step": step})
        # Waits to the millisecond, some exactly on a half second or on the limit.
        wait = None if rnd.random() < 0.1 else rnd.choice([round(rnd.uniform(0, 60), 3), 12.5, 13.5, WITHIN, 31.001])
        duration = None if rnd.random() < 0.05 else round(rnd.uniform(0, 200), 3)
        store.record_event(
            at=stamp, call_id=cid, event="call.end", fields={"outcome": outcome, "wait_s": wait, "duration_s": duration}
        )
        if rnd.random() < 0.2:
            store.record_event(
                at=stamp, call_id=cid, event="policy.violation", fields={"rule": rnd.choice(["R1", "R3"])}
            )
        if rnd.random() < 0.1:
            store.record_event(at=stamp, call_id=cid, event="prompt.not_played", fields={"status": "FAILED"})
        if rnd.random() < 0.1:  # a violation of a call the period does not hold: for everyone only
            store.record_event(at=stamp, call_id=f"elsewhere-{n}", event="policy.violation", fields={"rule": "R1"})
        if rnd.random() < 0.1:
            store.record_event(
                at=stamp, call_id=None, event="mobile.forward", fields={"person": rnd.choice(["soc1", "x"])}
            )
        if rnd.random() < 0.1:
            store.record_event(at=stamp, call_id=None, event="call.private", fields={"extension": "5002"})
        if rnd.random() < 0.1:
            blocked: dict[str, object] = rnd.choice(
                [
                    {"extension": "7001", "rule": "R18", "premium_rate": True},
                    {"extension": "7001", "rule": "R18", "premium_rate": False},
                    {"extension": "5001", "rule": "R18", "reason": "0900 is a premium-rate prefix"},  # older line
                ]
            )
            store.record_event(at=stamp, call_id=None, event="outbound.blocked", fields=blocked)
        if rnd.random() < 0.3:  # the switchboard's queue had the call (#13)
            _switchboard(store, rnd, stamp, cid if rnd.random() < 0.9 else f"elsewhere-{n}")


def _switchboard(store: Store, rnd: random.Random, stamp: str, cid: str) -> None:
    def event(name: str, **fields: object) -> None:
        store.record_event(at=stamp, call_id=cid, event=name, fields=fields)

    event("switchboard.queued", place="waiting", history=[])
    wait = rnd.choice([round(rnd.uniform(0, 40), 3), 7.5, 8.5])
    event("switchboard.answered", operator="eva", queue_wait_s=wait, place="waiting")
    for _ in range(rnd.choice([0, 1, 1, 2])):  # a recalled held call connects again
        event("switchboard.connected", operator="eva")
    if rnd.random() < 0.3:
        event("switchboard.answered", operator="eva", queue_wait_s=wait + 60, place="held", recalled=True)
    if rnd.random() < 0.5:
        event("switchboard.transfer", operator="eva", kind="person", target="soc1")
        why = rnd.choice(["no answer", "busy", "operator did not answer"])
        if rnd.random() < 0.5:
            event("switchboard.queued", place="returned", returned_from="Anna (5001)", why=why)
        event("switchboard.put_through", target="soc1", returns=rnd.choice([0, 1, 2]))


def _reference(store: Store, start: datetime, end: datetime) -> Tally:
    """The counts from every row, in Python: what the report did before #12."""
    tally = Tally()
    calls = {c.call_id: c for c in store.calls_between(start, end)}
    for call in calls.values():
        scope = who(call.unit, call.target_kind, call.target)
        outcome = call.outcome.value if call.outcome else ""
        tally.count(scope, Measure.ANSWER, answer_key(outcome, call.answered_step))
        if call.outcome is not None and call.outcome.is_r2_answer and call.wait_s is not None:
            tally.count(scope, Measure.WAIT, int(call.wait_s + 0.5))
            tally.count(scope, Measure.WITHIN, "", int(answered_within_ring_limit(call.outcome, call.wait_s, LIMIT)))
        if outcome in ("", "abandoned") and call.duration_s is not None:
            tally.count(scope, Measure.ABANDONED_AFTER, int(call.duration_s + 0.5))
        tally.count(NOBODY, Measure.HOUR, datetime.fromisoformat(call.started_at).astimezone(ZONE).hour)
    connected: dict[tuple[str, str, str], set[str]] = {}
    for stored in store.events_between(start, end):
        event = stored.event
        found = calls.get(str(stored.call_id))
        scope = who(found.unit, found.target_kind, found.target) if found else NOBODY
        if isinstance(event, PolicyViolation):
            tally.count(scope, Measure.VIOLATION, event.rule)
        elif isinstance(event, PromptNotPlayed):
            tally.count(scope, Measure.NOT_PLAYED)
        elif isinstance(event, MobileForward):
            tally.count(("", "person", event.person), Measure.MOBILE_FORWARD)
        elif isinstance(event, CallPrivate):
            tally.count(("", "extension", event.extension), Measure.PRIVATE)
        elif isinstance(event, OutboundBlocked) and event.premium_rate:
            tally.count(("", "extension", event.extension), Measure.PREMIUM_BLOCKED)
        elif isinstance(event, SwitchboardConnected):
            connected.setdefault(scope, set()).add(str(stored.call_id))
        elif isinstance(event, SwitchboardAnswered) and event.place == "waiting":
            tally.count(scope, Measure.SB_QUEUE_WAIT, int(event.queue_wait_s + 0.5))
        elif isinstance(event, SwitchboardTransfer):
            tally.count(scope, Measure.SB_TRANSFER)
        elif (
            isinstance(event, SwitchboardQueued) and event.place == "returned" and event.why != OPERATOR_DID_NOT_ANSWER
        ):
            tally.count(scope, Measure.SB_RECALL)
        elif isinstance(event, SwitchboardPutThrough) and event.returns > 0:
            tally.count(scope, Measure.SB_RECALL_PUT_THROUGH)
    for scope, call_ids in connected.items():
        tally.count(scope, Measure.SB_ANSWERED, "", len(call_ids))
    return Tally({key: n for key, n in tally.items() if n})  # without the zero counts


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), ZONE)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_database_adds_up_exactly_what_the_rows_hold(store_url: str, seed: int) -> None:
    store = open_store(store_url)
    _fill(store, seed)
    for start, end in [
        (_midnight(DAY0), _midnight(DAY0 + timedelta(days=DAYS))),
        (_midnight(DAY0) + timedelta(hours=30, minutes=7), _midnight(DAY0) + timedelta(hours=80)),
    ]:
        expected = _reference(store, start, end)
        assert len(expected) > 100 and {key.measure for key in expected} == set(Measure)
        assert store.tally_between(start, end, within_s=WITHIN, zone=ZONE) == expected


def test_sqlite_reads_a_big_period_in_its_index_order_with_the_same_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(f"sqlite:///{tmp_path}/routing.db")
    _fill(store, 3)
    start, end = _midnight(DAY0), _midnight(DAY0 + timedelta(days=DAYS))
    sorted_counts = store.tally_between(start, end, within_s=WITHIN, zone=ZONE)
    monkeypatch.setattr(type(store), "ORDERED_SCAN_FROM", 1)
    plan = store._read(
        f"EXPLAIN QUERY PLAN SELECT unit FROM calls {store.ordered_scan_hint} WHERE started_at >= ?"
        f" GROUP BY unit, target_kind, target, outcome, answered_step, {store._whole_seconds(f'({SECONDS_COUNTED})')}",
        ("x",),
    )
    assert not any("TEMP B-TREE" in str(row) for row in plan), plan  # no sort: the index's order
    assert store.tally_between(start, end, within_s=WITHIN, zone=ZONE) == sorted_counts


def test_r12_pruned_days_keep_their_figures_in_the_daily_totals(store_url: str) -> None:
    """The report over the five days is the same before and after the first three were rolled
    up and pruned, and says which days came from the totals."""
    config = load_config(EXAMPLE)
    store = open_store(store_url)
    _fill(store, 4)
    start, end = _midnight(DAY0), _midnight(DAY0 + timedelta(days=DAYS))
    before = report_for(config, store, start, end)
    keep_from = DAY0 + timedelta(days=3)
    rolled, deleted = store.roll_up_and_prune(keep_from, zone=ZONE, within_s=WITHIN)
    assert rolled == [DAY0, DAY0 + timedelta(days=1), DAY0 + timedelta(days=2)] and deleted > 0
    assert store.raw_kept_from() == keep_from
    assert store.calls_between(start, _midnight(keep_from)) == []
    after = report_for(config, store, start, end)
    assert after.rows == before.rows and after.calls_per_hour == before.calls_per_hour
    assert after.wait_histogram == before.wait_histogram
    assert after.daily_totals == (DAY0, keep_from - timedelta(days=1)) and before.daily_totals is None
    # A period inside the raw days does not touch the totals; one inside the pruned days only them.
    assert period_counts(store, _midnight(keep_from), end, within_s=WITHIN, zone=ZONE).daily_totals is None
    only_totals = period_counts(store, _midnight(DAY0), _midnight(DAY0 + timedelta(days=1)), within_s=WITHIN, zone=ZONE)
    assert only_totals.daily_totals == (DAY0, DAY0)
    assert only_totals.tally == _reference_of_day(store_url, DAY0)


def _reference_of_day(store_url: str, day: date) -> Tally:
    """The same calls again in a store of their own (the first was pruned), counted in Python."""
    del store_url
    import tempfile

    fresh = open_store(f"sqlite:///{tempfile.mkdtemp()}/again.db")
    _fill(fresh, 4)
    return _reference(fresh, _midnight(day), _midnight(day + timedelta(days=1)))


def test_a_roll_up_counts_each_call_once(store_url: str) -> None:
    store = open_store(store_url)
    _fill(store, 5)
    keep_from = DAY0 + timedelta(days=2)
    store.roll_up_and_prune(keep_from, zone=ZONE, within_s=WITHIN)
    totals = store.daily_totals(DAY0, DAY0 + timedelta(days=1))
    assert store.roll_up_and_prune(keep_from, zone=ZONE, within_s=WITHIN) == ([], 0)
    assert store.daily_totals(DAY0, DAY0 + timedelta(days=1)) == totals
    # A call recorded late for a day already rolled up (a lost call's end found after a restart)
    # is added to that day's totals when it is pruned, not counted twice.
    late = (_midnight(DAY0) + timedelta(hours=10)).astimezone(UTC).isoformat()
    store.record_event(at=late, call_id="late", event="call.start", fields={"target_kind": "person", "target": "kc1"})
    store.roll_up_and_prune(keep_from, zone=ZONE, within_s=WITHIN)
    again = store.daily_totals(DAY0, DAY0 + timedelta(days=1))
    assert sum(again.values()) == sum(totals.values()) + 2  # its call and its hour
    # Totals older than their own retention go.
    store.roll_up_and_prune(keep_from, zone=ZONE, within_s=WITHIN, totals_from=DAY0 + timedelta(days=1))
    assert store.daily_totals(DAY0, DAY0) == Tally()
    assert store.daily_totals(DAY0 + timedelta(days=1), DAY0 + timedelta(days=1))
