"""Only Asterisk may speak FastAGI to the service (#11), against the real Asterisk.

A local process that opens the FastAGI port and acts as Asterisk (the issue's ten-line script:
a `feature` request as extension 5001 with *214, "sick") is refused and changes nothing; so is
a request from an address not allowed, even with the secret. Real calls through the dialplan,
which sends the secret from AstDB, are served; with a wrong secret in AstDB the fail-safe still
answers the call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from routing.service.failsafe import FAMILY, TOKEN_KEY
from tests.e2e.harness import Ami, RunningService, call_started, finish, municipality
from tests.forged_agi import feature_request

Routing = Callable[..., Awaitable[RunningService]]


async def _forge(svc: RunningService, args: list[str], *, local: str = "127.0.0.1") -> list[bytes]:
    """Speak FastAGI to the running service as a local process would."""
    host, port = svc.service.agi_address or ("", 0)
    return await feature_request(host, port, args, local=local)


def _refusals(svc: RunningService) -> list[dict[str, Any]]:
    return [r for r in svc.log.records() if r.get("event") == "agi.refused"]


async def test_a_forged_feature_request_without_the_secret_sets_no_referral_and_calls_still_ring(
    routing: Routing,
) -> None:
    svc = await routing(municipality(soc1="answer1"))
    assert await _forge(svc, ["*214", "5001"]) == []  # no answer at all
    assert await _forge(svc, ["not-the-secret", "*214", "5001"]) == []
    assert svc.store.referrals() == []  # nobody is "sick, until further notice"
    (refused,) = _refusals(svc)  # once per source and minute
    assert (refused["reason"], refused["peer"], refused["script"]) == ("secret", "127.0.0.1", "feature")

    call = await svc.call("5001")  # the dialplan sends the secret: the person rings and answers
    await svc.log.wait_for(call.call_id, "call.answered")
    await call.hang_up()
    await finish(svc, call, "answered", by="soc1")
    assert call.dialled() == ["answer1-soc1@sandbox-phones"]


async def test_a_request_from_an_address_not_allowed_is_refused_even_with_the_secret(routing: Routing) -> None:
    svc = await routing(municipality())
    assert await _forge(svc, [svc.service.agi_token, "*214", "5001"], local="127.0.0.2") == []
    assert svc.store.referrals() == []
    assert [(r["reason"], r["peer"]) for r in _refusals(svc)] == [("address", "127.0.0.2")]
    assert svc.service.agi_token not in svc.log.getvalue()  # the secret never reaches the log


@pytest.mark.faults_expected
async def test_with_a_wrong_secret_in_astdb_every_call_still_gets_the_failsafe(routing: Routing, ami: Ami) -> None:
    svc = await routing(municipality())
    await ami.db_put(FAMILY, TOKEN_KEY, "stale-secret-of-another-installation")
    call = await svc.call("5001")
    voicemail = await call.wait_app("VoiceMail")
    assert voicemail.at - call_started(call) < 2.0  # never left in silence (R3)
    assert any("fail-safe" in app.data for app in call.apps("NoOp"))
    await call.hang_up()
    await call.wait_no_channels()
    assert svc.log.for_call(call.call_id) == []  # the service was never let in
    assert "secret" in [r["reason"] for r in _refusals(svc)]
