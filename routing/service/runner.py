"""`routing run`: the service's lifetime. Starts the FastAGI server, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

import structlog

from routing.agi.protocol import AgiRequest
from routing.agi.server import FastAgiServer, Handler
from routing.config.schema import Config
from routing.policy.directory import Directory
from routing.service import dialplan_variables as v
from routing.service.call_router import CallRouter, now_local
from routing.service.features import FeatureCodes
from routing.service.prompts import Prompts
from routing.service.referrals import ReferralStore
from routing.store.sqlite import SqliteStore, open_store

log = structlog.get_logger("routing.service")


def _listen_address(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


class AgiApplication:
    """Hands each FastAGI request to the part of the service its script names."""

    def __init__(self, router: CallRouter, features: FeatureCodes) -> None:
        self._handlers: dict[str, Handler] = {
            v.SCRIPT_STEP: router,
            v.SCRIPT_ANSWERED: router,
            v.SCRIPT_HANGUP: router,
            v.SCRIPT_FEATURE: features,
        }

    async def __call__(self, request: AgiRequest) -> Mapping[str, str]:
        handler = self._handlers.get(request.script)
        if handler is None:
            log.warning("agi.unknown_script", script=request.script)
            return {v.ACTION: v.FAILSAFE}
        return await handler(request)


class Service:
    """Everything `routing run` runs, for one config; tests start it in-process."""

    def __init__(
        self,
        config: Config,
        *,
        referrals: ReferralStore | None = None,
        store: SqliteStore | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self.store = store if store is not None else open_store(config.store.url)
        self.referrals: ReferralStore = referrals if referrals is not None else self.store
        prompts = Prompts(Path(config.prompts.dir), config.prompts.voice)
        now = clock if clock is not None else now_local
        self.router = CallRouter(
            Directory.from_config(config),
            self.referrals,
            prompts,
            progress_timeout_s=config.ring.progress_timeout_s,
            clock=now,
            callbacks=self.store,
        )
        self.features = FeatureCodes(lambda: self.router.directory, self.referrals, prompts, now)
        self.agi = FastAgiServer(AgiApplication(self.router, self.features))
        self.agi_address: tuple[str, int] | None = None

    async def start(self) -> None:
        Path(self.config.prompts.dir).mkdir(parents=True, exist_ok=True)
        host, port = _listen_address(self.config.asterisk.agi.listen)
        self.agi_address = await self.agi.start(host, port)
        log.info("service.started", agi=f"{self.agi_address[0]}:{self.agi_address[1]}")

    async def stop(self) -> None:
        await self.agi.stop()
        log.info("service.stopped", calls_in_progress=len(self.router.calls))


async def serve(config: Config) -> int:
    """Run until SIGTERM or SIGINT; exit status 0 after a clean stop."""
    service = Service(config)
    try:
        await service.start()
    except OSError as exc:
        log.error("service.cannot_listen", listen=config.asterisk.agi.listen, error=str(exc))
        return 1
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    await service.stop()
    return 0
