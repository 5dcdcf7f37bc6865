"""#16 against the real Asterisk: calls placed under one config are kept with what their plans
were made from; `routing explain --call` makes a real call's plan again and it matches the
steps the service logged; `routing whatif` with a config that changes telephone hours, and with
one that drops a cover position, counts exactly the calls whose plan changes; with the config
unchanged it reproduces the stored outcomes exactly.

The calls (Tuesday 10:15, inside soc's telephone hours 09–11; ring limit 3 s):
  - to soc (5000): its members ring, Erik answers;
  - to Anna (5001): she does not answer, her cover Erik does;
  - to Erik (5002): he answers."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from routing.calllog.recorder import EventRecorder
from routing.calllog.setup import configure_logging
from tests.e2e.harness import CHROMIUM_FLAGS, RunningService, chromium, finish, municipality

pytestmark = [pytest.mark.e2e]

Routing = Callable[..., Awaitable[RunningService]]
# The store dates events by the log's (real) clock; the calls' plans by the service's (10:15).
TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date().isoformat()


def routing_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "routing", *args], capture_output=True, text=True, check=False)


def config_file(path: Path, data: dict[str, Any], store_url: str) -> str:
    path.write_text(yaml.safe_dump({**data, "store": {"url": store_url}}, allow_unicode=True), encoding="utf-8")
    return str(path)


async def answered(svc: RunningService, number: str, outcome: str) -> str:
    call = await svc.call(number)
    await svc.log.wait_for(call.call_id, "call.answered", timeout=15)
    await call.hang_up()
    await finish(svc, call, outcome)
    return call.call_id


async def test_explain_call_and_whatif_over_real_calls(routing: Routing, tmp_path: Path) -> None:
    data = municipality(soc1="ring", soc2="answer1")
    svc = await routing(data)
    recorder = EventRecorder(svc.store)
    configure_logging("json", "info", stream=svc.log, recorder=recorder)
    unit_call = await answered(svc, "5000", "answered")
    anna_call = await answered(svc, "5001", "cover")
    erik_call = await answered(svc, "5002", "answered")
    assert recorder.flush()
    store_url = svc.service.config.store.url
    start = svc.log.one(anna_call, "call.start")
    assert start["config"] == svc.service.config.source_hash and "caller" not in json.dumps(start["inputs"])

    # explain --call: the plan made again under the stored config, beside what Asterisk reported.
    other = dict(data, ring={"max_rings": 4, "ring_period_s": 1})  # another version: the stored one is used
    explained = routing_cli(
        "explain", "--call", anna_call, "--config", config_file(tmp_path / "x.yaml", other, store_url)
    )
    assert explained.returncode == 0, explained.stderr
    text = explained.stdout
    assert f"planned under config {start['config']} (kept in the store" in text
    assert "1. ring person soc1: Local/ring-soc1@sandbox-phones, at most 3 s  [R1]" in text
    assert "2. ring cover soc2: Local/answer1-soc2@sandbox-phones, at most 3 s" in text
    assert "call.no_answer" in text and "target=soc1" in text and "call.answered" in text
    assert "The 2 logged steps follow this plan, in its order." in text
    assert "0701234567" not in text  # R12
    unknown = routing_cli(
        "explain", "--call", "no-such-call", "--config", config_file(tmp_path / "y.yaml", data, store_url)
    )
    assert unknown.returncode == 2 and "no call no-such-call" in unknown.stderr

    def whatif(changed: dict[str, Any], name: str) -> dict[str, Any]:
        done = routing_cli(
            "whatif",
            "--config",
            config_file(tmp_path / name, changed, store_url),
            "--from",
            TODAY,
            "--to",
            TODAY,
            "--format",
            "json",
        )
        assert done.returncode == 0, done.stderr
        result: dict[str, Any] = json.loads(done.stdout)
        assert result["calls"] == 3 and result["not_replayable"] == {}
        return result

    same = whatif(data, "same.yaml")  # unchanged: the stored outcomes, exactly
    assert same["changed"] == 0 and same["changes"] == []
    for figures in same["units"].values():
        assert figures["before"] == figures["after"]
    assert same["units"]["all"]["before"]["calls"] == 3 and same["units"]["all"]["before"]["answered_personally"] == 2

    hours = json.loads(json.dumps(data))  # soc's telephone hours end at 10:00: the 10:15 call to soc changes
    hours["units"][0]["phone_hours"] = {"mon-fri": "09:00-10:00"}
    by_hours = whatif(hours, "hours.yaml")
    assert by_hours["changed"] == 1
    (change,) = by_hours["changes"]
    assert (change["calls"], change["hours"]) == (1, "10:00–11:00")
    assert change["before"].startswith("ring unit soc") and change["after"].startswith(
        "announcement message → ring duty phone 5099"
    )
    assert by_hours["units"]["all"]["after"]["unknown"] == 1  # the announcement was never played: not guessed

    no_cover = json.loads(json.dumps(data))  # Anna has no cover: her call goes to her voicemail
    del no_cover["people"][0]["cover"]
    by_cover = whatif(no_cover, "cover.yaml")
    assert by_cover["changed"] == 1
    (change,) = by_cover["changes"]
    assert change["calls"] == 1 and "ring cover" in change["before"] and "ring cover" not in change["after"]
    after, before = by_cover["units"]["all"]["after"], by_cover["units"]["all"]["before"]
    assert (after["voicemail"], after["unknown"]) == (before["voicemail"] + 1, 0)

    # The HTML form in a real headless Chromium: its charts are the JSON's figures, per unit.
    page = tmp_path / "whatif.html"
    cover_file = str(tmp_path / "cover.yaml")
    html_form = routing_cli("whatif", "--config", cover_file, "--from", TODAY, "--to", TODAY, "--format", "html")
    assert html_form.returncode == 0, html_form.stderr
    page.write_text(html_form.stdout, encoding="utf-8")
    dom = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", f"file://{page}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert 'data-checked="ok"' in dom and 'id="chart-voicemail"' in dom
    for call_id, first in ((unit_call, "1. ring unit soc"), (erik_call, "1. ring person soc2")):
        shown = routing_cli("explain", "--call", call_id, "--config", config_file(tmp_path / "z.yaml", data, store_url))
        assert shown.returncode == 0 and first in shown.stdout, shown.stdout
        assert "The 1 logged steps follow this plan, in its order." in shown.stdout
