"""A FastAGI server on asyncio streams: bounded, timed out, and never blocking the loop.

Every request is: read the headers (bounded in size and time), ask the handler for the
channel variables to set, send them pipelined, read one reply each, close. A port probe,
garbage or a silent peer costs one short-lived task, never a spin or a leak.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import structlog

from routing.agi.protocol import MAX_LINE, AgiProtocolError, AgiRequest, RequestParser, parse_reply, set_variable

Handler = Callable[[AgiRequest], Awaitable[Mapping[str, str]]]
log = structlog.get_logger("routing.agi")


@dataclass(frozen=True)
class Limits:
    header_timeout_s: float = 5.0  # Asterisk sends all headers at once; a slow peer is not Asterisk
    handler_timeout_s: float = 5.0
    reply_timeout_s: float = 5.0
    max_connections: int = 512


class FastAgiServer:
    def __init__(self, handler: Handler, limits: Limits = Limits()) -> None:
        self._handler = handler
        self._limits = limits
        self._server: asyncio.Server | None = None
        self._active: set[asyncio.Task[None]] = set()

    @property
    def active(self) -> int:
        return len(self._active)

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._accept, host, port, limit=MAX_LINE * 2)
        address = self._server.sockets[0].getsockname()
        log.info("agi.listening", host=address[0], port=address[1])
        return address[0], address[1]

    async def stop(self, grace_s: float = 5.0) -> None:
        """Stop accepting; let requests in progress finish within `grace_s`."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._active:
            _, pending = await asyncio.wait(set(self._active), timeout=grace_s)
            for task in pending:
                task.cancel()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - always inside a task
            return
        if len(self._active) >= self._limits.max_connections:
            log.warning("agi.overloaded", limit=self._limits.max_connections)
            writer.close()
            return
        self._active.add(task)
        try:
            await self._serve(reader, writer)
        finally:
            self._active.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            request = await asyncio.wait_for(_read_request(reader), self._limits.header_timeout_s)
        except EOFError:
            log.debug("agi.closed_early", peer=str(peer))  # a port probe or a health check
            return
        except (AgiProtocolError, TimeoutError, ValueError, ConnectionError) as exc:
            log.warning("agi.bad_request", peer=str(peer), error=_describe(exc))
            return
        try:
            variables = await asyncio.wait_for(self._handler(request), self._limits.handler_timeout_s)
        except TimeoutError:
            log.error("agi.handler_timeout", script=request.script, uniqueid=request.uniqueid)
            return
        except Exception:
            # A bug or a broken dependency must not take the server down: this request gets
            # no answer, and the dialplan's fail-safe finishes the call.
            log.exception("agi.handler_failed", script=request.script, uniqueid=request.uniqueid)
            return
        try:
            await asyncio.wait_for(self._send(reader, writer, variables), self._limits.reply_timeout_s)
        except (AgiProtocolError, TimeoutError, ValueError, ConnectionError) as exc:
            log.warning("agi.send_failed", script=request.script, uniqueid=request.uniqueid, error=_describe(exc))

    async def _send(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, variables: Mapping[str, str]
    ) -> None:
        # One command at a time: Asterisk reads a FastAGI socket line by line and answers
        # pipelined commands unreliably (measured: one reply for three commands).
        for name, value in variables.items():
            writer.write(set_variable(name, value))
            await writer.drain()
            reply = parse_reply(await _read_line(reader))
            # '520-' usage text runs on; a HANGUP line (AGISIGHUP left on) comes before the reply.
            while reply.more or reply.data == "HANGUP":
                reply = parse_reply(await _read_line(reader))
            if not reply.ok:
                raise AgiProtocolError(f"Asterisk refused a command: {reply.code} {reply.data}")


async def _read_line(reader: asyncio.StreamReader) -> str:
    raw = await reader.readline()
    if not raw:
        raise ConnectionError("Asterisk closed the connection")
    return raw.decode("utf-8", errors="replace")


async def _read_request(reader: asyncio.StreamReader) -> AgiRequest:
    parser = RequestParser()
    first = True
    while not parser.done:
        raw = await reader.readline()
        if not raw:
            if first:
                raise EOFError
            raise AgiProtocolError("connection closed in the middle of the headers")
        first = False
        parser.feed_line(raw.rstrip(b"\n"))
    return parser.request()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
