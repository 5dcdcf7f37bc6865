"""Serves the prompts to Asterisk over HTTP (`prompts.http`): Asterisk plays the address the
service gives (Playback(http://…/tts/KEY.wav)) and keeps what it fetched in its media cache,
so Asterisk may run on another host or in a container without a shared folder (#11).

Only what Prompts hands out is served: generated speech by its key, a recording by its name
and the digest of its content (an old digest is gone: the new recording has a new address).
Only allowed addresses may fetch (asterisk.agi.allow: the messages name people and their
mobile numbers); every address names its content, so Asterisk may cache it for good.
"""

from __future__ import annotations

import re

import structlog
from aiohttp import web

from routing.agi.admission import Admission
from routing.calllog.events import LogId
from routing.service.prompts import RECORDED_EXTENSIONS, Prompts

log = structlog.get_logger("routing.prompts")

_TTS = re.compile(r"^[0-9a-f]{20}\.wav$")
_RECORDING = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_FOREVER = "public, max-age=31536000, immutable"


class PromptServer:
    def __init__(self, prompts: Prompts, admission: Admission) -> None:
        self._prompts = prompts
        self._admission = admission
        app = web.Application()
        app.router.add_get("/tts/{name}", self._tts)
        app.router.add_get("/rec/{digest}/{name}", self._recording)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        self.address: tuple[str, int] | None = None

    async def start(self, host: str, port: int) -> tuple[str, int]:
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_address=True)
        await site.start()
        bound = self._runner.addresses[0]  # port 0 means "any": the one bound
        self.address = (str(bound[0]), int(bound[1]))
        log.info(LogId.PROMPTS_SERVING, host=self.address[0], port=self.address[1], url=self._prompts.base_url)
        return self.address

    async def stop(self) -> None:
        await self._runner.cleanup()

    def _admit(self, request: web.Request) -> None:
        if not self._admission.address_allowed(request.remote or ""):
            log.warning(LogId.PROMPTS_REFUSED, peer=request.remote, path=request.path)
            raise web.HTTPForbidden()

    async def _tts(self, request: web.Request) -> web.StreamResponse:
        self._admit(request)
        name = request.match_info["name"]
        path = self._prompts.directory / "tts" / name
        if not _TTS.match(name) or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Cache-Control": _FOREVER, "Content-Type": "audio/x-wav"})

    async def _recording(self, request: web.Request) -> web.StreamResponse:
        self._admit(request)
        name, digest = request.match_info["name"], request.match_info["digest"]
        ext = "." + name.rpartition(".")[2]
        if not _RECORDING.match(name) or ext not in RECORDED_EXTENSIONS:
            raise web.HTTPNotFound()
        path = self._prompts.directory / name
        if not path.is_file() or self._prompts.digest(path) != digest:
            raise web.HTTPNotFound()
        content = "audio/x-wav" if ext == ".wav" else "application/octet-stream"
        return web.FileResponse(path, headers={"Cache-Control": _FOREVER, "Content-Type": content})
