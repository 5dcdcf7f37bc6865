"""The sandbox Asterisk is real, reachable and resettable."""

from __future__ import annotations

import base64
import json
import os
import socket
import stat
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from routing.sandbox import RunningSandbox, reset, status

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("asterisk_reset")]

Message = dict[str, str]


class Ami:
    """The smallest AMI client that proves the wire protocol works."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""
        self.banner = self._read_line()

    def _read_line(self) -> str:
        while b"\r\n" not in self._buffer:
            self._fill()
        line, _, self._buffer = self._buffer.partition(b"\r\n")
        return line.decode()

    def _fill(self) -> None:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ConnectionError("AMI closed the connection")
        self._buffer += chunk

    def read_message(self) -> Message:
        while b"\r\n\r\n" not in self._buffer:
            self._fill()
        raw, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        message: Message = {}
        for line in raw.decode(errors="replace").split("\r\n"):
            key, sep, value = line.partition(":")
            if sep:
                message[key.strip()] = value.strip()
        return message

    def send(self, action: str, **fields: str) -> str:
        action_id = uuid.uuid4().hex
        lines = [f"Action: {action}", f"ActionID: {action_id}"]
        lines += [f"{key}: {value}" for key, value in fields.items()]
        self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return action_id

    def wait_for(self, predicate: Callable[[Message], bool], timeout: float = 15) -> Message:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                message = self.read_message()
            except TimeoutError:
                break
            if predicate(message):
                return message
        raise AssertionError(f"no matching AMI message within {timeout}s")

    def response(self, action_id: str) -> Message:
        return self.wait_for(lambda m: m.get("ActionID") == action_id and "Response" in m)


@contextmanager
def ami_session(sandbox: RunningSandbox, secret: str | None = None) -> Iterator[Ami]:
    with socket.create_connection((sandbox.ami_host, sandbox.ami_port), timeout=10) as sock:
        ami = Ami(sock)
        action_id = ami.send(
            "Login",
            Username=sandbox.ami_username,
            Secret=sandbox.ami_secret if secret is None else secret,
        )
        login = ami.response(action_id)
        if login["Response"] != "Success":
            raise PermissionError(login.get("Message", "login failed"))
        yield ami


def _ari_get(sandbox: RunningSandbox, path: str, password: str | None = None) -> object:
    token = f"{sandbox.ari_username}:{password or sandbox.ari_password}"
    request = urllib.request.Request(
        f"{sandbox.ari_url}{path}",
        headers={"Authorization": "Basic " + base64.b64encode(token.encode()).decode()},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.load(reply)


def _originate(ami: Ami, channel: str, timeout_ms: int = 10000, wait_s: int = 5) -> Message:
    """Originate a channel running Wait(wait_s) and return its OriginateResponse."""
    action_id = ami.send(
        "Originate",
        Channel=channel,
        Application="Wait",
        Data=str(wait_s),
        Timeout=str(timeout_ms),
        Async="true",
    )
    assert ami.response(action_id)["Response"] == "Success"
    return ami.wait_for(
        lambda m: m.get("Event") == "OriginateResponse" and m.get("ActionID") == action_id,
        timeout=timeout_ms / 1000 + 10,
    )


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


def test_ami_login_with_generated_secret(asterisk: RunningSandbox) -> None:
    with ami_session(asterisk) as ami:
        assert ami.banner.startswith("Asterisk Call Manager/")
        ping = ami.response(ami.send("Ping"))
        assert ping["Response"] == "Success"


def test_ami_rejects_a_wrong_secret(asterisk: RunningSandbox) -> None:
    with pytest.raises(PermissionError), ami_session(asterisk, secret="wrong"):
        pass


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


def test_answering_phone_answers(asterisk: RunningSandbox) -> None:
    with ami_session(asterisk) as ami:
        started = time.monotonic()
        response = _originate(ami, "Local/answer1-alice@sandbox-phones")
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
def test_unanswered_phones(asterisk: RunningSandbox, phone: str, reason: str) -> None:
    with ami_session(asterisk) as ami:
        response = _originate(ami, f"Local/{phone}@sandbox-phones", timeout_ms=2000)
        assert response["Response"] == "Failure"
        assert response["Reason"] == reason


def test_caller_answers_at_once(asterisk: RunningSandbox) -> None:
    with ami_session(asterisk) as ami:
        started = time.monotonic()
        response = _originate(ami, "Local/caller-dave@sandbox-caller")
        assert response["Response"] == "Success"
        assert time.monotonic() - started < 2


def test_reset_hangs_up_and_restores_config(asterisk: RunningSandbox) -> None:
    with ami_session(asterisk) as ami:
        ami.send(
            "Originate",
            Channel="Local/ring-erin@sandbox-phones",
            Application="Wait",
            Data="60",
            Timeout="60000",
            Async="true",
        )
        deadline = time.monotonic() + 10
        while _channel_count(asterisk) == 0:
            assert time.monotonic() < deadline, "originated channel never appeared"
            time.sleep(0.1)
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


def test_voicemail_records_a_message_and_reset_removes_it(asterisk: RunningSandbox) -> None:
    inbox = asterisk.root_dir / "var/spool/asterisk/voicemail/default/5001/INBOX"
    with ami_session(asterisk) as ami:
        action_id = ami.send(
            "Originate",
            Channel="Local/caller-grace@sandbox-caller",
            Application="VoiceMail",
            Data="5001@default,s",
            Async="true",
        )
        assert ami.response(action_id)["Response"] == "Success"
        # The caller plays silence files; 3 s of them beats minsecs=1.
        time.sleep(3)
        asterisk.rx("channel request hangup all")
        deadline = time.monotonic() + 10
        while not list(inbox.glob("msg*.txt")):
            assert time.monotonic() < deadline, "no voicemail message recorded"
            time.sleep(0.2)
    reset(asterisk.settings)
    assert not inbox.exists()
    assert "5001" in asterisk.rx("voicemail show users for default")
