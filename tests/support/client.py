"""A small raw HTTP/1.1 client for tests: exact bytes out, parsed response in."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httptools


@dataclass
class Resp:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    raw_head: bytes = b""
    chunked: bool = False
    _map: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for n, v in self.headers:
            n = n.lower()
            self._map[n] = self._map[n] + ", " + v if n in self._map else v

    def h(self, name: str) -> str | None:
        return self._map.get(name.lower())

    @property
    def x_cache(self) -> str | None:
        return self.h("x-cache")


class _P:
    def __init__(self, head_only: bool) -> None:
        self.headers: list[tuple[str, str]] = []
        self.body: list[bytes] = []
        self.done = False
        self.head_done = False
        self.head_only = head_only

    def on_header(self, n: bytes, v: bytes) -> None:
        self.headers.append((n.decode(), v.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self.head_done = True

    def on_body(self, b: bytes) -> None:
        self.body.append(b)

    def on_message_complete(self) -> None:
        self.done = True


async def read_response(reader: asyncio.StreamReader, head_only: bool = False) -> Resp:
    p = _P(head_only)
    parser = httptools.HttpResponseParser(p)
    raw = b""
    while not p.done:
        data = await reader.read(65536)
        if not data:
            if p.head_done and not head_only:
                parser.feed_eof() if hasattr(parser, "feed_eof") else None
                break
            raise ConnectionError("connection closed before a full response")
        raw += data if len(raw) < 65536 else b""
        parser.feed_data(data)
        if head_only and p.head_done:
            break
    return Resp(parser.get_status_code(), p.headers, b"".join(p.body), raw.split(b"\r\n\r\n")[0])


async def request(
    port: int,
    method: str = "GET",
    path: str = "/",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    host: str = "test.local",
) -> Resp:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        hdrs = {"Host": host, "Connection": "close"}
        hdrs.update(headers or {})
        if body:
            hdrs["Content-Length"] = str(len(body))
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()
        return await read_response(reader, head_only=method == "HEAD")
    finally:
        writer.close()


async def raw(port: int, data: bytes, *, read_all: bool = True) -> bytes:
    """Send raw bytes; return everything the server sends until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        out = b""
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                return out
            out += chunk
            if not read_all:
                return out
    finally:
        writer.close()
