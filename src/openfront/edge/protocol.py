"""The viewer-facing HTTP/1.1 connection: bytes in (httptools), requests out, responses written.

Request smuggling defences come mostly from llhttp's strict mode (CL+TE, duplicate or bad
Content-Length, bad chunk sizes, obs-fold and bare LF are all parse errors); this module adds
the limits (request line, header bytes and count, timeouts), refuses HTTP/0.9 and missing Host,
and closes the connection after every parse error as RFC 9112 §11.2 asks.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from time import monotonic as _monotonic
from typing import TYPE_CHECKING, Any, cast

import httptools

from openfront._aio import create_task
from openfront.edge.doorkeeper import Doorkeeper
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
        "_begun",
        "_body_timeout",
        "_busy",
        "_client",
        "_closing",
        "_conditional",
        "_discard",
        "_drain_waiter",
        "_error",
        "_fields_left",
        "_header_timeout",
        "_heads",
        "_hmap",
        "_idle_timeout",
        "_in_message",
        "_limits",
        "_loop",
        "_max_header_bytes",
        "_max_headers",
        "_max_request_line",
        "_on_error",
        "_on_request",
        "_parser",
        "_pending",
        "_read_paused",
        "_room",
        "_started",
        "_sweeper",
        "_url",
        "_write",
        "_write_paused",
        "_writelines",
        "closed",
        "current",
        "deadline",
        "deadline_is_idle",
        "repeatable",
        "scheme",
        "transport",
    )

    def __init__(
        self,
        on_request: Handler,
        on_error: ErrorResponder,
        limits: LimitsConfig,
        sweeper: Sweeper,
        scheme: str = "http",
        heads: HeadMemo | None = None,
    ) -> None:
        self._sweeper = sweeper
        self._heads = heads if heads is not None else _NO_HEADS
        self._on_request = on_request
        self._on_error = on_error
        self._limits = limits
        self._max_header_bytes = limits.max_header_bytes
        self._max_headers = limits.max_headers
        self._max_request_line = limits.max_request_line
        self._header_timeout = float(limits.header_timeout)
        self._idle_timeout = float(limits.idle_timeout)
        self._body_timeout = float(limits.body_read_timeout)
        self._loop = asyncio.get_running_loop()
        self._parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._hmap: dict[str, str] = {}
        self._fields_left = 0  # header fields the current request may still send
        self._room = 0  # bytes its head may still take
        self._conditional = False
        self._in_message = False  # the parser is inside a request (head or body)
        self._begun = 0  # requests begun in the current data_received
        # Set by the handler when it answered a request whose answer the head bytes alone
        # decide (see HeadMemo); data_received files it under those bytes.
        self.repeatable: object | None = None
        self._pending: deque[Request] = deque()
        self._busy = False
        self._read_paused = False
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        # One deadline per connection, checked by the shared Sweeper: arming a loop timer per
        # request costs more than the rest of a cache hit.
        self.deadline = 0.0
        self.deadline_is_idle = False
        self._client: tuple[str, int] = ("-", 0)
        self._error = False
        self._started = False  # a response to the current request has begun
        self._discard = False  # the last request asked to close: ignore what follows
        self._closing = True  # until connection_made; then set by close(), abort(), lost
        self._write: Callable[[bytes | memoryview], None] = _no_write
        self._writelines: Callable[[list[bytes | memoryview]], None] = _no_writelines
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.current: Request | None = None
        self.scheme = scheme

    # -- asyncio.Protocol ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have the same methods.
        transport = cast(asyncio.Transport, transport)
        self.transport = transport
        self._write = transport.write
        self._writelines = transport.writelines
        self._closing = False
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):
            self._client = (str(peer[0]), int(peer[1]))
        self._arm_header_timeout()
        self._sweeper.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._closing = True
        self._sweeper.discard(self)
        self.deadline = 0.0
        err = ConnectionResetError("viewer closed the connection")
        for req in (self.current, *self._pending):
            if req is not None and req.body is not None:
                req.body.fail(err)
        self._wake_drain()

    def data_received(self, data: bytes) -> None:
        if self._error or self._discard:
            return
        heads = self._heads
        if not self._in_message and self.current is None and not self._pending:
            known = heads.known.get(data)
            if known is not None:
                out = heads.answer(self, known)
                if out is not None:
                    self._write(out)
                    self.deadline = self._sweeper.now + self._idle_timeout
                    self.deadline_is_idle = True
                    return
        self._begun = 0
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.repeatable = None
            if self._discarding():
                return
            self._fail(501, "Upgrade is not supported")
        except httptools.HttpParserError as e:
            self.repeatable = None
            if self._discarding():
                return  # bytes after "Connection: close" (llhttp refuses them): ignored
            # httptools wraps exceptions raised in our callbacks; unwrap our own limit errors.
            cause = e.__context__
            if isinstance(cause, _LimitExceeded):
                self._fail(cause.status, cause.msg)
            elif isinstance(e, httptools.HttpParserCallbackError) and cause is not None:
                raise cause from None
            elif not self._error:
                self._fail(400, "Bad request")
        else:
            rep = self.repeatable
            if rep is not None:
                self.repeatable = None
                # Only a chunk that held exactly one whole request, now answered, stands for it.
                if self._begun == 1 and not self._in_message and self.current is None:
                    heads.remember(self, data, rep)

    def eof_received(self) -> bool | None:
        return None

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake_drain()

    # -- httptools callbacks ---------------------------------------------------------------
    def on_message_begin(self) -> None:
        # From a request's first byte on, a chunk is not a whole request head (HeadMemo).
        self._in_message = True
        self._begun += 1

    def on_url(self, url: bytes) -> None:
        if self._url:
            url = self._url + url
        else:
            self._hmap = {}
            self._fields_left = self._max_headers
            self._conditional = False
            if self.deadline_is_idle or not self.deadline:
                self.deadline = self._sweeper.now + self._header_timeout
                self.deadline_is_idle = False
        self._url = url
        if len(url) > self._max_request_line:
            raise _LimitExceeded(414, "Request-URI too long")
        # The head's byte budget counts the URL; header fields only arrive after its last piece.
        self._room = self._max_header_bytes - len(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        # Budgets count down so each field costs one subtraction and one compare per limit.
        room = self._room = self._room - len(name) - len(value) - 4
        left = self._fields_left = self._fields_left - 1
        if room < 0 or left < 0:
            raise _LimitExceeded(431, "Request header fields too large")
        n = _FIELD_NAMES.get(name)
        if n is None:
            n = _field_name(name)
        if n[0] == "c" and n.startswith("cloudfront-"):
            return  # only the edge sets CloudFront-* request headers: a viewer's are forgeries
        v = value.decode("latin-1")
        hmap = self._hmap
        prev = hmap.get(n)
        if prev is None:
            hmap[n] = v
            if n[0] in "ir" and (n == "range" or n.startswith("if-")):
                self._conditional = True
        else:
            # RFC 9110 §5.3: repeated field lines combine with commas (cookies with "; ").
            hmap[n] = prev + ("; " if n == "cookie" else ", ") + v

    def on_headers_complete(self) -> None:
        self.deadline = 0.0
        p = self._parser
        version = p.get_http_version()
        if version != "1.1" and version != "1.0":
            raise _LimitExceeded(505, "HTTP version not supported")
        url = self._url
        self._url = b""
        try:
            target = url.decode("ascii")
        except UnicodeDecodeError:
            raise _LimitExceeded(400, "Bad request target") from None
        if target[:1] != "/":
            # absolute-form and authority-form are for forward proxies, not a CDN.
            raise _LimitExceeded(400, "Bad request target")
        if "?" in target or "#" in target:
            path, _, query = target.partition("?")
            path = path.partition("#")[0]
        else:
            path, query = target, ""
        hmap = self._hmap
        if self._conditional and "range" in hmap:
            # Ranges come from the identity copy: a byte range of a compressed body is useless
            # to a player seeking in a file, and CloudFront never compresses them.
            hmap.pop("accept-encoding", None)
        if version == "1.0":
            hmap.pop("accept-encoding", None)  # CloudFront never compresses for HTTP/1.0
        elif "host" not in hmap:
            raise _LimitExceeded(400, "Missing Host header")
        raw_method = p.get_method()
        method = _METHODS.get(raw_method)
        if method is None:
            # llhttp accepts a fixed set of method names, so this table stays small.
            method = _METHODS[raw_method] = raw_method.decode("ascii")
        client = self._client
        req = Request(
            method,
            target,
            path,
            query,
            version,
            hmap,
            p.should_keep_alive(),
            client[0],
            client[1],
            _monotonic(),
            self._max_header_bytes - self._room,
            self._conditional,
        )
        if "content-length" in hmap or "transfer-encoding" in hmap:
            self._expect_body(req, hmap)
        if self._busy or self._pending:
            self._pending.append(req)
        else:
            self._dispatch(req)

    def _expect_body(self, req: Request, hmap: dict[str, str]) -> None:
        cl = hmap.get("content-length")
        if cl is not None:
            req.content_length = int(cl)
        if "transfer-encoding" in hmap:
            req.chunked = True
        if req.chunked or (req.content_length or 0) > 0:
            req.has_body = True
            req.body = RequestBody(self._pause_reading, self._resume_reading)
            self.deadline = self._sweeper.now + self._body_timeout
            expect = hmap.get("expect")
            if expect is not None and expect.lower() == "100-continue" and req.version == "1.1":
                req.body.on_first_read = self._send_continue

    def on_body(self, body: bytes) -> None:
        req = self._pending[-1] if self._pending else self.current
        if req is not None and req.body is not None:
            req.body.feed(body)
            self.deadline = self._sweeper.now + self._body_timeout

    def on_message_complete(self) -> None:
        self._in_message = False
        req = self._pending[-1] if self._pending else self.current
        if req is not None and req.body is not None:
            req.body.finish()
            if not self.deadline_is_idle:
                self.deadline = 0.0
        if not self._parser.should_keep_alive():
            # RFC 9112 §9.6: nothing after a request that asked to close is processed.
            self._discard = True

    def _discarding(self) -> bool:
        return self._discard

    def _send_continue(self) -> None:
        if not self._started and not self._closing:
            self._write(b"HTTP/1.1 100 Continue\r\n\r\n")

    # -- request dispatch ------------------------------------------------------------------
    def _next(self) -> None:
        while self._pending and not self.closed and not self._busy:
            self._dispatch(self._pending.popleft())

    def _dispatch(self, req: Request) -> None:
        self.current = req
        self._busy = True
        try:
            coro = self._on_request(self, req)
        except Exception:
            _log.exception("request handler failed")
            self._busy = False
            self._fail(500, "Internal error")
            return
        if coro is not None:
            create_task(self._run(coro))
        # else: answered synchronously; finish() already ran

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
        elif not self.closed:
            self.deadline = self._sweeper.now + self._idle_timeout
            self.deadline_is_idle = True

    # -- writing -----------------------------------------------------------------------------
    def write(self, data: bytes | memoryview) -> None:
        if not self._closing:
            self._started = True
            self._write(data)

    def writelines(self, data: list[bytes | memoryview]) -> None:
        # uvloop sends the pieces with one writev; asyncio's writelines joins them (a copy).
        if not self._closing:
            self._started = True
            self._writelines(data)

    async def send(self, data: bytes | memoryview, chunked: bool = False) -> None:
        """Write one piece of a streamed body (as a chunk if asked), then respect back-pressure."""
        if chunked:
            self.writelines([b"%x\r\n" % len(data), data, b"\r\n"])
        else:
            self.write(data)
        if self._write_paused:
            await self.drain()

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
        self._closing = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
        self._cancel_timers()

    def close_if_idle(self) -> bool:
        """Close a keep-alive connection waiting for its next request (a graceful stop)."""
        if self._busy or self._pending or self.current is not None or self.closed:
            return False
        self.close()
        return True

    def abort(self) -> None:
        self._closing = True
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
        self.deadline = self._sweeper.now + self._header_timeout
        self.deadline_is_idle = False

    def on_deadline(self) -> None:
        self.deadline = 0.0
        if self.deadline_is_idle:
            self.close()
            return
        req = self.current
        if self._busy and req is not None and req.body is not None and not req.body._done:
            # A body trickling in slower than body_read_timeout per piece (slow-loris uploads).
            self._fail(408, "Request body timeout")
        elif not self._busy:
            self._fail(408, "Request timeout")

    def _cancel_timers(self) -> None:
        self.deadline = 0.0


def _no_write(data: bytes | memoryview) -> None:
    pass


def _no_writelines(data: list[bytes | memoryview]) -> None:
    pass


class HeadMemo:
    """Answers a request head seen before, byte for byte, without parsing or routing it again.

    The handler marks a request ``repeatable`` when its answer followed from the head's bytes,
    the configuration and the stored object alone (a plain memory hit: nothing read from the
    viewer's address, a signature's clock, or anything else outside the head). Whatever later
    decides a request from such a source must leave it unmarked. The connection files the mark
    under the exact bytes of the chunk that carried that one whole request; a later chunk with
    the same bytes, arriving on any connection between requests, goes to ``answer``, which
    looks the object up again and returns the whole response, or None to decline (the chunk is
    then parsed as usual). A head is filed the second time it is marked (``build`` turns the
    mark into the entry then). Bounded in entries and in key bytes: cleared when either is full.
    """

    __slots__ = ("_bytes", "_door", "answer", "build", "known", "limit", "max_bytes")

    def __init__(
        self,
        answer: Callable[[Connection, Any], bytes | None] | None = None,
        build: Callable[[Connection, Any], Any] | None = None,
        limit: int = 4096,
        max_bytes: int = 4 << 20,
    ) -> None:
        self.known: dict[bytes, Any] = {}
        self.answer: Callable[[Connection, Any], bytes | None] = answer or _decline
        self.build: Callable[[Connection, Any], Any] = build or _as_is
        self.limit = limit
        self.max_bytes = max_bytes
        self._bytes = 0
        # A head is filed the second time it is marked, so heads that never repeat (a unique
        # header per request) cost no entry.
        self._door = Doorkeeper()

    def remember(self, conn: Connection, head: bytes, mark: object) -> None:
        size = len(head)
        if size > self.max_bytes >> 6:
            return  # a head this big is not worth a sixty-fourth of the memo
        # hash() is cached by the bytes object since the lookup in data_received.
        if not self._door.again(hash(head)):
            return
        known = self.known
        if len(known) >= self.limit or self._bytes + size > self.max_bytes:
            self.clear()
        known[head] = self.build(conn, mark)
        self._bytes += size

    def clear(self) -> None:
        self.known.clear()
        self._door.clear()
        self._bytes = 0


def _as_is(conn: Connection, mark: Any) -> Any:
    return mark


def _decline(conn: Connection, marker: Any) -> bytes | None:
    return None


_NO_HEADS = HeadMemo(limit=1)  # connections made without a memo (tests, tools)


# Raw method name -> str, so each request's method is one shared, already-hashed string.
_METHODS: dict[bytes, str] = {}

# Raw header field name -> lower-case str: a handful of names (in a few spellings) make up
# nearly every request, and a dict lookup is cheaper than decoding and lower-casing each one.
_FIELD_NAMES: dict[bytes, str] = {}
_MAX_FIELD_NAMES = 1024


def _field_name(raw: bytes) -> str:
    name = raw.decode("latin-1").lower()
    if len(_FIELD_NAMES) >= _MAX_FIELD_NAMES:
        _FIELD_NAMES.clear()  # made-up names must not grow memory without bound
    _FIELD_NAMES[raw] = name
    return name


class Sweeper:
    """Checks every connection's deadline a few times per timeout period.

    Timeouts are approximate by at most one interval, which is a quarter of the shortest one.
    """

    def __init__(self, limits: LimitsConfig) -> None:
        self._conns: set[Connection] = set()
        shortest = min(limits.header_timeout, limits.idle_timeout, limits.body_read_timeout)
        self._interval = max(0.01, min(1.0, shortest / 4))
        self._handle: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # A coarse clock for deadlines, refreshed every tick: reading the clock per request
        # costs more than deadlines this coarse need.
        self.now = _monotonic()

    def add(self, conn: Connection) -> None:
        self._conns.add(conn)
        if self._handle is None:
            self.now = _monotonic()
            self._loop = asyncio.get_running_loop()
            self._handle = self._loop.call_later(self._interval, self._tick)

    def discard(self, conn: Connection) -> None:
        self._conns.discard(conn)

    def _tick(self) -> None:
        loop = self._loop
        assert loop is not None
        now = self.now = _monotonic()
        for conn in [c for c in self._conns if c.deadline and c.deadline <= now]:
            conn.on_deadline()
        self._handle = loop.call_later(self._interval, self._tick) if self._conns else None

    def close(self) -> None:
        """Stop the clock and close the idle keep-alive connections; busy ones finish."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        for conn in list(self._conns):
            conn.close_if_idle()


class _LimitExceeded(Exception):
    def __init__(self, status: int, msg: str) -> None:
        super().__init__(msg)
        self.status = status
        self.msg = msg
