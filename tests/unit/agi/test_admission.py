"""Only Asterisk may speak FastAGI to the service (#11): an allowed address and the secret.

Pure decisions first, then the real server on loopback: a forged request is refused, changes
nothing, gets no answer (the dialplan's fail-safe would take the call), and is logged once per
source per minute."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from routing.agi.admission import Admission, Refusal, RefusalLog
from routing.agi.server import FastAgiServer
from tests.forged_agi import feature_request
from tests.unit.agi.test_server import Recorder

TOKEN = "s3cr3t-token"


def test_loopback_is_allowed_by_default_and_other_addresses_are_not() -> None:
    admission = Admission.of(("127.0.0.1", "::1"), TOKEN)
    assert admission.address_allowed("127.0.0.1") and admission.address_allowed("::1")
    assert admission.address_allowed("::ffff:127.0.0.1")  # a dual-stack socket's view of it
    assert not admission.address_allowed("127.0.0.2")
    assert not admission.address_allowed("10.0.0.5")
    assert not admission.address_allowed("not an address")


def test_networks_admit_every_address_inside_them() -> None:
    admission = Admission.of(("10.1.2.0/24",), TOKEN)
    assert admission.address_allowed("10.1.2.200") and not admission.address_allowed("10.1.3.1")


def test_the_secret_is_the_first_argument_and_must_match_exactly() -> None:
    admission = Admission.of(("127.0.0.1",), TOKEN)
    assert admission.secret_matches((TOKEN, "start"))
    assert not admission.secret_matches(("start",))
    assert not admission.secret_matches(())
    assert not admission.secret_matches((TOKEN + "x", "start"))
    assert not admission.secret_matches(("", "start"))
    assert Admission.of(("127.0.0.1",), None).secret_matches(())  # no secret asked


def test_a_refused_source_is_logged_once_a_minute_with_the_count_in_between() -> None:
    refusals = RefusalLog(interval_s=60)
    assert refusals.should_log("10.0.0.5", Refusal.SECRET, 0.0) == 0
    assert refusals.should_log("10.0.0.5", Refusal.SECRET, 10.0) is None
    assert refusals.should_log("10.0.0.5", Refusal.SECRET, 59.0) is None
    assert refusals.should_log("10.0.0.5", Refusal.ADDRESS, 59.5) == 0  # another reason: its own line
    assert refusals.should_log("10.0.0.6", Refusal.SECRET, 59.5) == 0  # another source too
    assert refusals.should_log("10.0.0.5", Refusal.SECRET, 61.0) == 2


@pytest.fixture
async def guarded() -> tuple[FastAgiServer, Recorder, int]:
    recorder = Recorder({"ROUTING_PROMPT": "/p/x", "ROUTING_ACTION": "play"})
    server = FastAgiServer(recorder, admission=Admission.of(("127.0.0.1",), TOKEN))
    _, port = await server.start("127.0.0.1", 0)
    return server, recorder, port


async def test_a_request_with_the_secret_is_served_and_the_handler_never_sees_it(
    guarded: tuple[FastAgiServer, Recorder, int],
) -> None:
    server, recorder, port = guarded
    try:
        answer = await feature_request("127.0.0.1", port, [TOKEN, "*214", "2101"])
    finally:
        await server.stop(grace_s=1)
    assert answer and answer[0].startswith(b"EXEC MSet")
    assert [r.args for r in recorder.requests] == [("*214", "2101")]


async def test_a_forged_request_without_the_secret_changes_nothing_gets_no_answer_and_is_logged_once(
    guarded: tuple[FastAgiServer, Recorder, int],
) -> None:
    server, recorder, port = guarded
    try:
        with capture_logs() as logs:
            answers = [await feature_request("127.0.0.1", port, ["*214", "2101"]) for _ in range(3)]
            answers.append(await feature_request("127.0.0.1", port, ["wrong", "*214", "2101"]))
    finally:
        await server.stop(grace_s=1)
    assert answers == [[], [], [], []]
    assert recorder.requests == []  # the handler (the referral store behind it) was never asked
    refused = [e for e in logs if e["event"] == "agi.refused"]
    assert len(refused) == 1
    assert (refused[0]["peer"], refused[0]["reason"], refused[0]["script"]) == ("127.0.0.1", "secret", "feature")
    assert TOKEN not in repr(logs)  # the secret is never logged


async def test_a_request_from_an_address_not_allowed_is_refused_even_with_the_secret(
    guarded: tuple[FastAgiServer, Recorder, int],
) -> None:
    server, recorder, port = guarded
    try:
        with capture_logs() as logs:
            answer = await feature_request("127.0.0.1", port, [TOKEN, "*214", "2101"], local="127.0.0.2")
    finally:
        await server.stop(grace_s=1)
    assert answer == [] and recorder.requests == []
    assert [(e["peer"], e["reason"]) for e in logs if e["event"] == "agi.refused"] == [("127.0.0.2", "address")]
