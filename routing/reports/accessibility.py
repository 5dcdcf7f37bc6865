"""`routing report`: what telephone officers and auditors ask of accessibility (R19, R20).

Pure, over the counts the store added up for a period (routing/store/tally.py: the raw
calls, aggregated in the database, and the daily totals of days already pruned) and its
callbacks; the renderers (table, csv, json) only format. Waits and the time before hanging up
are counted to the nearest second, so their medians and p90 are too. Per unit and per person:
calls; answered personally; R2 answer within the ring limit (%); outcomes by R2 category;
abandoned (and after how long, median); policy violations by rule; wait median and p90;
callbacks opened, done, overdue, median time to callback; mobile forwards (R14, R20);
private calls (R17); blocked premium-rate attempts (R18); messages Asterisk could not play;
the switchboard's queue (#13): calls an operator answered, queue wait p50/p90, transfers,
återfall and how many of those were then answered elsewhere.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from routing.config.schema import Config
from routing.policy.answer_measures import answered_personally
from routing.policy.directory import Directory
from routing.policy.steps import Outcome
from routing.store.base import Callback
from routing.store.tally import Measure, Tally, TallyKey, split_answer_key

OUTCOMES = tuple(outcome.value for outcome in Outcome)


@dataclass
class Row:
    """One line of the report: a unit, a person, or the whole municipality."""

    kind: str  # all | unit | person
    id: str
    name: str
    calls: int = 0
    answered_personally: int = 0
    r2_within_limit: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    abandoned_after_median_s: float | None = None
    violations: dict[str, int] = field(default_factory=dict)
    wait_median_s: float | None = None
    wait_p90_s: float | None = None
    callbacks_opened: int = 0
    callbacks_done: int = 0
    callbacks_overdue: int = 0
    callback_median_h: float | None = None
    mobile_forwards: int = 0
    private_calls: int = 0
    premium_blocked: int = 0
    not_played: int = 0  # messages Asterisk could not play: callers were not told (R9, R11, R4)
    # The switchboard's queue (#13 item 10): calls an operator talked to, the wait in the queue
    # before an operator first took a call, calls put through, återfall (back from a transfer
    # nobody answered), and calls put through and answered after an återfall.
    sb_answered: int = 0
    sb_queue_wait_median_s: float | None = None
    sb_queue_wait_p90_s: float | None = None
    sb_transfers: int = 0
    sb_recalls: int = 0
    sb_recalls_put_through: int = 0

    @property
    def within_limit_pct(self) -> float | None:
        return round(100.0 * self.r2_within_limit / self.calls, 1) if self.calls else None


WAIT_BUCKETS = ((0, 10, "0–10 s"), (10, 20, "10–20 s"), (20, 30, "20–30 s"), (30, 60, "30–60 s"), (60, None, "60 s+"))
AGE_BUCKETS = ((0, 1, "< 1 h"), (1, 4, "1–4 h"), (4, 24, "4–24 h"), (24, None, "> 1 day"))


@dataclass
class Report:
    start: datetime
    end: datetime
    ring_limit_s: float
    rows: list[Row]
    calls_per_hour: list[int] = field(default_factory=lambda: [0] * 24)  # local hour of day
    wait_histogram: dict[str, int] = field(default_factory=dict)  # R2 waits by bucket
    open_callbacks_by_age: dict[str, int] = field(default_factory=dict)  # at the end of the period
    # The first and last day whose figures come from the daily totals (their calls were pruned).
    daily_totals: tuple[date, date] | None = None

    def as_dict(self) -> dict[str, Any]:
        rows = []
        for row in self.rows:
            item = asdict(row)
            item["within_limit_pct"] = row.within_limit_pct
            rows.append(item)
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "ring_limit_s": self.ring_limit_s,
            "rows": rows,
            "calls_per_hour": self.calls_per_hour,
            "wait_histogram": self.wait_histogram,
            "open_callbacks_by_age": self.open_callbacks_by_age,
            "daily_totals": (
                {"from": self.daily_totals[0].isoformat(), "to": self.daily_totals[1].isoformat()}
                if self.daily_totals
                else None
            ),
        }


def _percentile(histogram: Mapping[float, int], q: float) -> float | None:
    """statistics.median (q = 0.5, the middle two averaged) or the p90 index rule of the row
    lists this report used before (#12), over a histogram {value: how many}."""
    total = sum(histogram.values())
    if not total:
        return None
    ordered = sorted(histogram.items())

    def nth(index: int) -> float:
        seen = 0
        for value, n in ordered:
            seen += n
            if index < seen:
                return value
        return ordered[-1][0]

    if q == 0.5:
        middle = total // 2
        value = nth(middle) if total % 2 else (nth(middle - 1) + nth(middle)) / 2
    else:
        value = nth(min(total - 1, int(q * total)))
    return round(float(value), 3)


def build_report(
    config: Config,
    start: datetime,
    end: datetime,
    tally: Tally,
    callbacks: Iterable[Callback],
    *,
    daily_totals: tuple[date, date] | None = None,
) -> Report:
    """The report from the store's tally of the period (its raw calls, and the daily totals of
    days whose calls were pruned: `daily_totals`, first and last day) and its callbacks."""
    directory = Directory.from_config(config)
    limit = directory.ring_timeout_s
    people = directory.people
    by_extension = directory.by_extension
    rows: dict[tuple[str, str], Row] = {("all", ""): Row("all", "", "the municipality")}
    for unit in config.units:
        rows[("unit", unit.id)] = Row("unit", unit.id, unit.name)
    for person in config.people:
        rows[("person", person.id)] = Row("person", person.id, person.name)

    def rows_for(unit: str | None, person: str | None) -> list[Row]:
        found = [rows[("all", "")]]
        if unit and ("unit", unit) in rows:
            found.append(rows[("unit", unit)])
        if person and ("person", person) in rows:
            found.append(rows[("person", person)])
        return found

    def rows_of(key: TallyKey) -> list[Row]:
        """The rows a count belongs to: the call's unit and person called, or the person or
        extension an event names (its unit from today's config)."""
        if key.target_kind == "extension":
            caller = by_extension.get(key.target)
            return rows_for(caller.unit if caller else None, caller.id if caller else None)
        if key.target_kind == "person" and not key.unit:
            person_cfg = people.get(key.target)
            return rows_for(person_cfg.unit if person_cfg else None, key.target)
        return rows_for(key.unit or None, key.target if key.target_kind == "person" else None)

    report = Report(start, end, limit, list(rows.values()), daily_totals=daily_totals)
    waits: dict[int, Counter[float]] = {}
    abandoned_after: dict[int, Counter[float]] = {}
    queue_waits: dict[int, Counter[float]] = {}
    report.wait_histogram = {label: 0 for _, _, label in WAIT_BUCKETS}
    for key, n in tally.items():
        measure = key.measure
        if measure is Measure.HOUR:
            report.calls_per_hour[int(key.key)] += n
            continue
        for row in rows_of(key):
            if measure is Measure.ANSWER:
                outcome_text, step = split_answer_key(key.key)
                # A call without its call.end (in progress, or its end was never stored) got no answer we know of.
                outcome = Outcome(outcome_text) if outcome_text else Outcome.ABANDONED
                row.calls += n
                row.outcomes[outcome.value] += n
                if answered_personally(outcome, step or None):
                    row.answered_personally += n
            elif measure is Measure.WITHIN:
                row.r2_within_limit += n
            elif measure is Measure.WAIT:
                waits.setdefault(id(row), Counter())[float(key.key)] += n
            elif measure is Measure.ABANDONED_AFTER:
                abandoned_after.setdefault(id(row), Counter())[float(key.key)] += n
            elif measure is Measure.VIOLATION:
                row.violations[key.key] = row.violations.get(key.key, 0) + n
            elif measure is Measure.NOT_PLAYED:
                row.not_played += n
            elif measure is Measure.MOBILE_FORWARD:
                row.mobile_forwards += n
            elif measure is Measure.PRIVATE:
                row.private_calls += n
            elif measure is Measure.PREMIUM_BLOCKED:
                row.premium_blocked += n
            elif measure is Measure.SB_ANSWERED:
                row.sb_answered += n
            elif measure is Measure.SB_QUEUE_WAIT:
                queue_waits.setdefault(id(row), Counter())[float(key.key)] += n
            elif measure is Measure.SB_TRANSFER:
                row.sb_transfers += n
            elif measure is Measure.SB_RECALL:
                row.sb_recalls += n
            elif measure is Measure.SB_RECALL_PUT_THROUGH:
                row.sb_recalls_put_through += n
    everyone = rows[("all", "")]
    for seconds, n in waits.get(id(everyone), Counter()).items():
        report.wait_histogram[_bucket(WAIT_BUCKETS, seconds)] += n

    callback_list = list(callbacks)
    callback_hours: dict[int, list[float]] = {}
    for callback in callback_list:
        if not start <= callback.requested_at < end:
            continue
        person_cfg = people.get(callback.target)
        unit_id = person_cfg.unit if person_cfg else callback.target
        for row in rows_for(unit_id, callback.target if person_cfg else None):
            row.callbacks_opened += 1
            if callback.status == "done":
                row.callbacks_done += 1
                if callback.done_at is not None:
                    hours = (callback.done_at - callback.requested_at).total_seconds() / 3600
                    callback_hours.setdefault(id(row), []).append(hours)
            if callback.overdue_at is not None:
                row.callbacks_overdue += 1
    report.open_callbacks_by_age = {label: 0 for _, _, label in AGE_BUCKETS}
    for callback in callback_list:
        if callback.requested_at < end and (callback.done_at is None or callback.done_at >= end):
            age_h = (end - callback.requested_at).total_seconds() / 3600
            report.open_callbacks_by_age[_bucket(AGE_BUCKETS, age_h)] += 1

    for row in rows.values():
        row.wait_median_s = _percentile(waits.get(id(row), Counter()), 0.5)
        row.wait_p90_s = _percentile(waits.get(id(row), Counter()), 0.9)
        row.abandoned_after_median_s = _percentile(abandoned_after.get(id(row), Counter()), 0.5)
        row.sb_queue_wait_median_s = _percentile(queue_waits.get(id(row), Counter()), 0.5)
        row.sb_queue_wait_p90_s = _percentile(queue_waits.get(id(row), Counter()), 0.9)
        median_h = _median(callback_hours.get(id(row), []))
        row.callback_median_h = round(median_h, 2) if median_h is not None else None
    return report


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _bucket(buckets: Sequence[tuple[float, float | None, str]], value: float) -> str:
    for low, high, label in buckets:
        if value >= low and (high is None or value < high):
            return label
    return buckets[0][2]


# -- renderers ---------------------------------------------------------------------------------

COLUMNS = (
    ("kind", "kind"),
    ("id", "id"),
    ("calls", "calls"),
    ("personal", "answered_personally"),
    ("in limit %", "within_limit_pct"),
    ("answered", "answered"),
    ("cover", "cover"),
    ("referral", "referral"),
    ("voicemail", "voicemail"),
    ("callback", "callback"),
    ("abandoned", "abandoned"),
    ("wait p50", "wait_median_s"),
    ("wait p90", "wait_p90_s"),
    ("cb open/done/late", "callbacks"),
    ("mobile", "mobile_forwards"),
    ("private", "private_calls"),
    ("blocked", "premium_blocked"),
    ("not played", "not_played"),
    ("sb answered", "sb_answered"),
    ("queue p50", "sb_queue_wait_median_s"),
    ("queue p90", "sb_queue_wait_p90_s"),
    ("put through", "sb_transfers"),
    ("returned/then answered", "sb_recalls"),
    ("violations", "violations"),
)


def cell(row: Row, key: str) -> str:
    if key in OUTCOMES:
        return str(row.outcomes.get(key, 0))
    if key == "within_limit_pct":
        value: Any = row.within_limit_pct
    elif key == "callbacks":
        return f"{row.callbacks_opened}/{row.callbacks_done}/{row.callbacks_overdue}"
    elif key == "sb_recalls":
        return f"{row.sb_recalls}/{row.sb_recalls_put_through}"
    elif key == "violations":
        return " ".join(f"{rule}:{n}" for rule, n in sorted(row.violations.items())) or "-"
    else:
        value = getattr(row, key)
    if value is None:
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


def render_table(report: Report) -> str:
    header = [title for title, _ in COLUMNS]
    lines = [header] + [
        [cell(row, key) for _, key in COLUMNS] for row in report.rows if row.calls or row.kind != "person"
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    title = (
        f"Calls {report.start:%Y-%m-%d %H:%M} – {report.end:%Y-%m-%d %H:%M}; "
        f"ring limit {report.ring_limit_s:g} s (R1); waits in seconds; callbacks opened/done/overdue"
    )
    if report.daily_totals is not None:
        first, last = report.daily_totals
        title += (
            f"\nFigures for {first:%Y-%m-%d} – {last:%Y-%m-%d} come from the daily totals (those days' calls"
            " were pruned, store.retention_days)"
        )
    return "\n".join(
        [title, ""] + ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    )


def render_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [key for _, key in COLUMNS if key not in ("callbacks", "sb_recalls")]
        + [
            "callbacks_opened",
            "callbacks_done",
            "callbacks_overdue",
            "callback_median_h",
            "abandoned_after_median_s",
            "sb_recalls",
            "sb_recalls_put_through",
        ]
    )
    for row in report.rows:
        writer.writerow(
            [cell(row, key) for _, key in COLUMNS if key not in ("callbacks", "sb_recalls")]
            + [
                row.callbacks_opened,
                row.callbacks_done,
                row.callbacks_overdue,
                row.callback_median_h,
                row.abandoned_after_median_s,
                row.sb_recalls,
                row.sb_recalls_put_through,
            ]
        )
    return out.getvalue()


def render_json(report: Report) -> str:
    return json.dumps(report.as_dict(), ensure_ascii=False, indent=2)
