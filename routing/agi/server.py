"""A FastAGI server on asyncio streams: bounded, timed out, and never blocking the loop.

Every request is: admit the peer (an allowed address), read the headers (bounded in size and
time), admit the request (the shared secret, its first argument, which the handler never
sees), ask the handler for the channel variables to set, send them (in one MSet where the
values allow), read the replies, close. A port probe, garbage, a silent or a forged peer
costs one short-lived task, never a spin or a leak, and changes nothing: a refused request
gets no answer, so the dialplan's fail-safe finishes the call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace

import structlog

from routing.agi.admission import Admission, Refusal, RefusalLog
from routing.agi.protocol import (
    MAX_LINE,
    AgiProtocolError,
    AgiRequest,
    Reply,
    RequestParser,
    mset_command,
    parse_reply,
    set_variable,
)
from routing.calllog.events import LogId

Handler = Callable[[AgiRequest], Awaitable[Mapping[str, str]]]
log = structlog.get_logger("routing.agi")


@dataclass(frozen=True)
class Limits:
    header_timeout_s: float = 5.0  # Asterisk sends all headers at once; a slow peer is not Asterisk
    handler_timeout_s: float = 5.0
    reply_timeout_s: float = 5.0
    max_connections: int = 512


class FastAgiServer:
    def __init__(self, handler: Handler, limits: Limits = Limits(), admission: Admission | None = None) -> None:
        """`admission` None admits every peer and request (a server tested on its own)."""
        self._handler = handler
        self._limits = limits
        self.admission = admission
        self._refusals = RefusalLog()
        self._server: asyncio.Server | None = None
        self._active: set[asyncio.Task[None]] = set()
        self._mset_refused = False

    @property
    def active(self) -> int:
        return len(self._active)

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._accept, host, port, limit=MAX_LINE * 2)
        address = self._server.sockets[0].getsockname()
        log.info(LogId.AGI_LISTENING, host=address[0], port=address[1])
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
            log.warning(LogId.AGI_OVERLOADED, limit=self._limits.max_connections)
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

    def _refuse(self, peer: object, reason: Refusal, script: str = "") -> None:
        host = peer[0] if isinstance(peer, tuple) and peer else str(peer)
        since = self._refusals.should_log(str(host), reason, asyncio.get_running_loop().time())
        if since is not None:
            log.warning(
                LogId.AGI_REFUSED,
                peer=str(host),
                reason=reason.value,
                script=script or None,
                refused_since_last=since,
                what="not Asterisk (asterisk.agi.allow, the AstDB secret): nothing done, no answer",
            )

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        admission = self.admission
        if admission is not None and not admission.address_allowed(str(peer[0] if peer else "")):
            self._refuse(peer, Refusal.ADDRESS)
            return
        try:
            # asyncio.timeout, not wait_for: the request runs in this task, with no task per
            # step and no turn of the event loop between the answer and sending it.
            async with asyncio.timeout(self._limits.header_timeout_s):
                request = await _read_request(reader)
        except EOFError:
            log.debug(LogId.AGI_CLOSED_EARLY, peer=str(peer))  # a port probe or a health check
            return
        except (AgiProtocolError, TimeoutError, ValueError, ConnectionError) as exc:
            log.warning(LogId.AGI_BAD_REQUEST, peer=str(peer), error=_describe(exc))
            return
        if admission is not None and admission.token is not None:
            if not admission.secret_matches(request.args):
                self._refuse(peer, Refusal.SECRET, request.script)
                return
            request = replace(request, args=request.args[1:])  # the handler never sees the secret
        try:
            async with asyncio.timeout(self._limits.handler_timeout_s):
                variables = await self._handler(request)
        except TimeoutError:
            log.error(LogId.AGI_HANDLER_TIMEOUT, script=request.script, uniqueid=request.uniqueid)
            return
        except Exception:
            # A bug or a broken dependency must not take the server down: this request gets
            # no answer, and the dialplan's fail-safe finishes the call.
            log.exception(LogId.AGI_HANDLER_FAILED, script=request.script, uniqueid=request.uniqueid)
            return
        try:
            async with asyncio.timeout(self._limits.reply_timeout_s):
                await self._send(reader, writer, variables)
        except (AgiProtocolError, TimeoutError, ValueError, ConnectionError) as exc:
            log.warning(LogId.AGI_SEND_FAILED, script=request.script, uniqueid=request.uniqueid, error=_describe(exc))

    async def _send(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, variables: Mapping[str, str]
    ) -> None:
        # Every round trip delays the call, so the variables go in one MSet when their values
        # allow it, and the last command is followed by our end of the connection: Asterisk
        # carries it out, sees the end and goes on with the dialplan without waiting for us to
        # read its reply and close. (Commands are never pipelined: Asterisk answered pipelined
        # commands unreliably, measured: one reply for three.)
        mset = None if self._mset_refused else mset_command(variables)
        commands = [mset] if mset is not None else [set_variable(name, value) for name, value in variables.items()]
        for number, command in enumerate(commands, start=1):
            last = number == len(commands)
            writer.write(command)
            if last and writer.can_write_eof():
                writer.write_eof()
            await writer.drain()
            reply = await _reply(reader)
            if reply.ok and (mset is None or reply.result == "0"):
                continue
            if mset is not None and reply.ok:
                # No MSet in this Asterisk (older than 13.8): this call's variables are lost
                # (it takes the fail-safe), later calls get one SET VARIABLE each.
                self._mset_refused = True
                log.error(LogId.AGI_MSET_REFUSED, result=reply.result, what="variables are set one at a time from now")
            raise AgiProtocolError(f"Asterisk refused a command: {reply.code} {reply.data}")


async def _reply(reader: asyncio.StreamReader) -> Reply:
    reply = parse_reply(await _read_line(reader))
    # '520-' usage text runs on; a HANGUP line (AGISIGHUP left on) comes before the reply.
    while reply.more or reply.data == "HANGUP":
        reply = parse_reply(await _read_line(reader))
    return reply


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
