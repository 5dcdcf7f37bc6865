"""`routing whatif` (#16): every stored call of a period planned again under a new config, with
the same inputs (policy.decision_inputs): how many calls change plan, grouped by what changed,
and the report's headline figures before (as the calls went) and after (policy.whatif.predict:
what each call's phones and caller were seen to do; what nobody saw is unknown, never
guessed). Reads the store a day at a time; formats as a table, JSON or one HTML page with the
figures per unit as a chart."""

from __future__ import annotations

import html
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from routing.calllog.events import (
    CallAnswered,
    CallbackRequested,
    CallBusy,
    CallEnd,
    CallNoAnswer,
    CallStart,
    CallStep,
    CallUnavailable,
)
from routing.config import Config, ConfigError, load_config_text
from routing.policy.answer_measures import answered_personally, answered_within_ring_limit
from routing.policy.decision_inputs import DecisionInputs, replan
from routing.policy.directory import Directory
from routing.policy.steps import Outcome, StepKind
from routing.policy.whatif import Observed, Predicted, RingSeen, describe_plan, predict
from routing.reports.html import bar_chart
from routing.store.base import Store, StoredEvent

_RINGING = {StepKind.PERSON, StepKind.UNIT, StepKind.COVER, StepKind.DUTY_PHONE, StepKind.SWITCHBOARD, StepKind.PHONE}
LATE_EVENTS = timedelta(hours=2)  # a call's events are read this far past its day (a call across midnight)


@dataclass
class Figures:
    """The report's headline figures for a set of calls."""

    calls: int = 0
    answered_personally: int = 0
    r2_within_limit: int = 0
    voicemail: int = 0
    callback: int = 0
    unknown: int = 0  # after only: calls whose outcome under the new plan nobody observed

    def add(self, predicted: Predicted, ring_limit_s: float) -> None:
        self.calls += 1
        outcome = predicted.outcome
        if outcome is None:
            self.unknown += 1
            return
        self.answered_personally += answered_personally(outcome, predicted.answered_step)
        self.r2_within_limit += answered_within_ring_limit(outcome, predicted.wait_s, ring_limit_s)
        self.voicemail += outcome is Outcome.VOICEMAIL
        self.callback += outcome is Outcome.CALLBACK


@dataclass
class Change:
    """Calls whose plan changed the same way."""

    target: str
    before: str
    after: str
    calls: int = 0
    first_hour: int = 24
    last_hour: int = -1

    @property
    def hours(self) -> str:
        return f"{self.first_hour:02d}:00–{self.last_hour + 1:02d}:00"


@dataclass
class WhatIf:
    start: date
    end: date  # inclusive
    new_config: str
    calls: int = 0
    changed: int = 0
    not_replayable: dict[str, int] = field(default_factory=dict)  # why → calls left out
    changes: list[Change] = field(default_factory=list)
    before: dict[str, Figures] = field(default_factory=dict)  # by unit ("" for calls to no unit), and "all"
    after: dict[str, Figures] = field(default_factory=dict)


def observed_of(events: Sequence[StoredEvent]) -> Observed:
    """What one call's stored events show of its phones and its caller."""
    rings: dict[str, RingSeen] = {}
    messages: dict[tuple[str, str], float] = {}
    pressed: float | None = None
    declined = False
    end: CallEnd | None = None
    step: CallStep | None = None
    step_at: datetime | None = None
    for stored in events:
        at = datetime.fromisoformat(stored.at)
        event = stored.event
        if isinstance(event, CallStart):
            continue
        if step is not None and step_at is not None and isinstance(event, CallStep | CallEnd):
            # The step before this one is over: a message was played this long, an offer ran out.
            if step.step in (StepKind.ANNOUNCEMENT, StepKind.REFERRAL):
                messages[(step.step, step.target)] = (at - step_at).total_seconds()
            if step.step == StepKind.CALLBACK and pressed is None and isinstance(event, CallStep):
                declined = True
        if isinstance(event, CallStep):
            step, step_at = event, at
        elif step is not None and step_at is not None and step.step in _RINGING:
            after = (at - step_at).total_seconds()
            if isinstance(event, CallAnswered):
                rings[step.target] = RingSeen(answered_after_s=after)
            elif isinstance(event, CallNoAnswer):
                rings[step.target] = RingSeen(no_answer_after_s=event.rang_s)
            elif isinstance(event, CallBusy):
                rings[step.target] = RingSeen(busy=True)
            elif isinstance(event, CallUnavailable):
                rings[step.target] = RingSeen(unavailable=True)
        if isinstance(event, CallbackRequested) and step_at is not None:
            pressed = (at - step_at).total_seconds()
        if isinstance(event, CallEnd):
            end = event
    return Observed(
        rings,
        messages,
        pressed,
        declined,
        end.outcome if end is not None else None,
        end.wait_s if end is not None else None,
        end.duration_s if end is not None else None,
    )


