"""A small asyncio HTTP/1.1 client for the bench: keep-alive GETs, bodies counted, not kept."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

MAX_HEAD = 64 * 1024
CHUNK = 256 * 1024


class ClientError(Exception):
    """The server's response could not be read as HTTP/1.1."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body_len: int
    keep_alive: bool


def request_bytes(host: str, port: int, path: str) -> bytes:
    head = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: openfront-bench\r\n\r\n"
    return head.encode()


async def read_response(reader: asyncio.StreamReader) -> Response:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError as exc:
        raise ClientError("response head too large") from exc
    lines = head[:-4].decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/1.") or len(head) > MAX_HEAD:
        raise ClientError(f"bad status line {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise ClientError(f"bad header line {line!r}")
        headers[name.strip().lower()] = value.strip()
    keep_alive = headers.get("connection", "").lower() != "close"
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body_len = await _read_chunked(reader)
    elif "content-length" in headers:
        body_len = await _read_exactly(reader, int(headers["content-length"]))
    else:
        body_len, keep_alive = await _read_to_eof(reader), False
    return Response(int(status_line[1]), headers, body_len, keep_alive)


async def _read_exactly(reader: asyncio.StreamReader, length: int) -> int:
    left = length
    while left:
        chunk = await reader.read(min(left, CHUNK))
        if not chunk:
            raise ClientError(f"connection closed {left} bytes before the end of the body")
        left -= len(chunk)
    return length


async def _read_chunked(reader: asyncio.StreamReader) -> int:
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailers
            return total
        total += await _read_exactly(reader, size)
        await reader.readexactly(2)


async def _read_to_eof(reader: asyncio.StreamReader) -> int:
    total = 0
    while chunk := await reader.read(CHUNK):
        total += len(chunk)
    return total


async def close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError, OSError):
        await writer.wait_closed()


@dataclass
class LoadResult:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


async def _load_worker(host: str, port: int, paths: Iterator[str], result: LoadResult) -> None:
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    try:
        for path in paths:
            if conn is None:
                conn = await asyncio.open_connection(host, port)
            reader, writer = conn
            writer.write(request_bytes(host, port, path))
            try:
                resp = await read_response(reader)
            except (ClientError, ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
                result.errors.append(f"{path}: {exc}")
                await close(writer)
                conn = None
                continue
            result.requests += 1
            result.statuses[resp.status] += 1
            if not resp.keep_alive:
                await close(writer)
                conn = None
    finally:
        if conn is not None:
            await close(conn[1])


async def load(host: str, port: int, paths: list[str], concurrency: int = 32) -> LoadResult:
    """GET every path once over `concurrency` keep-alive connections."""
    result = LoadResult()
    shared = iter(paths)  # workers pull from one iterator, so each path is fetched once
    start = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(_load_worker(host, port, shared, result))
    result.elapsed_s = time.perf_counter() - start
    return result
