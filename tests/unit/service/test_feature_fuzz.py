"""R11: fuzzed feature codes through the real FastAGI server into the feature handler. Every
code is either applied exactly as the parser reads it or refused with nothing changed; the
answer is always a prompt to play (the caller never hears silence)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.agi.server import FastAgiServer
from routing.policy.feature_codes import ClearReferral, FeatureCodeError, SetReferral, parse_feature_code
from routing.policy.referral import Reason, Referral
from routing.service.features import FeatureCodes
from routing.service.prompts import Prompts
from routing.service.referrals import MemoryReferrals
from tests.unit.policy.builders import at, directory

NOW = at("2026-12-01 10:15")
BEFORE = Referral("soc1", Reason.COURSE)


async def fake_speech(text: str, voice: str, target: Path) -> None:
    target.write_text(text, encoding="utf-8")


async def _ask(port: int, code: str, extension: str) -> list[bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"agi_network_script: feature\nagi_uniqueid: 1.1\nagi_arg_1: {code}\nagi_arg_2: {extension}\n\n".encode()
    )
    await writer.drain()
    commands = []
    while line := await asyncio.wait_for(reader.readline(), 2):
        commands.append(line)
        writer.write(b"200 result=0\n" if line.startswith(b"EXEC MSet") else b"200 result=1\n")
        await writer.drain()
    writer.close()
    return commands


async def _round(code: str, extension: str, prompts_dir: Path) -> tuple[list[bytes], MemoryReferrals]:
    referrals = MemoryReferrals()
    referrals.set(BEFORE)
    d = directory()
    handler = FeatureCodes(lambda: d, referrals, Prompts(prompts_dir, synthesise=fake_speech), lambda: NOW)
    server = FastAgiServer(handler)
    _, port = await server.start("127.0.0.1", 0)
    try:
        return await _ask(port, code, extension), referrals
    finally:
        await server.stop(grace_s=1)


codes = st.one_of(
    st.text(alphabet="0123456789*#", min_size=1, max_size=12),
    st.from_regex(r"\*21[0-9][0-9*]{0,5}", fullmatch=True),
    st.text(min_size=1, max_size=8).filter(lambda s: "\n" not in s and "\r" not in s and "," not in s),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=codes, extension=st.sampled_from(["5001", "5002", "4444", ""]))
def test_r11_fuzzed_codes_apply_exactly_or_change_nothing(code: str, extension: str, tmp_path: Path) -> None:
    commands, referrals = asyncio.run(_round(code, extension, tmp_path))
    # Always something to play: in one MSet, or one SET VARIABLE each (a prompt path MSet cannot carry).
    assert commands[-1].endswith(b',ROUTING_ACTION=play"\n') or commands[-1] == b'SET VARIABLE ROUTING_ACTION "play"\n'
    state = referrals.snapshot().referrals
    person = directory().by_extension.get(extension)
    try:
        action = parse_feature_code(code, person=person.id, now=NOW) if person else None
    except FeatureCodeError:
        action = None
    if action is None:
        assert state == {"soc1": BEFORE}
    elif isinstance(action, ClearReferral):
        assert action.person not in state
    else:
        assert isinstance(action, SetReferral)
        assert state[action.referral.person] == action.referral
