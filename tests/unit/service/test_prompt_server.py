"""Prompts served to Asterisk over HTTP (#11: no shared folder): every address names its
content, only allowed addresses may fetch, nothing outside the prompt folder is served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from routing.agi.admission import Admission
from routing.service.prompt_server import PromptServer
from routing.service.prompts import Prompts


async def fake_speech(text: str, voice: str, target: Path) -> None:
    target.write_bytes(b"RIFF" + text.encode())


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Prompts, str]]:
    prompts = Prompts(tmp_path, synthesise=fake_speech, base_url="http://placeholder")
    server = PromptServer(prompts, Admission.of(("127.0.0.1",), None))
    host, port = await server.start("127.0.0.1", 0)
    prompts.base_url = f"http://{host}:{port}"
    try:
        yield prompts, prompts.base_url
    finally:
        await server.stop()


async def _get(url: str, local: str = "127.0.0.1") -> tuple[int, bytes, str]:
    connector = aiohttp.TCPConnector(local_addr=(local, 0))
    async with aiohttp.ClientSession(connector=connector) as session, session.get(url) as response:
        return response.status, await response.read(), response.headers.get("Cache-Control", "")


async def test_generated_speech_is_served_at_the_address_prompts_hands_out(served: tuple[Prompts, str]) -> None:
    prompts, _ = served
    url = await prompts.path_for(None, "Anna sitter i möte.")
    assert url.endswith(".wav") and "/tts/" in url
    status, body, cache = await _get(url)
    assert (status, body) == (200, "RIFFAnna sitter i möte.".encode())
    assert "immutable" in cache  # the address names its content: Asterisk may keep it


async def test_a_re_recorded_prompt_gets_a_new_address_and_the_old_one_is_gone(
    served: tuple[Prompts, str], tmp_path: Path
) -> None:
    prompts, _ = served
    (tmp_path / "soc-telefontid.wav").write_bytes(b"RIFF-first")
    first = await prompts.path_for("soc-telefontid", "unused")
    assert first.endswith("/soc-telefontid.wav") and "/rec/" in first
    assert (await _get(first))[:2] == (200, b"RIFF-first")
    (tmp_path / "soc-telefontid.wav").write_bytes(b"RIFF-second, longer")
    second = await prompts.path_for("soc-telefontid", "unused")
    assert second != first
    assert (await _get(second))[:2] == (200, b"RIFF-second, longer")
    assert (await _get(first))[0] == 404


@pytest.mark.parametrize(
    "path",
    [
        "/tts/../../etc/passwd",
        "/tts/notahash.wav",
        "/rec/0000000000000000/soc-telefontid.wav",
        "/rec/x/..%2Fsecret.wav",
    ],
)
async def test_nothing_but_what_prompts_hands_out_is_served(served: tuple[Prompts, str], path: str) -> None:
    _, base = served
    assert (await _get(base + path))[0] == 404


async def test_an_address_not_allowed_cannot_fetch(served: tuple[Prompts, str]) -> None:
    prompts, _ = served
    url = await prompts.path_for(None, "Mobilnummer: 0 7 0 1 2 3 4 5 6 7.")
    assert (await _get(url, local="127.0.0.2"))[0] == 403


async def test_without_http_asterisk_plays_the_file_by_its_path(tmp_path: Path) -> None:
    prompts = Prompts(tmp_path, synthesise=fake_speech)
    path = await prompts.path_for(None, "Hej.")
    assert Path(path + ".wav").is_file() and path.startswith(str(tmp_path / "tts"))
