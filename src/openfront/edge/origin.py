"""The edge's origin client: HTTP/1.1 over a keep-alive connection pool.

Timeouts and attempts follow CloudFront (guide §1.10): each of `connect_attempts` connects is
bounded by `connect_timeout`; the first response byte and every later read by `read_timeout`.
Socket-layer failures leave this module only as `openfront.errors.Origin*` exceptions.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from functools import partial
from types import TracebackType

from openfront.cache.policy import Origin
from openfront.edge.origin_conn import (
    ConnectionClosedEarly,
    OriginConnection,
    ResponseHead,
    encode_request_head,
)
from openfront.errors import OriginConnectError, OriginError

__all__ = ["OriginClient", "OriginResponse"]

Body = bytes | bytearray | memoryview
PoolKey = tuple[str, str, int]

# RFC 9110 §9.2.2: only these may be replayed after a keep-alive race.
_RETRYABLE = frozenset({"GET", "HEAD", "OPTIONS"})
# RFC 9110 §8.6: methods whose empty content still warrants Content-Length: 0 (origins answer 411).
_EMPTY_LENGTH_METHODS = frozenset({"POST", "PUT", "PATCH"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_JOIN_LIMIT = 64 * 1024
_CLOSE_WAIT = 1.0


class OriginResponse:
    """A response whose body streams from the connection; release() returns it to the pool."""

    __slots__ = (
        "_client",
        "_conn",
        "_done",
        "_keepalive",
        "_key",
        "_read_timeout",
        "chunked",
        "close_delimited",
        "connect_seconds",
        "content_length",
        "first_byte_seconds",
        "headers",
        "reason",
        "reused",
        "status",
        "trailers",
        "version",
    )

    def __init__(
        self,
        client: OriginClient,
        conn: OriginConnection,
        head: ResponseHead,
        key: PoolKey,
        origin: Origin,
        *,
        connect_seconds: float,
        first_byte_seconds: float,
        reused: bool,
    ) -> None:
        self._client = client
        self._conn: OriginConnection | None = conn
        self._key = key
        self._keepalive = origin.keepalive_timeout
        self._read_timeout = origin.read_timeout
        self._done = False
        self.status = head.status
        self.reason = head.reason
        self.version = head.version
        self.headers = head.headers
        # Bytes read() will yield: 0 for HEAD/204/304 whatever the Content-Length header says.
        self.content_length = head.content_length
        self.chunked = head.chunked
        self.close_delimited = head.close_delimited
        self.trailers = conn.trailers
        self.connect_seconds = connect_seconds
        self.first_byte_seconds = first_byte_seconds
        self.reused = reused

    @property
    def complete(self) -> bool:
        """True once the body ended with valid framing."""
        conn = self._conn
        if conn is None:
            return self._done
        return conn.body_done and conn.error is None

    async def read(self) -> bytes:
        """The next body chunk as it arrives; b"" at the end (the connection is then released)."""
        conn = self._conn
        if conn is None:
            if self._done:
                return b""
            raise OriginError("origin response was closed before its body ended")
        try:
            chunk = await conn.read_chunk(self._read_timeout)
        except BaseException:
            self.close()
            raise
        if not chunk:
            self.release()
        return chunk

    def release(self) -> None:
        """Pool the connection if the exchange ended cleanly and may be reused, else close it."""
        conn = self._conn
        if conn is None:
            return
        self._done = conn.body_done and conn.error is None
        self._conn = None
        if conn.can_reuse:
            self._client._put_idle(self._key, conn, self._keepalive)
        elif self._done:
            conn.close()
        else:
            conn.abort()

    def close(self) -> None:
        """Abort: close the connection whatever state the body is in."""
        conn = self._conn
        if conn is None:
            return
        self._done = conn.body_done and conn.error is None
        self._conn = None
        conn.abort()

    async def aclose(self) -> None:
        self.release()

    async def __aenter__(self) -> OriginResponse:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.release()
        else:
            self.close()


class OriginClient:
    """HTTP/1.1 client with keep-alive pools keyed by (scheme, host, port); one per event loop."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_idle_per_host: int = 32,
        high_water: int = 1 << 20,
    ) -> None:
        # Built on first use: loading the system CA store takes ~0.1 s, wasted on http-only edges.
        self._ssl = ssl_context
        self._max_idle = max_idle_per_host
        self._high_water = high_water
        self._idle: dict[PoolKey, dict[OriginConnection, None]] = {}
        self._closed = False

    async def __aenter__(self) -> OriginClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def request(
        self,
        origin: Origin,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]],
        body: Body | AsyncIterator[bytes] | None = None,
        *,
        body_length: int | None = None,
        scheme: str | None = None,
        head: bool | None = None,
    ) -> OriginResponse:
        """Send one request; the response head is read, the body is left to stream."""
        scheme = _resolve_scheme(origin, scheme)
        framing = _framing_header(method, body, body_length)
        host = _host_header(origin.domain, origin.port, scheme)
        request_head, wants_close = encode_request_head(method, target, headers, host, framing)
        exchange = _Exchange(
            request_head,
            body,
            body_length,
            method == "HEAD" if head is None else head,
            wants_close,
            origin.read_timeout,
        )
        key = (scheme, origin.domain.lower(), origin.port)
        loop = asyncio.get_running_loop()
        start = loop.time()
        conn = self._take_idle(key)
        if conn is not None:
            try:
                return await self._run(exchange, conn, key, origin, start, None)
            except ConnectionClosedEarly as exc:
                replayable = method in _RETRYABLE and not exchange.streams_body
                if exc.response_started or not replayable:
                    raise
        connect_start = loop.time()
        conn = await self._connect(origin, scheme)
        connect_seconds = loop.time() - connect_start
        return await self._run(exchange, conn, key, origin, start, connect_seconds)

    async def close(self) -> None:
        """Close every pooled connection; in-flight responses close theirs on release."""
        self._closed = True
        conns = [conn for idle in self._idle.values() for conn in idle]
        self._idle.clear()
        for conn in conns:
            _unpool(conn)
            conn.close()
        await _wait_closed(conns)

    async def _run(
        self,
        exchange: _Exchange,
        conn: OriginConnection,
        key: PoolKey,
        origin: Origin,
        start: float,
        connect_seconds: float | None,
    ) -> OriginResponse:
        """Run the exchange; connect_seconds is None on a pooled connection."""
        try:
            head = await exchange.run(conn)
        except BaseException:
            conn.abort()
            raise
        return OriginResponse(
            self,
            conn,
            head,
            key,
            origin,
            connect_seconds=connect_seconds or 0.0,
            first_byte_seconds=conn.first_byte_at - start,
            reused=connect_seconds is None,
        )

    async def _connect(self, origin: Origin, scheme: str) -> OriginConnection:
        tls = self._tls_context() if scheme == "https" else None
        attempts = max(1, origin.connect_attempts)
        failure = ""
        for _ in range(attempts):
            try:
                async with asyncio.timeout(origin.connect_timeout):
                    return await self._open(origin, tls)
            except TimeoutError:
                failure = f"timed out after {origin.connect_timeout:g} s"
            except ssl.SSLCertVerificationError as exc:
                # The same certificate would be refused again: no point in more attempts.
                raise OriginConnectError(
                    f"TLS certificate of origin {origin.domain} rejected: {exc}"
                ) from None
            except OSError as exc:
                failure = str(exc) or type(exc).__name__
        raise OriginConnectError(
            f"cannot connect to origin {origin.domain}:{origin.port} "
            f"after {attempts} attempt(s): {failure}"
        )

    def _tls_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    async def _open(self, origin: Origin, tls: ssl.SSLContext | None) -> OriginConnection:
        loop = asyncio.get_running_loop()
        conn = OriginConnection(loop, self._high_water)
        await loop.create_connection(
            lambda: conn,
            origin.domain,
            origin.port,
            ssl=tls,
            server_hostname=origin.domain if tls is not None else None,
        )
        return conn

    def _take_idle(self, key: PoolKey) -> OriginConnection | None:
        idle = self._idle.get(key)
        while idle:
            conn, _ = idle.popitem()  # most recently used first, so the oldest expire
            _unpool(conn)
            if not conn.lost and conn.transport is not None and not conn.transport.is_closing():
                if not idle:
                    del self._idle[key]
                return conn
        self._idle.pop(key, None)
        return None

    def _put_idle(self, key: PoolKey, conn: OriginConnection, keepalive: float) -> None:
        idle = self._idle.setdefault(key, {})
        if self._closed or keepalive <= 0 or len(idle) >= self._max_idle:
            if not idle:
                del self._idle[key]
            conn.close()
            return
        conn.end_exchange()
        idle[conn] = None
        loop = asyncio.get_running_loop()
        conn.on_idle_lost = partial(self._drop_idle, key)
        conn.idle_handle = loop.call_later(keepalive, self._expire_idle, key, conn)

    def _drop_idle(self, key: PoolKey, conn: OriginConnection) -> None:
        idle = self._idle.get(key)
        if idle is not None:
            idle.pop(conn, None)
            if not idle:
                del self._idle[key]
        _unpool(conn)

    def _expire_idle(self, key: PoolKey, conn: OriginConnection) -> None:
        conn.idle_handle = None
        self._drop_idle(key, conn)
        conn.close()


