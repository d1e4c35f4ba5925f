"""A slow counting origin for the collapse scenario: `python -m bench.origin --port N`.

Every GET is counted by path, then answered after `--delay` seconds (status line and headers)
plus `--delay` more (body), so that many concurrent misses are all in flight during one fetch.
`GET /__stats` answers the counts as JSON, uncounted and at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
from collections import Counter

BODY = os.urandom(1024)
MAX_HEAD = 64 * 1024


class Origin:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.counts: Counter[str] = Counter()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEAD:
            return False
        parts = head.split(b"\r\n", 1)[0].split()
        if len(parts) != 3:
            writer.write(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            return False
        path = parts[1].decode("latin-1")
        close = b"\r\nconnection: close" in head.lower()
        if path == "/__stats":
            body = json.dumps(dict(self.counts)).encode()
            writer.write(_head(200, len(body), "no-store", "application/json") + body)
            await writer.drain()
            return not close
        self.counts[path] += 1
        await asyncio.sleep(self.delay)
        writer.write(_head(200, len(BODY), "max-age=3600", "application/octet-stream"))
        await writer.drain()
        await asyncio.sleep(self.delay)
        writer.write(BODY)
        await writer.drain()
        return not close


def _head(status: int, length: int, cache_control: str, ctype: str) -> bytes:
    return (
        f"HTTP/1.1 {status} OK\r\nContent-Length: {length}\r\nCache-Control: {cache_control}\r\n"
        f"Content-Type: {ctype}\r\n\r\n"
    ).encode()


async def main(port: int, delay: float) -> None:
    origin = Origin(delay)
    server = await asyncio.start_server(origin.serve, "127.0.0.1", port, backlog=4096)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.2)
    args = parser.parse_args()
    asyncio.run(main(args.port, args.delay))
