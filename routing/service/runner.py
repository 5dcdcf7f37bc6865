"""`routing run`: the service's lifetime. Starts the FastAGI server, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import structlog

from routing.agi.server import FastAgiServer
from routing.config.schema import Config
from routing.policy.directory import Directory
from routing.service.call_router import CallRouter
from routing.service.prompts import Prompts
from routing.service.referrals import MemoryReferrals, ReferralSource

log = structlog.get_logger("routing.service")


def _listen_address(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


class Service:
    """Everything `routing run` runs, for one config; tests start it in-process."""

    def __init__(
        self,
        config: Config,
        *,
        referrals: ReferralSource | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self.referrals = referrals if referrals is not None else MemoryReferrals()
        prompts = Prompts(Path(config.prompts.dir), config.prompts.voice)
        extra = {"clock": clock} if clock is not None else {}
        self.router = CallRouter(
            Directory.from_config(config),
            self.referrals,
            prompts,
            progress_timeout_s=config.ring.progress_timeout_s,
            **extra,
        )
        self.agi = FastAgiServer(self.router)
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