@dataclass(slots=True)
class _Exchange:
    """One request's bytes and body, replayable when the body is not a stream."""

    request_head: bytes
    body: Body | AsyncIterator[bytes] | None
    body_length: int | None
    head_only: bool
    wants_close: bool
    read_timeout: float

    @property
    def streams_body(self) -> bool:
        return self.body is not None and not isinstance(self.body, Body)

    async def run(self, conn: OriginConnection) -> ResponseHead:
        conn.start_exchange(head_only=self.head_only)
        if self.wants_close:
            conn.reusable = False
        try:
            await self._send(conn)
        except OriginError:
            if conn.head is None:
                raise
            # The origin answered before taking the whole body (e.g. 413): that answer stands.
            conn.reusable = False
        return await conn.wait_head(self.read_timeout)

    async def _send(self, conn: OriginConnection) -> None:
        body = self.body
        if body is None:
            conn.write(self.request_head)
        elif isinstance(body, Body):
            if len(body) <= _JOIN_LIMIT:
                conn.write(self.request_head + body)
            else:
                conn.write(self.request_head)
                conn.write(body)
        else:
            conn.write(self.request_head)
            if self.body_length is None:
                await _send_chunked(conn, body, self.read_timeout)
            else:
                await _send_sized(conn, body, self.body_length, self.read_timeout)


