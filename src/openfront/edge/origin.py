"""The edge's origin client: HTTP/1.1 over a keep-alive connection pool.

Timeouts and attempts follow CloudFront (guide §1.10): each of `connect_attempts` connects is
bounded by `connect_timeout`; the first response byte and every later read by `read_timeout`.
Socket-layer failures leave this module only as `openfront.errors.Origin*` exceptions.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import ssl
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from types import TracebackType

from openfront.cache.policy import Origin
from openfront.edge.origin_conn import (
    ConnectionClosedEarly,
    OriginConnection,
    ResponseHead,
    encode_request_head,
)
from openfront.edge.origin_tls import OriginTls, bad_server_name, certificate_names_match, sni_name
from openfront.edge.s3sign import S3Signer
from openfront.errors import OriginConnectError, OriginError

__all__ = ["OriginClient", "OriginResponse", "for_viewer"]

_log = logging.getLogger(__name__)

Body = bytes | bytearray | memoryview
# (scheme, host, port, SNI name, TLS versions): a connection is only reused for requests that
# would have opened it the same way.
PoolKey = tuple[str, str, int, str, tuple[str, ...]]

# RFC 9110 §9.2.2: only these may be replayed after a keep-alive race.
_RETRYABLE = frozenset({"GET", "HEAD", "OPTIONS"})
# RFC 9110 §8.6: methods whose empty content still warrants Content-Length: 0 (origins answer 411).
_EMPTY_LENGTH_METHODS = frozenset({"POST", "PUT", "PATCH"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_JOIN_LIMIT = 64 * 1024
_CLOSE_WAIT = 1.0
_TLS_LOG_EVERY = 60.0  # seconds between repeats of one origin's TLS failure in the log


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
    """HTTP/1.1 client with keep-alive pools per scheme, host, port and TLS name; one per loop.

    TLS contexts come from `tls` (per origin's allowed versions); `ssl_context`, when given, is
    used for every HTTPS origin instead.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        tls: OriginTls | None = None,
        max_idle_per_host: int = 32,
        high_water: int = 1 << 20,
        s3: S3Signer | None = None,
    ) -> None:
        self.s3 = s3 or S3Signer()  # signs S3 origins' requests (Origin Access Control)
        self._ssl = ssl_context
        self._tls = tls or OriginTls()
        self._tls_logged: dict[tuple[str, str], float] = {}
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
        """Send one request; the response head is read, the body is left to stream.

        `scheme` is the viewer's, needed for match-viewer origins.
        """
        origin = for_viewer(origin, scheme)
        scheme = "https" if origin.protocol == "https-only" else "http"
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
        if scheme == "https":
            sent_host = next((v for n, v in headers if n.lower() == "host"), "")
            key = (
                scheme,
                origin.domain.lower(),
                origin.port,
                _sni(origin, sent_host),
                origin.tls_versions,
            )
        else:
            key = (scheme, origin.domain.lower(), origin.port, "", ())
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
        conn = await self._connect(origin, key)
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

    async def _connect(self, origin: Origin, key: PoolKey) -> OriginConnection:
        scheme, _, _, sni, versions = key
        tls: ssl.SSLContext | None = None
        other_name = ""  # a second name the certificate may carry (CloudFront: either matches)
        if scheme == "https":
            own_check = self._ssl is None and sni != origin.domain.lower()
            other_name = origin.domain if own_check else ""
            tls = self._ssl or self._tls.context(versions, check_hostname=not own_check)
            problem = bad_server_name(sni)
            if problem is not None:
                raise self._tls_failed(origin, f"no TLS server name: {problem}")
        attempts = max(1, origin.connect_attempts)
        failure = ""
        for _ in range(attempts):
            try:
                async with asyncio.timeout(origin.connect_timeout):
                    return await self._open(origin, tls, sni, other_name)
            except TimeoutError:
                failure = f"timed out after {origin.connect_timeout:g} s"
            except (ssl.SSLCertVerificationError, _NameMismatch) as exc:
                # The same certificate would be refused again: no point in more attempts.
                reason = getattr(exc, "verify_message", None) or str(exc)
                raise self._tls_failed(origin, f"certificate rejected: {reason}") from None
            except ssl.SSLError as exc:
                failure = f"TLS handshake failed: {getattr(exc, 'reason', None) or exc}"
            except OSError as exc:
                failure = str(exc) or type(exc).__name__
        message = f"after {attempts} attempt(s): {failure}"
        if failure.startswith("TLS"):
            raise self._tls_failed(origin, message)
        raise OriginConnectError(
            f"cannot connect to origin {origin.domain}:{origin.port} {message}"
        )

    def _tls_failed(self, origin: Origin, reason: str) -> OriginConnectError:
        """The error for a failed TLS connect, logged (once a minute per origin and reason)."""
        message = f"TLS to origin {origin.id} ({origin.domain}:{origin.port}) failed: {reason}"
        now = asyncio.get_running_loop().time()
        key = (origin.id, reason)
        if now - self._tls_logged.get(key, -_TLS_LOG_EVERY) >= _TLS_LOG_EVERY:
            if len(self._tls_logged) >= 1024:
                self._tls_logged.clear()
            self._tls_logged[key] = now
            _log.warning("%s", message)
        return OriginConnectError(message)

    async def _open(
        self, origin: Origin, tls: ssl.SSLContext | None, sni: str, other_name: str
    ) -> OriginConnection:
        loop = asyncio.get_running_loop()
        conn = OriginConnection(loop, self._high_water)
        await loop.create_connection(
            lambda: conn,
            origin.domain,
            origin.port,
            ssl=tls,
            server_hostname=sni if tls is not None else None,
        )
        if other_name and self._tls.verify:
            assert conn.transport is not None
            ssl_object = conn.transport.get_extra_info("ssl_object")
            cert = ssl_object.getpeercert() if ssl_object is not None else None
            if not cert or not certificate_names_match(cert, (sni, other_name)):
                conn.abort()
                raise _NameMismatch(
                    f"certificate names neither {sni!r} (the Host header) nor {other_name!r}"
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


class _NameMismatch(Exception):
    pass


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


def for_viewer(origin: Origin, scheme: str | None) -> Origin:
    """The origin as reached for a viewer's scheme: match-viewer becomes http- or https-only."""
    if origin.protocol != "match-viewer":
        return origin
    if scheme == "https":
        return _over_https(origin)
    if scheme == "http":
        return _over_http(origin)
    raise ValueError(f"origin {origin.id} is match-viewer: scheme must be 'http' or 'https'")


@lru_cache(maxsize=1024)
def _over_https(origin: Origin) -> Origin:
    return dataclasses.replace(origin, protocol="https-only", port=origin.https_port)


@lru_cache(maxsize=1024)
def _over_http(origin: Origin) -> Origin:
    return dataclasses.replace(origin, protocol="http-only")


def _sni(origin: Origin, host_header: str) -> str:
    """The TLS name CloudFront sends: the Host it forwards, else the origin's domain."""
    return (sni_name(host_header) if host_header else "") or origin.domain.lower()


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
