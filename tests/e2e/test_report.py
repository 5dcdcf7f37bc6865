"""Issue #5: the store records the calls the e2e suite makes, and `routing report` reconciles
exactly with them (calls, outcomes, personal answers, answers within the ring limit)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from routing.calllog.recorder import EventRecorder
from routing.calllog.setup import configure_logging
from routing.reports.accessibility import render_json
from routing.reports.period import report_for
from tests.e2e.harness import RunningService, finish, municipality

pytestmark = [pytest.mark.e2e]

Routing = Callable[..., Awaitable[RunningService]]


async def test_report_reconciles_with_the_calls_made(routing: Routing, store_url: str) -> None:
    """On each kind of store: SQLite, and a real PostgreSQL."""
    data = municipality(soc1="answer1", soc2="busy", jour="answer1", switchboard="busy")
    svc = await routing(data, store_url=store_url)
    configure_logging("json", "info", stream=svc.log, recorder=EventRecorder(svc.store))
    began = datetime.now(UTC)

    answered = await svc.call("5001")  # Anna answers after 1 s
    await svc.log.wait_for(answered.call_id, "call.answered")
    await answered.hang_up()
    await finish(svc, answered, "answered", by="soc1")

    covered = await svc.call("5002")  # Erik is busy; the duty phone answers
    await svc.log.wait_for(covered.call_id, "call.answered")
    await covered.hang_up()
    await finish(svc, covered, "cover", by="5099")

    mailbox = await svc.call("9000")  # the switchboard is busy: its voicemail
    await mailbox.wait_app("VoiceMail")
    await mailbox.hang_up()
    await finish(svc, mailbox, "voicemail")

    gave_up = await svc.call("5001")  # the caller hangs up while it rings
    await gave_up.wait_dial("answer1-soc1")
    await gave_up.hang_up()
    await finish(svc, gave_up, "abandoned")

    store = svc.store
    end = datetime.now(UTC) + timedelta(seconds=1)
    report = report_for(svc.service.config, store, began - timedelta(seconds=1), end)
    rows = {(r.kind, r.id): r for r in report.rows}
    everyone = rows[("all", "")]
    assert everyone.calls == 4
    assert everyone.answered_personally == 1
    assert {k: v for k, v in everyone.outcomes.items() if v} == {
        "answered": 1,
        "cover": 1,
        "voicemail": 1,
        "abandoned": 1,
    }
    assert everyone.r2_within_limit == 3  # each answer came within the 3 s ring limit
    assert everyone.violations == {}
    soc = rows[("unit", "soc")]
    assert (soc.calls, soc.answered_personally, soc.outcomes["cover"], soc.outcomes["abandoned"]) == (3, 1, 1, 1)
    assert (rows[("person", "soc1")].calls, rows[("person", "soc2")].calls) == (2, 1)
    assert everyone.abandoned_after_median_s is not None and everyone.abandoned_after_median_s < 3
    assert '"calls": 4' in render_json(report)
