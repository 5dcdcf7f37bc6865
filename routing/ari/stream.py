"""The events WebSocket: connected again and again with backoff, one log line per state change,
and after every connection a resync, because Asterisk replays nothing that happened while the
socket was down.

Order of things on each connection: the socket is opened (this registers the app in Asterisk,
so channels entering Stasis() are held for it from then on), the app's channels and bridges are
read and handed to `on_resync`, then events are read. Events Asterisk sent during the resync wait
in the socket and come after it: a handler can see an event about a channel the resync already
showed gone (a StasisEnd for a channel it does not know), and must take that in its stride.

Handlers run one at a time in the order of the events; a slow one holds up the rest (start a
task for long work). A handler that raises is logged (ari.handler_failed) and the stream goes on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import aiohttp
import structlog
from structlog.typing import FilteringBoundLogger

from routing.ari.backoff import Backoff
from routing.ari.client import AriClient
from routing.ari.errors import AriError
from routing.ari.events import AriEvent, parse_frame
from routing.ari.models import Bridge, Channel
from routing.calllog.events import LogId

log = structlog.get_logger("routing.ari")

HEARTBEAT_S = 10.0  # a WebSocket ping; no pong within half of it and the socket counts as dropped


@dataclass(frozen=True)
class Resync:
    """The app's channels and bridges as Asterisk has them right after a (re)connection."""

    channels: tuple[Channel, ...]
    bridges: tuple[Bridge, ...]


EventHandler = Callable[[AriEvent], Awaitable[None]]
ResyncHandler = Callable[[Resync], Awaitable[None]]
State = Literal["new", "connected", "disconnected", "unreachable", "refused", "stopped"]


async def read_resync(client: AriClient) -> Resync:
    """The channels and bridges the app is subscribed to (its own: those in Stasis(app), those it
    originated, the bridges it made), read whole."""
    app = await client.application()
    wanted_channels, wanted_bridges = set(app.channel_ids), set(app.bridge_ids)
    channels = tuple(c for c in await client.channels() if c.id in wanted_channels) if wanted_channels else ()
    bridges = tuple(b for b in await client.bridges() if b.id in wanted_bridges) if wanted_bridges else ()
    return Resync(channels=channels, bridges=bridges)


class AriEventStream:
    def __init__(
        self,
        client: AriClient,
        on_event: EventHandler,
        on_resync: ResyncHandler,
        *,
        backoff: Backoff | None = None,
        heartbeat_s: float = HEARTBEAT_S,
        logger: FilteringBoundLogger | None = None,
    ) -> None:
        self._client = client
        self._on_event = on_event
        self._on_resync = on_resync
        self._backoff = backoff if backoff is not None else Backoff()
        self._heartbeat_s = heartbeat_s
        self._log = logger if logger is not None else log
        self._where = {"url": client.base_url, "app": client.app}  # never the credentials
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._stopping = False
        self._stopped = asyncio.Event()  # wakes `run` from its wait between attempts
        self.state: State = "new"
        self.connections = 0  # how many times the socket was opened and resynced
        self.connected = asyncio.Event()  # set while connected and resynced

    async def run(self) -> None:
        """Until `stop`: connect, resync, read; after a drop or a failed attempt wait and again.
        A stream stopped can be run again (an instance that becomes the active one again, #17)."""
        self._stopping = False
        self._stopped.clear()
        while not self._stopping:
            ws = await self._open()
            if ws is not None and self._stopping:  # stopped while the socket was being opened
                await ws.close()
                self._dropped(ws)
                break
            if ws is not None:
                try:
                    if await self._resync():
                        await self._read(ws)
                finally:
                    self.connected.clear()
                    self._ws = None
                    await ws.close()
                    self._dropped(ws)
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), self._backoff.next_delay())
        self.state = "stopped"

    async def stop(self) -> None:
        """Stop reconnecting and close the socket (the app is unregistered in Asterisk)."""
        self._stopping = True
        self._stopped.set()
        if self._ws is not None:
            await self._ws.close()

    async def drop(self) -> None:
        """Close the socket from this side; `run` connects again (and resyncs) as after any drop."""
        if self._ws is not None:
            await self._ws.close()

    async def _open(self) -> aiohttp.ClientWebSocketResponse | None:
        try:
            async with asyncio.timeout(self._client.timeout_s):
                ws = await self._client.session().ws_connect(
                    self._client.events_url(), heartbeat=self._heartbeat_s, autoping=True
                )
        except aiohttp.WSServerHandshakeError as exc:
            self._failed(exc.status, exc.message)
            return None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            self._failed(None, str(exc) or type(exc).__name__)
            return None
        self._ws = ws
        self._backoff.reset()
        self.state = "connected"
        self._log.info(LogId.ARI_CONNECTED, **self._where)
        return ws

    def _failed(self, status: int | None, detail: str) -> None:
        """One line per outage (and one per refusal), not one per attempt."""
        if status in (401, 403):
            if self.state != "refused":
                self.state = "refused"
                self._log.error(
                    LogId.ARI_REFUSED,
                    **self._where,
                    status=status,
                    username=self._client.username,
                    what="check asterisk.ari.username and the password against ari.conf; retrying",
                )
            return
        if self.state != "unreachable":
            self.state = "unreachable"
            self._log.warning(
                LogId.ARI_UNREACHABLE,
                **self._where,
                status=status,
                error=detail,
                detail="retrying, less often the longer it lasts",
            )

    def _dropped(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        if self.state == "connected":
            self.state = "disconnected"
            exc = ws.exception()
            self._log.warning(
                LogId.ARI_DISCONNECTED,
                **self._where,
                close_code=int(ws.close_code) if ws.close_code is not None else None,
                error=str(exc) if exc is not None else None,
                by_us=self._stopping,
            )

    async def _resync(self) -> bool:
        try:
            resync = await read_resync(self._client)
        except AriError as exc:
            # Without the state the handlers would act blind: drop and try again.
            self._log.warning(LogId.ARI_REQUEST_FAILED, **self._where, error=str(exc), what="resync; reconnecting")
            return False
        self.connections += 1
        self._log.info(LogId.ARI_RESYNCED, **self._where, channels=len(resync.channels), bridges=len(resync.bridges))
        try:
            await self._on_resync(resync)
        except Exception as exc:  # a handler's fault must not stop the stream
            self._log.exception(LogId.ARI_HANDLER_FAILED, **self._where, ari_event="resync", error=str(exc))
        self.connected.set()
        return True

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue  # pings are answered by aiohttp; ARI sends text frames only
            try:
                event = parse_frame(message.data)
            except ValueError:
                self._log.warning(LogId.ARI_EVENT_UNREADABLE, **self._where, length=len(message.data))
                continue
            try:
                await self._on_event(event)
            except Exception as exc:
                channel = getattr(event, "channel", None)
                self._log.exception(
                    LogId.ARI_HANDLER_FAILED,
                    **self._where,
                    ari_event=event.type,
                    channel=channel.id if isinstance(channel, Channel) else None,
                    caller=channel.caller.number if isinstance(channel, Channel) else None,
                    error=str(exc),
                )
