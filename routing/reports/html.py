"""`routing report --format html`: one self-contained page (no network, no external files) that a
telephone officer can open in a browser or mail on: the table and four charts drawn as inline
SVG — answer rate per unit, calls per hour of day, wait-time distribution, open callbacks by age.

Each bar carries its number (`data-value`), and the report's JSON is embedded; a few lines of
script check the bars against the JSON when the page opens and mark the page (`data-checked`),
so a browser can show that what is drawn is what was counted.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence

from routing.reports.accessibility import COLUMNS, Report, cell

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: right; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 2rem; }
figure { margin: 0; } figcaption { font-size: 0.9rem; margin-bottom: 0.3rem; }
svg text { font-size: 10px; fill: #333; }
rect.bar { fill: #2f6f9f; }
"""

_CHECK = """
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var expected = {
    'chart-answer-rate': data.rows.filter(function (r) { return r.kind === 'unit'; })
      .map(function (r) { return r.within_limit_pct === null ? 0 : r.within_limit_pct; }),
    'chart-calls-per-hour': data.calls_per_hour,
    'chart-waits': Object.keys(data.wait_histogram).map(function (k) { return data.wait_histogram[k]; }),
    'chart-callback-ages': Object.keys(data.open_callbacks_by_age).map(function (k) {
      return data.open_callbacks_by_age[k]; })
  };
  var ok = true;
  Object.keys(expected).forEach(function (id) {
    var bars = document.querySelectorAll('#' + id + ' rect.bar');
    var want = expected[id];
    if (bars.length !== want.length) { ok = false; return; }
    bars.forEach(function (bar, i) { if (Number(bar.getAttribute('data-value')) !== want[i]) { ok = false; } });
  });
  document.body.setAttribute('data-checked', ok ? 'ok' : 'mismatch');
})();
"""


def bar_chart(chart_id: str, labels: Sequence[str], values: Sequence[float], unit: str = "") -> str:
    """A bar chart as inline SVG; each bar's number in `data-value`."""
    width, height, pad = max(240, 28 * len(values) + 40), 180, 30
    top = max([v for v in values if v > 0], default=1.0)
    step = (width - pad - 10) / max(1, len(values))
    parts = [f'<svg id="{chart_id}" width="{width}" height="{height}" role="img" xmlns="http://www.w3.org/2000/svg">']
    parts.append(f'<line x1="{pad}" y1="{height - pad}" x2="{width - 5}" y2="{height - pad}" stroke="#999"/>')
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar_height = (height - 2 * pad) * (value / top) if top else 0
        x = pad + i * step + 2
        y = height - pad - bar_height
        shown = f"{value:g}{unit}"
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{max(step - 4, 2):.1f}" height="{bar_height:.1f}" '
            f'data-value="{value:g}"><title>{html.escape(label)}: {shown}</title></rect>'
        )
        parts.append(f'<text x="{x:.1f}" y="{height - pad + 12}">{html.escape(label)}</text>')
        parts.append(f'<text x="{x:.1f}" y="{max(y - 3, 10):.1f}">{shown}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: Report) -> str:
    data = report.as_dict()
    units = [row for row in report.rows if row.kind == "unit"]
    charts = [
        (
            "Answered within the ring limit, per unit (%)",
            bar_chart(
                "chart-answer-rate",
                [u.id for u in units],
                [u.within_limit_pct if u.within_limit_pct is not None else 0 for u in units],
                "%",
            ),
        ),
        (
            "Calls per hour of day",
            bar_chart("chart-calls-per-hour", [f"{h:02d}" for h in range(24)], report.calls_per_hour),
        ),
        (
            "Wait until an answer (R2)",
            bar_chart("chart-waits", list(report.wait_histogram), list(report.wait_histogram.values())),
        ),
        (
            "Open callbacks by age (R4)",
            bar_chart(
                "chart-callback-ages", list(report.open_callbacks_by_age), list(report.open_callbacks_by_age.values())
            ),
        ),
    ]
    head = "".join(f"<th>{html.escape(title)}</th>" for title, _ in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell(row, key))}</td>" for _, key in COLUMNS) + "</tr>"
        for row in report.rows
        if row.calls or row.kind != "person"
    )
    figures = "".join(f"<figure><figcaption>{html.escape(t)}</figcaption>{svg}</figure>" for t, svg in charts)
    period = f"{report.start:%Y-%m-%d %H:%M} – {report.end:%Y-%m-%d %H:%M}"
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    totals = ""
    if report.daily_totals is not None:
        first, last = report.daily_totals
        totals = (
            f"<p class='daily-totals'>Figures for {first:%Y-%m-%d} – {last:%Y-%m-%d} come from the daily totals"
            " (those days' calls were pruned, store.retention_days).</p>"
        )
    return (
        "<!DOCTYPE html><html lang='sv'><head><meta charset='utf-8'>"
        f"<title>Tillgänglighet {html.escape(period)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>Telephone accessibility {html.escape(period)}</h1>"
        f"<p>Ring limit {report.ring_limit_s:g} s (R1). Waits in seconds; callbacks opened/done/overdue (R4).</p>"
        f"{totals}"
        f"<div class='charts'>{figures}</div>"
        f"<h2>Per unit and person</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<script type='application/json' id='report-data'>{payload}</script>"
        f"<script>{_CHECK}</script></body></html>"
    )