def _stored_outcome(events: Sequence[StoredEvent], seen: Observed) -> Predicted:
    """The call as it went."""
    answered = next((e.event for e in events if isinstance(e.event, CallAnswered)), None)
    return Predicted(seen.outcome, seen.wait_s, answered.step if answered is not None else None)


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def _calls_of_day(store: Store, day: date, zone: ZoneInfo) -> Iterator[tuple[StoredEvent, list[StoredEvent]]]:
    """Each call begun on `day` (local), with its events in order."""
    begin = datetime.combine(day, datetime.min.time(), zone)
    finish = begin + timedelta(days=1)
    by_call: dict[str, list[StoredEvent]] = defaultdict(list)
    starts: list[StoredEvent] = []
    for stored in store.events_between(begin, finish + LATE_EVENTS):
        if stored.call_id is None:
            continue
        by_call[stored.call_id].append(stored)
        if isinstance(stored.event, CallStart) and datetime.fromisoformat(stored.at) < finish:
            starts.append(stored)
    for start in starts:
        assert start.call_id is not None
        yield start, by_call[start.call_id]


class _Configs:
    """The configs calls were planned under, by hash, each loaded once."""

    def __init__(self, store: Store, given: Config) -> None:
        self._store = store
        self._directories: dict[str, Directory | None] = {given.source_hash: Directory.from_config(given)}

    def directory(self, config_hash: str) -> Directory | None:
        if config_hash not in self._directories:
            text = self._store.config_version(config_hash)
            try:
                config = load_config_text(text, f"<stored config {config_hash}>") if text is not None else None
            except ConfigError:
                config = None
            self._directories[config_hash] = Directory.from_config(config) if config is not None else None
        return self._directories[config_hash]


def what_if(
    store: Store, new: Config, start: date, end: date, *, unit: str | None = None, current: Config | None = None
) -> WhatIf:
    """`current`: a config file to use for calls planned under its version when the store does
    not keep that version (e.g. a store from before #16 kept none)."""
    zone = ZoneInfo(new.timezone)
    new_directory = Directory.from_config(new)
    configs = _Configs(store, current if current is not None else new)
    result = WhatIf(start, end, new.source_hash)
    changes: dict[tuple[str, str, str], Change] = {}
    for day in _days(start, end):
        for stored_start, events in _calls_of_day(store, day, zone):
            begun = stored_start.event
            assert isinstance(begun, CallStart)
            if unit is not None and begun.unit != unit:
                continue
            result.calls += 1
            why_not = _replay(result, changes, configs, new_directory, begun, events)
            if why_not is not None:
                result.not_replayable[why_not] = result.not_replayable.get(why_not, 0) + 1
    result.changes = sorted(changes.values(), key=lambda c: (-c.calls, c.target, c.before))
    return result


def _replay(
    result: WhatIf,
    changes: dict[tuple[str, str, str], Change],
    configs: _Configs,
    new_directory: Directory,
    begun: CallStart,
    events: list[StoredEvent],
) -> str | None:
    """One call planned again under the old and the new config; None, or why it cannot be."""
    if begun.inputs is None or not begun.config:
        return "routed before the inputs were kept"
    old_directory = configs.directory(begun.config)
    if old_directory is None:
        return "its config is not in the store"
    try:
        inputs = DecisionInputs.from_fields(begun.called, begun.config, begun.inputs)
    except (KeyError, TypeError, ValueError):
        return "its inputs cannot be read"
    original = replan(old_directory, inputs)
    old = original.plan
    new = replan(new_directory, inputs)
    unobserved = new.beyond(original)
    seen = observed_of(events)
    before = _stored_outcome(events, seen)
    if new.plan.steps == old.steps and not unobserved:
        after = before  # the same plan from the same inputs: the call goes as it went
    else:
        result.changed += 1
        after = (
            predict(new.plan, seen)
            if not unobserved
            else Predicted(None, unknown=f"the new plan asks about {', '.join(sorted(unobserved))}, never observed")
        )
        if new.plan.steps != old.steps:
            target = new_directory.label(begun.target) if begun.target else begun.called
            key = (target, describe_plan(old), describe_plan(new.plan))
            change = changes.setdefault(key, Change(*key))
            change.calls += 1
            hour = inputs.at.astimezone(ZoneInfo(new_directory.config.timezone)).hour
            change.first_hour, change.last_hour = min(change.first_hour, hour), max(change.last_hour, hour)
    unit_key = begun.unit or ""
    for figures_of in (unit_key, "all"):
        result.before.setdefault(figures_of, Figures()).add(before, old_directory.ring_timeout_s)
        result.after.setdefault(figures_of, Figures()).add(after, new_directory.ring_timeout_s)
    return None