async def _send_chunked(conn: OriginConnection, body: AsyncIterator[bytes], limit: float) -> None:
    async for chunk in body:
        if chunk:  # an empty chunk would end the body early
            conn.write_many([b"%x\r\n" % len(chunk), chunk, b"\r\n"])
            await conn.drain(limit)
    conn.write(b"0\r\n\r\n")


async def _send_sized(
    conn: OriginConnection, body: AsyncIterator[bytes], length: int, limit: float
) -> None:
    sent = 0
    async for chunk in body:
        sent += len(chunk)
        if sent > length:
            # Writing past the declared length would smuggle bytes into a next request.
            raise ValueError(f"request body is longer than the declared {length} bytes")
        conn.write(chunk)
        await conn.drain(limit)
    if sent != length:
        raise ValueError(f"request body ended after {sent} of the declared {length} bytes")


def _resolve_scheme(origin: Origin, scheme: str | None) -> str:
    if origin.protocol == "http-only":
        return "http"
    if origin.protocol == "https-only":
        return "https"
    if scheme in ("http", "https"):
        return scheme
    raise ValueError(f"origin {origin.id} is match-viewer: scheme must be 'http' or 'https'")


def _framing_header(
    method: str, body: Body | AsyncIterator[bytes] | None, body_length: int | None
) -> str | None:
    if body_length is not None and body_length < 0:
        raise ValueError(f"body_length must not be negative, got {body_length}")
    if body is None:
        if body_length:
            raise ValueError(f"body_length is {body_length} but there is no body")
        return "Content-Length: 0\r\n" if method in _EMPTY_LENGTH_METHODS else None
    if isinstance(body, Body):
        if body_length is not None and body_length != len(body):
            raise ValueError(f"body_length {body_length} does not match a {len(body)}-byte body")
        return f"Content-Length: {len(body)}\r\n"
    if body_length is None:
        return "Transfer-Encoding: chunked\r\n"
    return f"Content-Length: {body_length}\r\n"


def _host_header(domain: str, port: int, scheme: str) -> str:
    host = f"[{domain}]" if ":" in domain else domain
    return host if _DEFAULT_PORTS[scheme] == port else f"{host}:{port}"


def _unpool(conn: OriginConnection) -> None:
    conn.on_idle_lost = None
    if conn.idle_handle is not None:
        conn.idle_handle.cancel()
        conn.idle_handle = None


async def _wait_closed(conns: list[OriginConnection]) -> None:
    """Wait for the sockets to be released; abort those a TLS shutdown keeps waiting."""
    pending = {conn.closed for conn in conns if not conn.closed.done()}
    if not pending:
        return
    _, pending = await asyncio.wait(pending, timeout=_CLOSE_WAIT)
    if pending:
        for conn in conns:
            if not conn.closed.done():
                conn.abort()
        await asyncio.wait(pending)
