"""The floor of the FastAGI design: a server with no policy, no log and no store that answers
routing-flow's questions for the benchmark's numbers the quickest way this project knows (one
MSet, then its end of the connection). bench/run.py runs the calls through it too: routing's
setup time minus this one's is what the service itself costs.

    python bench/null_agi.py PORT '{"6001": ["Local/answer1-6001@sandbox-phones", "3", "5001@default"]}'
"""

from __future__ import annotations

import asyncio
import json
import sys


async def serve(port: int, numbers: dict[str, list[str]]) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\n", b""):
            name, _, value = line.decode().rstrip("\n").partition(": ")
            headers[name] = value
        device, limit, mailbox = numbers.get(headers.get("agi_extension", ""), ["", "0", ""])
        # agi_arg_1 is the site's secret (from AstDB), which the floor does not check: one
        # string comparison in the service, nothing to measure beside the rest.
        event = headers.get("agi_arg_2", "")
        if headers.get("agi_network_script") != "step" or not device:
            command = ""
        elif event == "start":
            command = f"ROUTING_STEP=person,ROUTING_DIAL={device},ROUTING_TIMEOUT={limit},ROUTING_ACTION=ring"
        elif event == "dial":
            command = f"ROUTING_STEP=voicemail,ROUTING_MAILBOX={mailbox},ROUTING_ACTION=voicemail"
        else:
            command = "ROUTING_STEP=finish,ROUTING_ACTION=finish"
        if command:
            writer.write(f'EXEC MSet "{command}"\n'.encode())
            writer.write_eof()
            await reader.readline()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), json.loads(sys.argv[2])))
