"""A local process acting as Asterisk on the FastAGI port (#11): what a forged request gets
back. Shared by the admission tests of the server alone and of the real service."""

from __future__ import annotations

import asyncio


async def feature_request(host: str, port: int, args: list[str], *, local: str = "127.0.0.1") -> list[bytes]:
    """Send a `feature` request from `local` with `args` (agi_arg_1 …), acknowledge every
    command the server sends, and return those commands; [] when refused."""
    reader, writer = await asyncio.open_connection(host, port, local_addr=(local, 0))
    lines = [b"agi_network_script: feature", b"agi_uniqueid: 1.1", b"agi_channel: PJSIP/5001-00000001"]
    lines += [f"agi_arg_{n}: {arg}".encode() for n, arg in enumerate(args, start=1)]
    answer: list[bytes] = []
    try:
        writer.write(b"\n".join(lines) + b"\n\n")
        await writer.drain()
        while line := await asyncio.wait_for(reader.readline(), 3):
            answer.append(line)
            writer.write(b"200 result=0\n")
            await writer.drain()
    except ConnectionResetError:
        pass  # refused before the request was read: Asterisk sees the same, and fails safe
    writer.close()
    return answer
