"""One parsed viewer request, as the protocol hands it to the handler."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass(slots=True, eq=False)
class Request:
    method: str
    target: str  # the raw request-target (origin-form)
    path: str
    query: str  # without "?"; "" when absent
    version: str  # "1.1" or "1.0"
    headers: list[tuple[str, str]]  # names lower-cased, in order
    keep_alive: bool
    client_ip: str
    client_port: int
    start: float  # loop.time() when the head was complete
    wall_start: float  # time.time() at the same moment, for logs
    header_bytes: int
    has_body: bool = False  # Content-Length > 0 or chunked
    content_length: int | None = None
    chunked: bool = False
    body: RequestBody | None = None
    _lookup: dict[str, str] | None = field(default=None, repr=False)

    def header(self, name: str) -> str | None:
        """First value of a lower-case header name; repeated fields joined with ", "."""
        lookup = self._lookup
        if lookup is None:
            lookup = {}
            for n, v in self.headers:
                prev = lookup.get(n)
                if prev is not None:
                    v = prev + ("; " if n == "cookie" else ", ") + v
                lookup[n] = v
            self._lookup = lookup
        return lookup.get(name)


class RequestBody:
    """A viewer request body streamed as it arrives, with back-pressure on the connection."""

    __slots__ = ("_chunks", "_done", "_error", "_pause", "_paused", "_resume", "_size", "_waiter")

    HIGH_WATER = 1 << 20

    def __init__(self, pause: object, resume: object) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._done = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._pause = pause
        self._resume = resume
        self._paused = False

    def feed(self, data: bytes) -> None:
        self._chunks.append(data)
        self._size += len(data)
        if self._size > self.HIGH_WATER and not self._paused:
            self._paused = True
            self._pause()  # type: ignore[operator]
        self._wake()

    def finish(self) -> None:
        self._done = True
        self._wake()

    def fail(self, exc: BaseException) -> None:
        self._error = exc
        self._wake()

    def _wake(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)
        self._waiter = None

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            if self._chunks:
                data = self._chunks
                self._chunks = []
                self._size = 0
                if self._paused:
                    self._paused = False
                    self._resume()  # type: ignore[operator]
                for c in data:
                    yield c
                continue
            if self._error is not None:
                raise self._error
            if self._done:
                return
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter

    async def read_all(self, limit: int) -> bytes:
        parts: list[bytes] = []
        n = 0
        async for c in self.chunks():
            n += len(c)
            if n > limit:
                raise ValueError("body too large")
            parts.append(c)
        return b"".join(parts)
