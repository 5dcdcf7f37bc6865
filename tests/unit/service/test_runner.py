"""The service's lifetime without Asterisk: reload (SIGHUP) keeps the running config on a
broken file; a draining service sends new calls to the dialplan's fail-safe."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from routing.agi.protocol import AgiRequest
from routing.calllog.setup import configure_logging
from routing.config import load_config
from routing.service.runner import Service
from routing.store import SqliteStore

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "example.yaml"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8").replace("/var/lib/routing/prompts", f"{tmp_path}/prompts")
    path = tmp_path / "routing.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def service(config_file: Path, tmp_path: Path) -> Service:
    return Service(load_config(config_file), store=SqliteStore(tmp_path / "routing.db"), connect_ami=False)


async def test_reload_applies_a_good_config_and_keeps_the_running_one_on_a_broken_file(
    config_file: Path, tmp_path: Path
) -> None:
    out = io.StringIO()
    configure_logging("json", stream=out)
    svc = service(config_file, tmp_path)
    before = svc.router.directory
    config_file.write_text(config_file.read_text(encoding="utf-8").replace("max_rings: 5", "max_rings: 4"))
    assert await svc.reload(str(config_file))
    assert svc.router.directory.ring_timeout_s == 24 and svc.router.directory is not before
    good = svc.router.directory
    config_file.write_text(config_file.read_text(encoding="utf-8").replace('cover: "6002"', 'cover: "6999"'))
    assert not await svc.reload(str(config_file))
    assert svc.router.directory is good  # the running config stays
    error = next(json.loads(line) for line in out.getvalue().splitlines() if '"config.invalid"' in line)
    assert error["errors"][0].startswith(f"{config_file}:") and "people[3].cover" in error["errors"][0]
    assert error["kept"] == "running config"


async def test_draining_service_sends_new_calls_to_the_failsafe(config_file: Path, tmp_path: Path) -> None:
    svc = service(config_file, tmp_path)
    svc.router.draining = True
    request = AgiRequest(
        {"agi_network_script": "step", "agi_uniqueid": "1.1", "agi_extension": "5001", "agi_callerid": "0701234567"},
        ("start", "", "1.1", "0", "allowed"),
    )
    assert await svc.router(request) == {"ROUTING_ACTION": "failsafe"}
    assert svc.router.calls == {}


@pytest.mark.parametrize("other_instance", [True, False], ids=["another-instance-runs", "alone"])
async def test_a_stop_hands_calls_over_to_another_instance_and_else_drains_and_lets_them_go(
    config_file: Path, tmp_path: Path, other_instance: bool
) -> None:
    """#17: stopping while another instance beats, a call in progress keeps no call.end here (the
    other goes on with it); alone, the drain waits its bound and the call is let go (call.end)."""
    out = io.StringIO()
    configure_logging("json", stream=out)
    svc = service(config_file, tmp_path)
    if other_instance:
        svc.store.heartbeat("standby", host="pbx2", pid=1, at=datetime.now(UTC))
    request = AgiRequest(
        {"agi_network_script": "step", "agi_uniqueid": "1.1", "agi_extension": "5001", "agi_callerid": "0701234567"},
        ("start", "", "1.1", "0", "allowed"),
    )
    assert (await svc.router(request))["ROUTING_ACTION"] not in ("", "failsafe")  # routed: in progress
    loop = asyncio.get_running_loop()
    began = loop.time()
    await svc.drain(0.6)
    drained_s = loop.time() - began
    await svc.stop()
    events = [json.loads(line)["event"] for line in out.getvalue().splitlines()]
    if other_instance:
        assert drained_s < 0.5 and "service.handing_over" in events and "call.end" not in events
    else:
        assert drained_s >= 0.6 and "service.draining" in events and events.count("call.end") == 1


async def test_a_reload_reads_the_new_config_elsewhere_and_calls_are_routed_meanwhile(
    config_file: Path, tmp_path: Path
) -> None:
    """#12: a big config takes seconds to read; a call arriving meanwhile must not wait."""
    svc = service(config_file, tmp_path)
    before = svc.router.directory
    order: list[str] = []

    async def reload() -> None:
        assert await svc.reload(str(config_file))
        order.append("reloaded")

    async def calls() -> None:
        await asyncio.sleep(0.05)  # the reload has begun
        assert await _route_one(svc)
        order.append("routed")

    await asyncio.gather(reload(), calls())
    assert order == ["routed", "reloaded"]  # the call did not wait for the reload
    assert svc.router.directory is not before


async def _route_one(svc: Service) -> bool:
    request = AgiRequest(
        {"agi_network_script": "step", "agi_uniqueid": "2.1", "agi_extension": "5001", "agi_callerid": "0701234567"},
        ("start", "", "2.1", "1", "allowed"),  # internal: it rings whatever the hour (R7)
    )
    return (await svc.router(request)).get("ROUTING_ACTION") == "ring"
