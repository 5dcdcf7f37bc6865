"""A tiny fake AMI server on 127.0.0.1 for the client's unit tests: it speaks the framing
(banner, `Key: value` lines, a blank line after each message), keeps every action it got as
its raw header lines, and answers the few actions the tests need."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

SECRET = "secret"
Lines = list[tuple[str, str]]  # an action's header lines, in the order they came


def frame(*headers: tuple[str, str]) -> bytes:
    return ("".join(f"{key}: {value}\r\n" for key, value in headers) + "\r\n").encode()


def first(lines: Lines, key: str) -> str:
    return next((value for k, value in lines if k.lower() == key.lower()), "")


class FakeAmi:
    """`async with FakeAmi.running() as ami:` … the client connects to 127.0.0.1:`ami.port`.

    Login succeeds with SECRET (unless `answer_login` is off: then it is never answered) and
    is refused otherwise (then the connection is closed, as Asterisk does). `Silent` is never
    answered; `CoreShowChannels` answers with `channels` as a list; `DBGet` of a missing key is
    refused as Asterisk refuses it; anything else gets `Response: Success`."""

    def __init__(self, *, answer_login: bool = True) -> None:
        self.answer_login = answer_login
        self.actions: list[Lines] = []
        self.channels: Sequence[str] = ("PJSIP/1-0001", "PJSIP/2-0002")
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self._got_action = asyncio.Event()

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, *, answer_login: bool = True) -> AsyncIterator[FakeAmi]:
        fake = cls(answer_login=answer_login)
        fake._server = await asyncio.start_server(fake._serve, "127.0.0.1", 0)
        try:
            yield fake
        finally:
            fake._server.close()
            for writer in fake._writers:
                writer.close()
            await fake._server.wait_closed()

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def named(self, action: str) -> list[Lines]:
        return [lines for lines in self.actions if first(lines, "Action").lower() == action.lower()]

    async def wait_for_action(self, action: str, timeout_s: float = 2.0) -> Lines:
        async def arrived() -> Lines:
            while not (found := self.named(action)):
                self._got_action.clear()
                await self._got_action.wait()
            return found[-1]

        return await asyncio.wait_for(arrived(), timeout_s)

    async def push(self, *headers: tuple[str, str]) -> None:
        """An event to every connected client."""
        for writer in self._writers:
            writer.write(frame(*headers))
            await writer.drain()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                lines = [
                    (key, value)
                    for key, _, value in (line.partition(": ") for line in raw.decode().split("\r\n") if line)
                ]
                self.actions.append(lines)
                self._got_action.set()
                if not await self._answer(lines, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.remove(writer)
            writer.close()

    async def _answer(self, lines: Lines, writer: asyncio.StreamWriter) -> bool:
        """Answer one action; False to hang up."""
        action, action_id = first(lines, "Action").lower(), first(lines, "ActionID")
        reply: list[bytes] = []
        keep_open = True
        if action == "login":
            if not self.answer_login:
                return True
            accepted = first(lines, "Secret") == SECRET
            outcome = ("Success", "Authentication accepted") if accepted else ("Error", "Authentication failed")
            reply.append(frame(("Response", outcome[0]), ("ActionID", action_id), ("Message", outcome[1])))
            keep_open = accepted
        elif action == "silent":
            return True
        elif action == "coreshowchannels":
            reply.append(
                frame(
                    ("Response", "Success"),
                    ("ActionID", action_id),
                    ("EventList", "start"),
                    ("Message", "Channels will follow"),
                )
            )
            for name in self.channels:
                reply.append(frame(("Event", "CoreShowChannel"), ("ActionID", action_id), ("Channel", name)))
            reply.append(
                frame(
                    ("Event", "CoreShowChannelsComplete"),
                    ("ActionID", action_id),
                    ("EventList", "Complete"),
                    ("ListItems", str(len(self.channels))),
                )
            )
        elif action == "dbget":
            reply.append(frame(("Response", "Error"), ("ActionID", action_id), ("Message", "Database entry not found")))
        else:
            reply.append(frame(("Response", "Success"), ("ActionID", action_id)))
        for chunk in reply:
            writer.write(chunk)
        await writer.drain()
        return keep_open
