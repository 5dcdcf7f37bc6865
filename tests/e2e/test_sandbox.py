"""The sandbox Asterisk is real, reachable and resettable."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from routing.ami.events import AmiEvent
from routing.sandbox import RunningSandbox, reset, status
from tests.e2e.harness import Ami, AmiError

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("asterisk_reset")]


def _ari_get(sandbox: RunningSandbox, path: str, password: str | None = None) -> object:
    token = f"{sandbox.ari_username}:{password or sandbox.ari_password}"
    request = urllib.request.Request(
        f"{sandbox.ari_url}{path}",
        headers={"Authorization": "Basic " + base64.b64encode(token.encode()).decode()},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.load(reply)


async def _originate(ami: Ami, channel: str, timeout_ms: int = 10000, wait_s: int = 5) -> AmiEvent:
    """Originate a channel running Wait(wait_s) and return its OriginateResponse (the action's
    own response is checked to be Success by the harness)."""
    action_id = await ami.originate_application(channel, "Wait", str(wait_s), timeout_ms=timeout_ms)
    return await ami.originate_response(action_id, timeout=timeout_ms / 1000 + 10)


def _channel_count(sandbox: RunningSandbox) -> int:
    first_line = sandbox.rx("core show channels count").strip().splitlines()[0]
    return int(first_line.split()[0])


def test_asterisk_22_is_fully_booted(asterisk: RunningSandbox) -> None:
    assert "fully booted" in asterisk.rx("core waitfullybooted").lower()
    assert asterisk.version.startswith("22.")
    assert asterisk.rx("core show version").startswith("Asterisk 22.")


def test_voicemail_application_and_mailboxes(asterisk: RunningSandbox) -> None:
    assert "Info about Application 'VoiceMail'" in asterisk.rx("core show application VoiceMail")
    users = asterisk.rx("voicemail show users for default")
    for mailbox in ("5000", "5001", "9000"):
        assert mailbox in users


async def test_ami_login_with_generated_secret(asterisk: RunningSandbox) -> None:
    async with Ami.session(asterisk) as ami:
        # Set only by a greeting that starts `Asterisk Call Manager/`.
        assert ami.protocol_version is not None
        ping = await ami.action("Ping")
        assert ping["Response"] == "Success"


async def test_ami_rejects_a_wrong_secret(asterisk: RunningSandbox) -> None:
    # Asterisk answers the Login with an error: not a timeout, not a refused connection.
    with pytest.raises(AmiError, match="AMI login refused"):
        await Ami.connect(asterisk.ami_host, asterisk.ami_port, asterisk.ami_username, "wrong")


def test_ari_asterisk_info(asterisk: RunningSandbox) -> None:
    info = _ari_get(asterisk, "/asterisk/info")
    assert isinstance(info, dict)
    assert str(info["system"]["version"]).startswith("22.")


def test_ari_rejects_a_wrong_password(asterisk: RunningSandbox) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        _ari_get(asterisk, "/asterisk/info", password="wrong")
    assert caught.value.code == 401


def test_secrets_file_is_private_and_matches(asterisk: RunningSandbox) -> None:
    mode = stat.S_IMODE(os.stat(asterisk.secrets_file).st_mode)
    assert mode == 0o600
    text = asterisk.secrets_file.read_text()
    assert f"ROUTING_AMI_SECRET={asterisk.ami_secret}" in text
    assert f"ROUTING_ARI_PASSWORD={asterisk.ari_password}" in text
    assert status(asterisk.settings).running


async def test_answering_phone_answers(asterisk: RunningSandbox) -> None:
    async with Ami.session(asterisk) as ami:
        started = time.monotonic()
        response = await _originate(ami, "Local/answer1-alice@sandbox-phones")
        assert response["Response"] == "Success"
        # answer1 rings one second before answering.
        assert time.monotonic() - started >= 0.9
        assert _channel_count(asterisk) >= 2


@pytest.mark.parametrize(
    ("phone", "reason"),
    [
        ("ring-bob", "3"),  # ring timeout: never answered
        ("busy-carol", "5"),  # busy
    ],
)
async def test_unanswered_phones(asterisk: RunningSandbox, phone: str, reason: str) -> None:
    async with Ami.session(asterisk) as ami:
        response = await _originate(ami, f"Local/{phone}@sandbox-phones", timeout_ms=2000)
        assert response["Response"] == "Failure"
        assert response["Reason"] == reason


async def test_caller_answers_at_once(asterisk: RunningSandbox) -> None:
    async with Ami.session(asterisk) as ami:
        started = time.monotonic()
        response = await _originate(ami, "Local/caller-dave@sandbox-caller")
        assert response["Response"] == "Success"
        assert time.monotonic() - started < 2


async def test_reset_hangs_up_and_restores_config(asterisk: RunningSandbox) -> None:
    async with Ami.session(asterisk) as ami:
        await ami.originate_application("Local/ring-erin@sandbox-phones", "Wait", "60", timeout_ms=60000)
        deadline = time.monotonic() + 10
        while _channel_count(asterisk) == 0:
            assert time.monotonic() < deadline, "originated channel never appeared"
            await asyncio.sleep(0.1)
    leftover = asterisk.root_dir / "etc" / "asterisk" / "extensions_leftover.conf"
    leftover.write_text("[leftover]\n")
    reset(asterisk.settings)
    assert _channel_count(asterisk) == 0
    assert not leftover.exists()
    assert "sandbox-phones" in asterisk.rx("dialplan show sandbox-phones")


def test_swedish_speech_in_the_root(asterisk: RunningSandbox) -> None:
    result = subprocess.run(
        ["chroot", str(asterisk.root_dir), "espeak-ng", "-v", "sv", "--stdout", "hej"],
        capture_output=True,
        check=True,
    )
    assert result.stdout.startswith(b"RIFF")


async def test_voicemail_records_a_message_and_reset_removes_it(asterisk: RunningSandbox) -> None:
    inbox = asterisk.root_dir / "var/spool/asterisk/voicemail/default/5001/INBOX"
    async with Ami.session(asterisk) as ami:
        await ami.originate_application("Local/caller-grace@sandbox-caller", "VoiceMail", "5001@default,s")
        # The caller plays silence files; 3 s of them beats minsecs=1.
        await asyncio.sleep(3)
        asterisk.rx("channel request hangup all")
        deadline = time.monotonic() + 10
        while not list(inbox.glob("msg*.txt")):
            assert time.monotonic() < deadline, "no voicemail message recorded"
            await asyncio.sleep(0.2)
    reset(asterisk.settings)
    assert not inbox.exists()
    assert "5001" in asterisk.rx("voicemail show users for default")
