"""The viewer-facing HTTP/1.1 connection: bytes in (httptools), requests out, responses written.

Request smuggling defences come mostly from llhttp's strict mode (CL+TE, duplicate or bad
Content-Length, bad chunk sizes, obs-fold and bare LF are all parse errors); this module adds
the limits (request line, header bytes and count, timeouts), refuses HTTP/0.9 and missing Host,
and closes the connection after every parse error as RFC 9112 §11.2 asks.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import httptools

from openfront._aio import create_task
from openfront.edge.request import Request, RequestBody
from openfront.errors import ProtocolError

if TYPE_CHECKING:
    from openfront.config.edge import LimitsConfig

_log = logging.getLogger("openfront.edge")

Handler = Callable[["Connection", Request], Coroutine[Any, Any, None] | None]
ErrorResponder = Callable[["Connection", int, str], None]


class Connection(asyncio.Protocol):
    """One viewer connection. Requests are handled one at a time, in order (pipelining-safe)."""

    __slots__ = (
        "_busy",
        "_client",
        "_drain_waiter",
        "_error",
        "_header_bytes",
        "_header_name",
        "_headers",
        "_idle_handle",
        "_limits",
        "_loop",
        "_on_error",
        "_on_request",
        "_parser",
        "_pending",
        "_read_paused",
        "_started",
        "_timeout_handle",
        "_url",
        "_write_paused",
        "closed",
        "current",
        "scheme",
        "transport",
    )

    def __init__(
        self,
        on_request: Handler,
        on_error: ErrorResponder,
        limits: LimitsConfig,
        scheme: str = "http",
    ) -> None:
        self._on_request = on_request
        self._on_error = on_error
        self._limits = limits
        self._loop = asyncio.get_running_loop()
        self._parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._headers: list[tuple[str, str]] = []
        self._header_name = b""
        self._header_bytes = 0
        self._pending: deque[Request] = deque()
        self._busy = False
        self._read_paused = False
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._timeout_handle: asyncio.TimerHandle | None = None
        self._idle_handle: asyncio.TimerHandle | None = None
        self._client: tuple[str, int] = ("-", 0)
        self._error = False
        self._started = False  # a response to the current request has begun
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.current: Request | None = None
        self.scheme = scheme

    # -- asyncio.Protocol ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):
            self._client = (str(peer[0]), int(peer[1]))
        self._arm_header_timeout()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._cancel_timers()
        err = ConnectionResetError("viewer closed the connection")
        for req in (self.current, *self._pending):
            if req is not None and req.body is not None:
                req.body.fail(err)
        self._wake_drain()

    def data_received(self, data: bytes) -> None:
        if self._error:
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(501, "Upgrade is not supported")
        except httptools.HttpParserError as e:
            # httptools wraps exceptions raised in our callbacks; unwrap our own limit errors.
            cause = e.__context__
            if isinstance(cause, _LimitExceeded):
                self._fail(cause.status, cause.msg)
            elif isinstance(e, httptools.HttpParserCallbackError) and cause is not None:
                raise cause from None
            elif not self._error:
                self._fail(400, "Bad request")

    def eof_received(self) -> bool | None:
        return None

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake_drain()

    # -- httptools callbacks ---------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._header_bytes = 0
        if self._timeout_handle is None:
            self._arm_header_timeout()
        if self._idle_handle is not None:
            self._idle_handle.cancel()
            self._idle_handle = None

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > self._limits.max_request_line:
            raise _LimitExceeded(414, "Request-URI too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes + len(self._url) > self._limits.max_header_bytes:
            raise _LimitExceeded(431, "Request header fields too large")
        if len(self._headers) >= self._limits.max_headers:
            raise _LimitExceeded(431, "Too many request header fields")
        self._headers.append((name.decode("latin-1").lower(), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        if self._timeout_handle is not None:
            self._timeout_handle.cancel()
            self._timeout_handle = None
        p = self._parser
        version = p.get_http_version()
        if version not in ("1.1", "1.0"):
            raise _LimitExceeded(505, "HTTP version not supported")
        try:
            target = self._url.decode("ascii")
        except UnicodeDecodeError:
            raise _LimitExceeded(400, "Bad request target") from None
        if not target.startswith("/"):
            # absolute-form and authority-form are for forward proxies, not a CDN.
            raise _LimitExceeded(400, "Bad request target")
        path, _, query = target.partition("?")
        path = path.partition("#")[0]
        headers = self._headers
        method = p.get_method().decode("ascii")
        req = Request(
            method=method,
            target=target,
            path=path,
            query=query,
            version=version,
            headers=headers,
            keep_alive=p.should_keep_alive(),
            client_ip=self._client[0],
            client_port=self._client[1],
            start=self._loop.time(),
            wall_start=time.time(),
            header_bytes=self._header_bytes + len(self._url),
        )
        if version == "1.1" and req.header("host") is None:
            raise _LimitExceeded(400, "Missing Host header")
        cl = req.header("content-length")
        if cl is not None:
            req.content_length = int(cl)
        req.chunked = req.header("transfer-encoding") is not None
        if req.chunked or (req.content_length or 0) > 0:
            req.has_body = True
            req.body = RequestBody(self._pause_reading, self._resume_reading)
        self._pending.append(req)
        if not self._busy:
            self._next()

    def on_body(self, body: bytes) -> None:
        req = self._pending[-1] if self._pending else self.current
        if req is not None and req.body is not None:
            req.body.feed(body)

    def on_message_complete(self) -> None:
        req = self._pending[-1] if self._pending else self.current
        if req is not None and req.body is not None:
            req.body.finish()

    # -- request dispatch ------------------------------------------------------------------
    def _next(self) -> None:
        while self._pending and not self.closed:
            req = self._pending.popleft()
            self.current = req
            self._busy = True
            try:
                coro = self._on_request(self, req)
            except Exception:
                _log.exception("request handler failed")
                self._busy = False
                self._fail(500, "Internal error")
                return
            if coro is None:
                continue  # answered synchronously; finish() already ran
            create_task(self._run(coro))
            return

    async def _run(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            await coro
        except (ConnectionError, asyncio.CancelledError):
            self.abort()
        except Exception:
            if self.transport is not None and not self.closed:
                self.abort()
            raise
        finally:
            if self._busy and not self.closed and self._pending:
                self._busy = False
                self._next()

    def finish(self, keep_alive: bool) -> None:
        """Called by the handler when the whole response has been written."""
        req = self.current
        self.current = None
        self._busy = False
        self._started = False
        if not keep_alive or req is None or not req.keep_alive or self._error:
            self.close()
            return
        if req.body is not None and not req.body._done:
            # The handler did not consume the body; the connection cannot be reused safely.
            self.close()
            return
        if self._read_paused:
            self._resume_reading()
        if self._pending:
            self._loop.call_soon(self._next)
        elif self._idle_handle is None and not self.closed:
            self._idle_handle = self._loop.call_later(self._limits.idle_timeout, self.close)

    # -- writing -----------------------------------------------------------------------------
    def write(self, data: bytes | memoryview) -> None:
        t = self.transport
        if t is not None and not t.is_closing():
            self._started = True
            t.write(data)

    def writelines(self, data: list[bytes | memoryview]) -> None:
        t = self.transport
        if t is not None and not t.is_closing():
            self._started = True
            t.writelines(data)

    @property
    def write_paused(self) -> bool:
        return self._write_paused

    async def drain(self) -> None:
        if self.closed:
            raise ConnectionResetError("viewer closed the connection")
        if not self._write_paused:
            return
        waiter = self._loop.create_future()
        self._drain_waiter = waiter
        await waiter
        if self.closed:
            raise ConnectionResetError("viewer closed the connection")

    def _wake_drain(self) -> None:
        w = self._drain_waiter
        self._drain_waiter = None
        if w is not None and not w.done():
            w.set_result(None)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
        self._cancel_timers()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()
        self.closed = True
        self._cancel_timers()

    @property
    def client(self) -> tuple[str, int]:
        return self._client

    # -- internals ---------------------------------------------------------------------------
    def _fail(self, status: int, msg: str) -> None:
        self._error = True
        for req in (self.current, *self._pending):
            if req is not None and req.body is not None:
                req.body.fail(ProtocolError(msg, status))
        self._pending.clear()
        if self.transport is not None and not self.closed and not self._started:
            self._on_error(self, status, msg)
        self.close()

    def _pause_reading(self) -> None:
        if not self._read_paused and self.transport is not None and not self.closed:
            self._read_paused = True
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        if self._read_paused and self.transport is not None and not self.closed:
            self._read_paused = False
            self.transport.resume_reading()

    def _arm_header_timeout(self) -> None:
        self._timeout_handle = self._loop.call_later(self._limits.header_timeout, self._on_timeout)

    def _on_timeout(self) -> None:
        self._timeout_handle = None
        if not self._busy:
            self._fail(408, "Request timeout")

    def _cancel_timers(self) -> None:
        for h in (self._timeout_handle, self._idle_handle):
            if h is not None:
                h.cancel()
        self._timeout_handle = self._idle_handle = None


class _LimitExceeded(Exception):
    def __init__(self, status: int, msg: str) -> None:
        super().__init__(msg)
        self.status = status
        self.msg = msg