# -- rendering ----------------------------------------------------------------------------------

_FIGURES = ("calls", "answered_personally", "r2_within_limit", "voicemail", "callback", "unknown")


def render_json(result: WhatIf) -> str:
    data: dict[str, Any] = {
        "from": result.start.isoformat(),
        "to": result.end.isoformat(),
        "new_config": result.new_config,
        "calls": result.calls,
        "changed": result.changed,
        "not_replayable": result.not_replayable,
        "changes": [asdict(c) | {"hours": c.hours} for c in result.changes],
        "units": {
            unit: {"before": asdict(result.before[unit]), "after": asdict(result.after[unit])}
            for unit in sorted(result.before)
        },
    }
    return json.dumps(data, indent=2, ensure_ascii=False)


def render_table(result: WhatIf) -> str:
    lines = [
        f"What-if {result.start}–{result.end} under config {result.new_config}: "
        f"{result.calls} calls, {result.changed} would change plan",
    ]
    for why, count in sorted(result.not_replayable.items()):
        lines.append(f"  ({count} calls left out: {why})")
    if result.changes:
        lines.append("")
        lines.append("What changes:")
    for change in result.changes:
        lines.append(f"  {change.calls} calls to {change.target} {change.hours}:")
        lines.append(f"      before: {change.before}")
        lines.append(f"      after:  {change.after}")
    lines += ["", f"{'unit':<16}" + "".join(f"{name:>22}" for name in _FIGURES)]
    for unit in sorted(result.before, key=lambda u: (u == "all", u)):
        before, after = result.before[unit], result.after[unit]
        cells = [
            f"{getattr(before, n)} → {getattr(after, n)}" if n != "unknown" else str(after.unknown) for n in _FIGURES
        ]
        lines.append(f"{unit or '(no unit)':<16}" + "".join(f"{c:>22}" for c in cells))
    return "\n".join(lines)


# The page checks its bars against its own JSON when it opens (as the accessibility report
# does): a browser shows that what is drawn is what was counted (body data-checked).
_CHECK = """
(function () {
  var data = JSON.parse(document.getElementById('whatif-data').textContent);
  var units = Object.keys(data.units).filter(function (u) { return u !== 'all'; }).sort();
  var ok = true;
  ['answered_personally', 'r2_within_limit', 'voicemail', 'callback'].forEach(function (name) {
    var want = [];
    units.forEach(function (u) { want.push(data.units[u].before[name], data.units[u].after[name]); });
    var bars = document.querySelectorAll('#chart-' + name + ' rect.bar');
    if (bars.length !== want.length) { ok = false; return; }
    bars.forEach(function (bar, i) { if (Number(bar.getAttribute('data-value')) !== want[i]) { ok = false; } });
  });
  document.body.setAttribute('data-checked', ok ? 'ok' : 'mismatch');
})();
"""


def _embedded(text: str) -> str:
    """JSON inside a <script> element: raw text (no entities), with no "</" to end the element."""
    return text.replace("</", "<\\/")


def render_html(result: WhatIf) -> str:
    units = [u for u in sorted(result.before) if u != "all"]
    charts = []
    for name in ("answered_personally", "r2_within_limit", "voicemail", "callback"):
        labels = [f"{u or '-'} {when}" for u in units for when in ("före", "efter")]
        values = [float(getattr(side[u], name)) for u in units for side in (result.before, result.after)]
        charts.append(f"<figure><figcaption>{html.escape(name.replace('_', ' '))}</figcaption>")
        charts.append(bar_chart(f"chart-{name}", labels, values) + "</figure>")
    rows = "".join(
        f"<tr><td>{html.escape(c.target)}</td><td>{c.hours}</td><td>{c.calls}</td>"
        f"<td>{html.escape(c.before)}</td><td>{html.escape(c.after)}</td></tr>"
        for c in result.changes
    )
    title = f"What-if {result.start}–{result.end}: {result.changed} of {result.calls} calls change plan"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.25rem .5rem}.charts{display:flex;flex-wrap:wrap;gap:2rem}"
        "rect.bar{fill:#2f6f9f}svg text{font-size:10px}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        "<table><tr><th>calls to</th><th>hours</th><th>calls</th><th>before</th><th>after</th></tr>"
        f'{rows}</table><h2>Before and after, per unit</h2><div class="charts">{"".join(charts)}</div>'
        f'<script type="application/json" id="whatif-data">{_embedded(render_json(result))}</script>'
        f"<script>{_CHECK}</script></body></html>"
    )
