"""One parsed viewer request, as the protocol hands it to the handler."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable


class Request:
    """One viewer request. Header names are lower-case; ``lookup`` joins repeated fields."""

    __slots__ = (
        "body",
        "chunked",
        "client_ip",
        "client_port",
        "conditional",
        "content_length",
        "has_body",
        "header_bytes",
        "keep_alive",
        "lookup",
        "method",
        "path",
        "query",
        "start",
        "target",
        "version",
    )

    def __init__(
        self,
        method: str,
        target: str,
        path: str,
        query: str,
        version: str,
        lookup: dict[str, str],
        keep_alive: bool,
        client_ip: str,
        client_port: int,
        start: float,
        header_bytes: int,
        conditional: bool = False,
    ) -> None:
        self.method = method
        self.target = target  # the raw request-target (origin-form)
        self.path = path
        self.query = query  # without "?"; "" when absent
        self.version = version  # "1.1" or "1.0"
        self.keep_alive = keep_alive
        self.client_ip = client_ip
        self.client_port = client_port
        self.start = start  # loop.time() when the head was complete
        self.header_bytes = header_bytes
        self.conditional = conditional  # an If-* or Range header is present
        # Lower-case name -> value, in the order first sent; repeated field lines are combined
        # with ", " ("; " for Cookie), as RFC 9110 §5.3 allows.
        self.lookup = lookup
        self.has_body = False  # Content-Length > 0 or chunked
        self.content_length: int | None = None
        self.chunked = False
        self.body: RequestBody | None = None

    @property
    def headers(self) -> list[tuple[str, str]]:
        return list(self.lookup.items())

    def header(self, name: str) -> str | None:
        """The value of a lower-case header name; repeated fields joined with ", " ("; " for
        cookies)."""
        return self.lookup.get(name)

    def wall_start(self) -> float:
        """The wall-clock time the head was complete (for logs)."""
        return time.time() - (time.monotonic() - self.start)


class RequestBody:
    """A viewer request body streamed as it arrives, with back-pressure on the connection."""

    __slots__ = (
        "_chunks",
        "_done",
        "_error",
        "_pause",
        "_paused",
        "_resume",
        "_size",
        "_waiter",
        "on_first_read",
    )

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
        # Called when someone starts reading: answers "Expect: 100-continue" (RFC 9110 §10.1.1).
        self.on_first_read: Callable[[], None] | None = None

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
        if self.on_first_read is not None:
            self.on_first_read()
            self.on_first_read = None
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
