"""Sound files for messages: the admin's recording where there is one, else Swedish speech
generated with espeak-ng (cached by text, so each phrase is synthesised once).

Asterisk plays a file by its path without extension, so Asterisk must see `directory` at
the same path as the service (one machine, or a shared mount).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import structlog

from routing.calllog.events import LogId

log = structlog.get_logger("routing.prompts")

# Formats Asterisk plays natively, best first.
RECORDED_EXTENSIONS = (".wav", ".sln16", ".sln", ".g722", ".ulaw", ".alaw", ".gsm")
SYNTH_TIMEOUT_S = 5.0


Synthesiser = Callable[[str, str, Path], Awaitable[None]]  # (text, voice, target wav)


class Prompts:
    def __init__(self, directory: Path, voice: str = "sv", synthesise: Synthesiser | None = None) -> None:
        self.directory = directory
        self.voice = voice
        self._synthesise = synthesise if synthesise is not None else espeak_synthesise
        self._locks: dict[str, asyncio.Lock] = {}

    def recorded(self, name: str) -> str | None:
        """The path (without extension) of the admin's recording `name`, if it exists."""
        base = self.directory / name
        if any(base.with_name(base.name + ext).exists() for ext in RECORDED_EXTENSIONS):
            return str(base)
        return None

    async def path_for(self, name: str | None, text: str) -> str:
        """A path Asterisk can play: the recording, else synthesised speech of `text`.

        Synthesis failing is logged; the path is returned anyway, Playback then fails and the
        flow goes on to its next step (a missing message never strands a caller)."""
        if name is not None and (found := self.recorded(name)) is not None:
            return found
        key = hashlib.sha256(f"{self.voice}\0{text}".encode()).hexdigest()[:20]
        target = self.directory / "tts" / f"{key}.wav"
        if not target.exists():
            lock = self._locks.setdefault(key, asyncio.Lock())
            async with lock:
                if not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    await self._synthesise(text, self.voice, target)
            self._locks.pop(key, None)
        return str(target.with_suffix(""))


async def espeak_synthesise(text: str, voice: str, target: Path) -> None:
    """Speak `text` with espeak-ng into `target` as 8 kHz mono wav (Asterisk's wav format).
    Failures are logged, never raised: Playback of the missing file then fails and the call
    goes on to its next step."""
    espeak = shutil.which("espeak-ng")
    sox = shutil.which("sox")
    if espeak is None or sox is None:
        log.error(LogId.PROMPT_SYNTH_UNAVAILABLE, missing="espeak-ng" if espeak is None else "sox")
        return
    raw = target.with_name(f".{target.stem}.{os.getpid()}.raw.wav")
    done = target.with_name(f".{target.stem}.{os.getpid()}.wav")
    try:
        # No shell: the text goes to espeak-ng as one argument, whatever it holds.
        await _run(espeak, "-v", voice, "-s", "150", "-w", str(raw), "--", text)
        await _run(sox, str(raw), "-r", "8000", "-c", "1", "-b", "16", str(done))
        done.chmod(0o644)
        done.replace(target)  # atomic: Asterisk never sees half a file
    except (OSError, RuntimeError, TimeoutError) as exc:
        log.error(LogId.PROMPT_SYNTH_FAILED, error=str(exc), chars=len(text))
    finally:
        for leftover in (raw, done):
            leftover.unlink(missing_ok=True)


async def _run(*argv: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    try:
        _, err = await asyncio.wait_for(process.communicate(), SYNTH_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        raise RuntimeError(f"{Path(argv[0]).name} exited {process.returncode}: {err.decode(errors='replace')[:200]}")
