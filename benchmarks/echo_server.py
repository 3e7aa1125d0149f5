"""The least a Python stdio server can do: frame, parse, answer null. The suite measures it beside
the real servers to show how much of a round trip is the transport itself."""

from __future__ import annotations

import asyncio
import json
import sys


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    out = sys.stdout.buffer
    while header := await reader.readline():
        length = int(header.split(b":")[1])
        await reader.readline()
        message = json.loads(await reader.readexactly(length))
        if message.get("method") == "exit":
            return
        if "id" in message:
            result = {"capabilities": {}} if message["method"] == "initialize" else None
            body = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}).encode()
            out.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            out.flush()


if __name__ == "__main__":
    asyncio.run(main())
