"""Sound files for messages: the admin's recording where there is one, else Swedish speech
generated with espeak-ng (cached by text, so each phrase is synthesised once).

Asterisk plays a file by its path without extension, so it must see `directory` at the same
path as the service (one machine, or a shared mount) — or, with a `base_url`, it plays the
address the service serves the file at (prompt_server.py) and keeps it in its media cache.
Every address names its content (generated speech by the hash of its text, a recording by
the hash of its bytes), so a re-recorded prompt gets a new address and no cache goes stale.
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
    def __init__(
        self,
        directory: Path,
        voice: str = "sv",
        synthesise: Synthesiser | None = None,
        *,
        base_url: str | None = None,
    ) -> None:
        self.directory = directory
        self.voice = voice
        self.base_url = base_url
        self._synthesise = synthesise if synthesise is not None else espeak_synthesise
        self._locks: dict[str, asyncio.Lock] = {}
        self._digests: dict[Path, tuple[int, int, str]] = {}  # recording -> (mtime_ns, size, digest)

    def recording(self, name: str) -> Path | None:
        """The admin's recording `name` (NAME.wav, NAME.sln16 …), if it exists."""
        for ext in RECORDED_EXTENSIONS:
            found = self.directory / f"{name}{ext}"
            if found.is_file():
                return found
        return None

    def recorded(self, name: str) -> str | None:
        """What Asterisk plays for the recording `name`, if it exists."""
        found = self.recording(name)
        if found is None:
            return None
        if self.base_url is None:
            return str(found.with_suffix(""))
        return f"{self.base_url}/rec/{self.digest(found)}/{found.name}"

    def digest(self, recording: Path) -> str:
        """The first 16 hex digits of the recording's SHA-256, computed again only when the
        file changed (a recording is a few hundred kB: read once, not for every call)."""
        stat = recording.stat()
        known = self._digests.get(recording)
        if known is not None and known[:2] == (stat.st_mtime_ns, stat.st_size):
            return known[2]
        digest = hashlib.sha256(recording.read_bytes()).hexdigest()[:16]
        self._digests[recording] = (stat.st_mtime_ns, stat.st_size, digest)
        return digest

    async def path_for(self, name: str | None, text: str) -> str:
        """What Asterisk plays: the recording, else synthesised speech of `text`; a path
        without extension, or with a `base_url` the address the service serves it at.

        Synthesis failing is logged; the path is returned anyway, Playback then fails, the
        dialplan says so (prompt.not_played) and the flow goes on to its next step (a missing
        message never strands a caller)."""
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
        if self.base_url is not None:
            return f"{self.base_url}/tts/{target.name}"
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
