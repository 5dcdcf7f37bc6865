"""#13: the switchboard's queue in the real Asterisk, the R3 half first. With operators in the
config a call to the switchboard waits in Stasis under a lease (routing-switchboard). Whatever
serves it, the caller is never left there: with no application on ARI, Stasis() fails at once,
and with an application that stops renewing the lease (the service or its ARI link died), the
lease runs out; either way the switchboard's phone rings within the ring limit, then its
mailbox answers (R2, R3). The queue served over ARI (answer, transfer, hold) is not built yet.

Timings (harness.municipality): ring limit 3 × 1 s; the queue's lease 4 s (call_router)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from routing.ari.client import AriClient
from routing.ari.events import AriEvent, StasisStart
from routing.ari.stream import AriEventStream, Resync
from routing.sandbox import RunningSandbox
from routing.service.call_router import QUEUE_LEASE_S
from tests.e2e.harness import RunningService, finish, municipality, step_results

pytestmark = [pytest.mark.e2e]

Routing = Callable[..., Awaitable[RunningService]]
RING_LIMIT_S = 3.0
MARGIN_S = 1.5


def with_operators(tmp_path: Path) -> dict[str, Any]:
    data = municipality(switchboard="ring")
    data["switchboard"] |= {
        "operators": [{"id": "eva", "name": "Eva", "device": "Local/answer1-eva@sandbox-phones"}],
        "accounts_file": str(tmp_path / "operators"),
        "listen": "127.0.0.1:0",
    }
    return data


def unserved_app() -> str:
    """An ARI application nobody else on this sandbox uses."""
    return f"e2e-{uuid.uuid4().hex[:8]}"


async def test_r3_queue_without_an_ari_application_rings_the_switchboard_then_its_mailbox(
    routing: Routing, tmp_path: Path
) -> None:
    svc = await routing(with_operators(tmp_path))
    call = await svc.call("9000", variables={"ROUTING_APP": unserved_app()})
    await call.wait_app("VoiceMail", timeout=RING_LIMIT_S + 10)
    await call.hang_up()
    end = await finish(svc, call, "voicemail", by="9000@default")
    steps = [(s["step"], s["target"]) for s in svc.log.for_call(call.call_id, "call.step")]
    assert steps == [("switchboard", "9000"), ("switchboard", "9000"), ("voicemail", "switchboard")]
    assert svc.log.one(call.call_id, "call.unavailable")["status"] == "queue_unserved"
    assert step_results(call)[0] == ("queue", "FAILED")
    (stasis,) = call.apps("Stasis")
    (dial,) = call.dials()
    assert dial.dest_channel.startswith("Local/ring-switchboard@sandbox-phones")
    assert dial.seconds == pytest.approx(RING_LIMIT_S, abs=0.8)
    assert dial.begun - stasis.at < 1.0  # Stasis() failed at once
    assert end["wait_s"] < RING_LIMIT_S + MARGIN_S + 1.0


async def test_r3_a_lease_nobody_renews_runs_out_and_the_switchboard_answers(
    routing: Routing, tmp_path: Path, asterisk: RunningSandbox
) -> None:
    """The application holds the caller but never renews the lease, as a service that died
    with its ARI socket still open, or whose requests no longer reach Asterisk."""
    app = unserved_app()
    svc = await routing(with_operators(tmp_path))
    # The client adds /ari itself to Asterisk's HTTP server.
    client = AriClient(
        f"http://127.0.0.1:{asterisk.settings.http_port}", asterisk.ari_username, asterisk.ari_password, app
    )
    entered: asyncio.Queue[StasisStart] = asyncio.Queue()

    async def on_event(event: AriEvent) -> None:
        if isinstance(event, StasisStart):
            entered.put_nowait(event)

    async def on_resync(_resync: Resync) -> None:
        return None

    stream = AriEventStream(client, on_event, on_resync)
    reader = asyncio.get_running_loop().create_task(stream.run())
    try:
        await asyncio.wait_for(stream.connected.wait(), 10)
        call = await svc.call("9000", variables={"ROUTING_APP": app})
        start = await asyncio.wait_for(entered.get(), 15)
        assert start.args == ("queue",)
        dialled = await call.wait_dial("ring-switchboard", timeout=QUEUE_LEASE_S + 5)
        (stasis,) = call.apps("Stasis")
        assert dialled.at - stasis.at == pytest.approx(QUEUE_LEASE_S, abs=1.0)  # Asterisk's clock (AMI)
        await call.wait_app("VoiceMail", timeout=RING_LIMIT_S + 10)
        await call.hang_up()
        end = await finish(svc, call, "voicemail", by="9000@default")
        assert step_results(call)[0] == ("queue", "FAILED")
        # R3: the caller was answered within the lease + the ring limit (+ margins).
        assert end["wait_s"] < QUEUE_LEASE_S + RING_LIMIT_S + MARGIN_S + 1.0
    finally:
        await stream.stop()
        reader.cancel()
        await client.close()
