"""`routing doctor` against the real Asterisk (#11): exit 0 on the sandbox as the demo sets it
up, with the service running; exit 1 naming each misinstall an admin would hunt for by hand."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from routing.cli.demo_calls import demo_config
from routing.config import load_config
from routing.sandbox import RunningSandbox
from tests.e2e.harness import Ami, AmiLogin, RunningService

Routing = Callable[..., Awaitable[RunningService]]
EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.yaml"


def _demo_data() -> dict[str, Any]:
    """config/example.yaml as `routing demo` runs it: every device a sandbox phone."""
    data: dict[str, Any] = demo_config(load_config(EXAMPLE), {}).model_dump(mode="json", exclude_none=True)
    return data


async def _doctor(
    svc: RunningService, data: dict[str, Any], login: AmiLogin, sandbox: RunningSandbox, tmp_path: Path
) -> tuple[int, str]:
    """`routing doctor` as an admin runs it: its own process, the service's config file."""
    host, port = svc.service.agi_address or ("", 0)
    doctor_data = {
        **data,
        "asterisk": {
            "ami": login.config_section(tmp_path),
            "ari": {
                "url": sandbox.ari_url.removesuffix("/ari"),
                "username": sandbox.ari_username,
                "password_env": "ROUTING_ARI_PASSWORD",
            },
            "agi": {"listen": f"{host}:{port}"},
        },
        "store": {"url": svc.service.config.store.url},
    }
    config = tmp_path / "doctor.yaml"
    config.write_text(yaml.safe_dump(doctor_data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "routing", "doctor", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "ROUTING_ARI_PASSWORD": sandbox.ari_password},
    )
    return done.returncode, done.stdout + done.stderr


def _lines(output: str) -> dict[str, str]:
    """check name -> its line (ok or FAIL)."""
    found = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in ("ok", "FAIL"):
            found[words[1]] = line
    return found


async def test_doctor_passes_on_the_sandbox_as_the_demo_sets_it_up(
    routing: Routing, ami_login: AmiLogin, asterisk: RunningSandbox, tmp_path: Path
) -> None:
    data = _demo_data()
    svc = await routing(data, ami_login=ami_login)  # its AMI link writes AstDB, as `routing run` does
    await asyncio.wait_for(svc.service.link.synced.wait() if svc.service.link else asyncio.sleep(0), 15)
    status, output = await _doctor(svc, data, ami_login, asterisk, tmp_path)
    lines = _lines(output)
    assert status == 0, output
    assert set(lines) == {
        "ami.login",
        "ami.rights",
        "dialplan.contexts",
        "dialplan.globals",
        "astdb",
        "mailboxes",
        "devices",
        "agi.reachable",
        "prompts",
        "standby",
        "store",
        "ari",
    }, output
    assert all(line.startswith("ok") for line in lines.values()), output


@pytest.mark.faults_expected
async def test_doctor_names_each_misinstall_and_exits_1(
    routing: Routing, ami: Ami, ami_login: AmiLogin, asterisk: RunningSandbox, tmp_path: Path
) -> None:
    data = _demo_data()
    data["prompts"] = {"dir": str(tmp_path / "prompts-asterisk-cannot-see")}
    data["people"][0]["voicemail"] = "5999@default"  # no such mailbox in voicemail.conf
    data["people"][1]["device"] = "PJSIP/nosuchphone"  # no such endpoint in pjsip.conf
    svc = await routing(data, ami_login=ami_login)
    await asyncio.wait_for(svc.service.link.synced.wait() if svc.service.link else asyncio.sleep(0), 15)
    await ami.command("dialplan remove context routing-mobile-guard")  # the next reset reloads it
    limited = dataclasses.replace(ami_login, username=f"{ami_login.username}-nosystem")
    status, output = await _doctor(svc, data, limited, asterisk, tmp_path)
    lines = _lines(output)
    assert status == 1, output
    assert lines["ami.login"].startswith("ok")  # the limited user logs in
    assert lines["ami.rights"].startswith("FAIL") and "write = system" in output
    assert lines["dialplan.contexts"].startswith("FAIL") and "routing-mobile-guard" in lines["dialplan.contexts"]
    assert lines["mailboxes"].startswith("FAIL") and "5999@default" in lines["mailboxes"]
    assert lines["devices"].startswith("FAIL") and "PJSIP/nosuchphone" in lines["devices"]
    assert lines["agi.reachable"].startswith("ok")  # the service answered the probe call …
    assert lines["prompts"].startswith("FAIL") and "prompts.http" in output  # … but Asterisk could not play


@pytest.mark.faults_expected
async def test_the_service_logs_the_same_checks_after_its_ami_login_and_serves_calls_all_the_same(
    routing: Routing, ami_login: AmiLogin, tmp_path: Path
) -> None:
    data = _demo_data()
    data["prompts"] = {"dir": str(tmp_path / "prompts-asterisk-cannot-see")}
    svc = await routing(data, ami_login=ami_login)
    deadline = asyncio.get_running_loop().time() + 30
    while len(checks := [r for r in svc.log.records() if r.get("event") == "install.check"]) < 10:
        assert asyncio.get_running_loop().time() < deadline, [r.get("event") for r in svc.log.records()]
        await asyncio.sleep(0.2)
    by_name = {c["check"]: c for c in checks}
    assert by_name["agi.reachable"]["ok"] is True and by_name["astdb"]["ok"] is True
    assert by_name["prompts"]["ok"] is False and by_name["prompts"]["level"] == "warning"
    assert "prompts.http" in by_name["prompts"]["fix"]
    call = await svc.call("5001")  # still routed: a warning is never a refusal
    await svc.log.wait_for(call.call_id, "call.start")
