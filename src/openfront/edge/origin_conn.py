"""One HTTP/1.1 connection to an origin: an asyncio Protocol driving httptools' response parser.

The connection runs one exchange at a time (no pipelining). The client writes the request, then
waits for the response head and pulls body chunks; unread body is bounded by `high_water` with
`pause_reading`/`resume_reading`, and chunks are the bytes objects httptools hands over.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import httptools

from openfront.errors import OriginConnectError, OriginError, OriginInvalidResponse, OriginTimeout

MAX_HEAD_BYTES = 64 * 1024

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 §5.5: field values are VCHAR/obs-text with SP and HTAB; any other control is refused.
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_BAD_TARGET = re.compile(r"[\x00-\x20\x7f]")
_FRAMING = frozenset({"content-length", "transfer-encoding"})


class ConnectionClosedEarly(OriginConnectError):
    """The origin closed the connection before the response head was complete."""

    def __init__(self, msg: str, *, response_started: bool) -> None:
        super().__init__(msg)
        self.response_started = response_started


def encode_request_head(
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]],
    default_host: str,
    framing: str | None,
) -> tuple[bytes, bool]:
    """Serialise the request line and headers; return the bytes and whether it asks to close.

    Raises ValueError for anything that could split the message (RFC 9112 §3, §5).
    """
    if not _TOKEN.fullmatch(method):
        raise ValueError(f"invalid request method {method!r}")
    if not target or _BAD_TARGET.search(target):
        raise ValueError(f"invalid request target {target!r}")
    lines = [f"{method} {target} HTTP/1.1\r\n"]
    has_host = False
    close = False
    for name, value in headers:
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"invalid header name {name!r}")
        if _BAD_VALUE.search(value):
            raise ValueError(f"invalid character in value of header {name!r}")
        lower = name.lower()
        if lower in _FRAMING:
            continue  # framing is ours to write: a caller's copy could smuggle a second message
        if lower == "host":
            has_host = True
        elif lower == "connection" and "close" in (t.strip().lower() for t in value.split(",")):
            close = True
        lines.append(f"{name}: {value}\r\n")
    if not has_host:
        lines.append(f"Host: {default_host}\r\n")
    if framing is not None:
        lines.append(framing)
    lines.append("\r\n")
    try:
        return "".join(lines).encode("latin-1"), close
    except UnicodeEncodeError as exc:
        raise ValueError(f"request head is not ISO-8859-1: {exc}") from None


@dataclass(frozen=True, slots=True)
class ResponseHead:
    status: int
    reason: str
    version: str
    headers: list[tuple[str, str]]
    content_length: int | None
    chunked: bool
    close_delimited: bool
    keep_alive: bool


def _framing(
    headers: list[tuple[str, str]], version: str, no_body: bool
) -> tuple[int | None, bool, bool, bool]:
    """Body framing of a final response: (content_length, chunked, close_delimited, keep_alive).

    RFC 9112 §6.3. llhttp has already refused bad or duplicate Content-Length values.
    """
    length: int | None = None
    codings: str | None = None
    close = version != "1.1"
    for name, value in headers:
        lower = name.lower()
        if lower == "content-length":
            length = int(value)
        elif lower == "transfer-encoding":
            codings = value if codings is None else f"{codings},{value}"
        elif lower == "connection" and "close" in (t.strip().lower() for t in value.split(",")):
            close = True
    if no_body:
        return 0, False, False, not close
    if codings is not None:
        if length is not None:
            raise OriginInvalidResponse("origin sent both Content-Length and Transfer-Encoding")
        chunked = codings.rsplit(",", 1)[-1].strip().lower() == "chunked"
        return None, chunked, not chunked, chunked and not close
    if length is not None:
        return length, False, False, not close
    return None, False, True, False


class OriginConnection(asyncio.Protocol):
    """A pooled keep-alive connection; the client and the response object drive it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, high_water: int) -> None:
        self._loop = loop
        self._high_water = high_water
        self._low_water = high_water // 2
        self.transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[None] = loop.create_future()
        self.lost = False
        # Set by the pool while the connection is idle, so a close by the origin unpools it.
        self.on_idle_lost: Callable[[OriginConnection], None] | None = None
        self.idle_handle: asyncio.TimerHandle | None = None
        self._read_waiter: asyncio.Future[bool] | None = None
        self._drain_waiter: asyncio.Future[bool] | None = None
        self._write_paused = False
        self._reading_paused = False
        self._parser: httptools.HttpResponseParser | None = None
        self._reset_exchange(head_only=False)

    def _reset_exchange(self, *, head_only: bool) -> None:
        self._head_only = head_only
        self._status_parts: list[bytes] = []
        self._headers: list[tuple[str, str]] = []
        self.trailers: list[tuple[str, str]] = []
        self._head_bytes = 0  # bytes received while the head is incomplete
        self._header_bytes = 0  # size of the parsed header fields
        self.head: ResponseHead | None = None
        self.body_done = False
        self.response_started = False
        self.first_byte_at = 0.0
        self.error: OriginError | None = None
        self.reusable = True
        self._chunks: deque[bytes] = deque()
        self._buffered = 0

    # -- exchange control, used by the client --------------------------------------------------

    def start_exchange(self, *, head_only: bool) -> None:
        self._reset_exchange(head_only=head_only)
        self._parser = httptools.HttpResponseParser(self)

    def end_exchange(self) -> None:
        """Back to idle: drop unread body and listen for the origin closing the connection."""
        self._parser = None
        self._chunks.clear()
        self._buffered = 0
        if self._reading_paused and self.transport is not None:
            self._reading_paused = False
            self.transport.resume_reading()

    @property
    def can_reuse(self) -> bool:
        head = self.head
        return (
            self.reusable
            and head is not None
            and head.keep_alive
            and self.body_done
            and self.error is None
            and not self.lost
            and self.transport is not None
            and not self.transport.is_closing()
        )

    def _send_error(self) -> OriginError:
        return self.error or ConnectionClosedEarly(
            "origin connection closed while sending the request",
            response_started=self.response_started,
        )

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.lost or self.transport is None or self.transport.is_closing():
            raise self._send_error()
        self.transport.write(data)

    def write_many(self, parts: list[bytes | bytearray | memoryview]) -> None:
        if self.lost or self.transport is None or self.transport.is_closing():
            raise self._send_error()
        self.transport.writelines(parts)

    async def drain(self, limit: float) -> None:
        """Wait while the transport's write buffer is above its high-water mark."""
        if self.lost:
            raise self._send_error()
        if not self._write_paused:
            return
        fut: asyncio.Future[bool] = self._loop.create_future()
        self._drain_waiter = fut
        handle = self._loop.call_later(limit, _settle, fut, False)
        try:
            if not await fut:
                raise OriginTimeout(f"origin did not read the request body for {limit:g} s")
        finally:
            handle.cancel()
            self._drain_waiter = None
        if self.lost:
            raise self._send_error()

    async def wait_head(self, limit: float) -> ResponseHead:
        while self.head is None:
            if self.error is not None:
                raise self.error
            await self._wait_read(limit, "response head")
        return self.head

    async def read_chunk(self, limit: float) -> bytes:
        while True:
            if self._chunks:
                chunk = self._chunks.popleft()
                self._buffered -= len(chunk)
                if self._reading_paused and self._buffered <= self._low_water:
                    self._reading_paused = False
                    if self.transport is not None:
                        self.transport.resume_reading()
                return chunk
            if self.body_done:
                return b""
            if self.error is not None:
                raise self.error
            await self._wait_read(limit, "response body")

    async def _wait_read(self, limit: float, what: str) -> None:
        fut: asyncio.Future[bool] = self._loop.create_future()
        self._read_waiter = fut
        handle = self._loop.call_later(limit, _settle, fut, False)
        try:
            if not await fut:
                raise OriginTimeout(f"origin sent no {what} bytes for {limit:g} s")
        finally:
            handle.cancel()
            self._read_waiter = None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _fail(self, error: OriginError) -> None:
        if self.error is None:
            self.error = error
        self.reusable = False
        if self.transport is not None:
            self.transport.abort()
        self._wake_reader()

    def _wake_reader(self) -> None:
        if self._read_waiter is not None:
            _settle(self._read_waiter, True)

    # -- asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        if parser is None:
            self.reusable = False  # unsolicited bytes on an idle connection: never reuse it
            self.abort()
            return
        if not self.response_started:
            self.response_started = True
            self.first_byte_at = self._loop.time()
        if self.head is None:
            self._head_bytes += len(data)
        try:
            parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(OriginInvalidResponse(f"malformed response from origin: {exc}"))
            return
        if self.error is not None:
            self._fail(self.error)
        elif self.head is None and self._head_bytes > MAX_HEAD_BYTES:
            self._fail(OriginInvalidResponse("origin response head exceeds 64 KiB"))
        else:
            self._wake_reader()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self.closed.done():
            self.closed.set_result(None)
        if self._drain_waiter is not None:
            _settle(self._drain_waiter, True)
        if self._parser is None:
            if self.on_idle_lost is not None:
                self.on_idle_lost(self)
            return
        self._on_lost_in_exchange(exc)
        self._wake_reader()

    def _on_lost_in_exchange(self, exc: Exception | None) -> None:
        if self.error is not None:
            return
        cause = f": {exc}" if exc is not None else ""
        head = self.head
        if head is None:
            self.error = ConnectionClosedEarly(
                f"origin closed the connection before the response{cause}",
                response_started=self.response_started,
            )
        elif not self.body_done:
            if head.close_delimited and exc is None:
                self.body_done = True
            else:
                self.error = OriginInvalidResponse(f"origin response body truncated{cause}")

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._drain_waiter is not None:
            _settle(self._drain_waiter, True)

    # -- httptools callbacks (never raise: httptools would hide the exception) --------------------

    def on_message_begin(self) -> None:
        if self.head is not None:
            self.reusable = False  # bytes after a complete response

    def on_status(self, status: bytes) -> None:
        self._status_parts.append(status)

    def on_header(self, name: bytes, value: bytes) -> None:
        pair = (name.decode("latin-1"), value.decode("latin-1"))
        if self.head is None:
            self._header_bytes += len(name) + len(value) + 4
            self._headers.append(pair)
        else:
            self.trailers.append(pair)

    def on_headers_complete(self) -> None:
        parser = self._parser
        assert parser is not None
        status = parser.get_status_code()
        if 100 <= status < 200:
            # Interim responses (100 Continue, 103 Early Hints) are skipped; 101 is refused by
            # llhttp's upgrade pause since no request of ours asks to switch protocols.
            self._status_parts = []
            self._headers = []
            self._header_bytes = 0
            return
        if self._header_bytes > MAX_HEAD_BYTES:
            self.error = OriginInvalidResponse("origin response head exceeds 64 KiB")
            return
        version = parser.get_http_version()
        no_body = self._head_only or status in (204, 304)
        try:
            length, chunked, close_delimited, keep_alive = _framing(self._headers, version, no_body)
        except OriginInvalidResponse as exc:
            self.error = exc
            return
        reason = b"".join(self._status_parts).decode("latin-1")
        self.head = ResponseHead(
            status, reason, version, self._headers, length, chunked, close_delimited, keep_alive
        )
        self.body_done = no_body

    def on_body(self, body: bytes) -> None:
        if self.body_done:
            self.reusable = False  # a body where none may be (HEAD, 204, 304)
            return
        self._chunks.append(body)
        self._buffered += len(body)
        if not self._reading_paused and self._buffered > self._high_water:
            self._reading_paused = True
            if self.transport is not None:
                self.transport.pause_reading()

    def on_message_complete(self) -> None:
        if self.head is not None:
            self.body_done = True


def _settle(fut: asyncio.Future[bool], value: bool) -> None:
    if not fut.done():
        fut.set_result(value)
