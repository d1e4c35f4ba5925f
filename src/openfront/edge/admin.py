"""The edge's admin HTTP server: health, Prometheus metrics, status and invalidation.

It listens on its own port, off the viewer hot path, so it favours plain, strict code over speed:
asyncio streams, httptools for parsing, one request per connection (`Connection: close`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import inspect
import ipaddress
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeAlias, TypeVar, cast

import httptools

log = logging.getLogger(__name__)

T = TypeVar("T")
MaybeAwaitable: TypeAlias = T | Awaitable[T]

MAX_BODY = 1 << 20
MAX_HEAD = 16 << 10  # request line + headers; the admin API needs little
REQUEST_TIMEOUT = 10.0
# After an early error answer, read (and drop) what the client is still sending for a while, so
# closing does not reset the connection before the client has read the answer.
LINGER_SECONDS = 2.0
LINGER_BYTES = 8 << 20

# CloudFront limits (guide §1.14).
MAX_PATHS = 3000
MAX_PATH_CHARS = 4000
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_DIST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_NEEDS_ENCODING = re.compile(r"[\x00-\x20\x7f-\U0010ffff]")
_INVALIDATION_KEYS = frozenset({"DistributionId", "Paths"})

_ROUTES: dict[str, tuple[str, ...]] = {
    "/healthz": ("GET", "HEAD"),
    "/metrics": ("GET", "HEAD"),
    "/status": ("GET", "HEAD"),
    "/invalidate": ("POST",),
}
_PROTECTED = frozenset({"/status", "/invalidate"})


@dataclass(frozen=True, slots=True)
class AdminHandlers:
    """Callbacks the edge supplies. Each may return its value or an awaitable of it.

    `invalidate` may raise LookupError (unknown distribution, answered 404) or ValueError
    (answered 400); anything else is a 500.
    """

    invalidate: Callable[[str | None, list[str]], Awaitable[dict[str, Any]]]
    metrics: Callable[[], MaybeAwaitable[bytes]]
    health: Callable[[], MaybeAwaitable[dict[str, Any]]]
    status: Callable[[], MaybeAwaitable[dict[str, Any]]]


class BadRequest(ValueError):
    """An admin request the server refuses; carries the status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class _Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)

    def encode(self, head_only: bool = False) -> bytes:
        lines = [
            f"HTTP/1.1 {self.status} {HTTPStatus(self.status).phrase}",
            f"Content-Type: {self.content_type}",
            f"Content-Length: {len(self.body)}",
            "Cache-Control: no-store",
            "Connection: close",
            *(f"{k}: {v}" for k, v in self.headers),
        ]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head if head_only else head + self.body


def _json(status: int, obj: object, headers: list[tuple[str, str]] | None = None) -> _Response:
    body = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
    return _Response(status, body, headers=headers or [])


def _error(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> _Response:
    return _json(status, {"error": message}, headers)


class _Request:
    """httptools callbacks: collects one request within the size limits."""

    def __init__(self, max_body: int) -> None:
        self.max_body = max_body
        self.url = b""
        self.head_bytes = 0
        self.headers: dict[bytes, bytes] = {}
        self.body = bytearray()
        self.headers_done = False
        self.complete = False
        self.error: _Response | None = None

    def on_url(self, url: bytes) -> None:
        self.url += url
        self._count_head(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"authorization" and name in self.headers:
            value = b""  # two credentials: accept neither
        self.headers[name] = value
        self._count_head(len(name) + len(value) + 4)

    def _count_head(self, n: int) -> None:
        self.head_bytes += n
        if self.head_bytes > MAX_HEAD and self.error is None:
            self.error = _error(431, f"request head larger than {MAX_HEAD} bytes")

    def on_headers_complete(self) -> None:
        self.headers_done = True
        length = self.headers.get(b"content-length", b"0")
        if length.isdigit() and int(length) > self.max_body:
            self.error = _error(413, f"request body larger than {self.max_body} bytes")

    def on_body(self, body: bytes) -> None:
        if self.error is None and len(self.body) + len(body) > self.max_body:
            self.error = _error(413, f"request body larger than {self.max_body} bytes")
        if self.error is None:
            self.body += body

    def on_message_complete(self) -> None:
        self.complete = True


@dataclass(frozen=True, slots=True)
class _Parsed:
    method: str
    path: str
    headers: dict[bytes, bytes]
    body: bytes


def parse_invalidation(body: bytes) -> tuple[str | None, list[str]]:
    """Validate `{"DistributionId": "E...", "Paths": [...]}` (guide §1.14); BadRequest if not."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise BadRequest("body must be a JSON object with DistributionId and Paths")
    unknown = sorted(set(doc) - _INVALIDATION_KEYS)
    if unknown:
        raise BadRequest(f"unknown keys {unknown}; allowed: DistributionId, Paths")
    dist = doc.get("DistributionId")
    if dist is not None and (not isinstance(dist, str) or not _DIST_ID.fullmatch(dist)):
        raise BadRequest("DistributionId must be a distribution id such as E2EXAMPLE")
    paths = doc.get("Paths")
    if not isinstance(paths, list) or not 1 <= len(paths) <= MAX_PATHS:
        raise BadRequest(f"Paths must be a list of 1 to {MAX_PATHS} paths")
    for i, p in enumerate(paths):
        check_path(p, f"Paths[{i}]")
    return dist, paths


def check_path(path: object, where: str) -> None:
    if not isinstance(path, str):
        raise BadRequest(f"{where}: must be a string")
    if not path.startswith("/"):
        raise BadRequest(f"{where}: must start with '/'")
    if len(path) > MAX_PATH_CHARS:
        raise BadRequest(f"{where}: longer than {MAX_PATH_CHARS} characters")
    if "*" in path[:-1]:
        raise BadRequest(f"{where}: '*' is allowed only as the last character")
    if _NEEDS_ENCODING.search(path):
        raise BadRequest(f"{where}: spaces, control and non-ASCII characters must be URL-encoded")


async def _resolve(value: MaybeAwaitable[T]) -> T:
    if inspect.isawaitable(value):
        return cast(T, await value)
    return value


class AdminServer:
    """Admin routes on their own port. With no token, protected routes work only on loopback."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        token: str | None,
        handlers: AdminHandlers,
        max_body: int = MAX_BODY,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        if token is not None and (not token or not token.isprintable() or " " in token):
            raise ValueError("admin token must be non-empty printable text without spaces")
        self.host = host
        self._port = port
        self._token = token.encode() if token is not None else None
        self._handlers = handlers
        self._max_body = max_body
        self._timeout = request_timeout
        self._server: asyncio.Server | None = None
        self._loopback = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False

    def __repr__(self) -> str:
        token = "set" if self._token else None
        return f"AdminServer(host={self.host!r}, port={self.port}, token={token})"

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def loopback_only(self) -> bool:
        return self._loopback

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_client, self.host, self._port)
        self._loopback = all(_is_loopback(s.getsockname()[0]) for s in self._server.sockets)
        log.info("admin server on %s:%d (token %s)", self.host, self.port, _token_state(self))

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._closing = True
        server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await server.wait_closed()

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            # asyncio's stream callback logs a cancelled connection task as an error; a
            # cancellation from our own close() is the normal way to drop a connection.
            if not self._closing:
                raise
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                got = await self._read(reader, writer)
        except TimeoutError:
            got = _error(408, "request not received in time")
        if got is None:
            return
        if isinstance(got, _Response):
            writer.write(got.encode())
            await writer.drain()
            log.debug("admin: answered %d before a whole request arrived", got.status)
            await _linger(reader, writer)
            return
        resp = await self._dispatch(got)
        writer.write(resp.encode(head_only=got.method == "HEAD"))
        await writer.drain()
        log.debug("admin: %s %s -> %d", got.method, got.path, resp.status)

    async def _read(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> _Parsed | _Response | None:
        req = _Request(self._max_body)
        parser = httptools.HttpRequestParser(req)
        seen = 0
        continued = False
        while not req.complete:
            data = await reader.read(65536)
            if not data:
                return _error(400, "incomplete request") if seen else None
            seen += len(data)
            try:
                parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                if not req.complete:
                    return _error(400, "protocol upgrade is not supported")
            except httptools.HttpParserError as exc:
                return _error(400, f"malformed request: {exc}")
            if req.error is not None:
                return req.error
            if not req.headers_done and seen > MAX_HEAD:
                return _error(431, f"request head larger than {MAX_HEAD} bytes")
            if req.headers_done and not req.complete and not continued:
                continued = True
                # curl sends Expect: 100-continue for bodies over 1 KiB and waits a second for it.
                if req.headers.get(b"expect", b"").lower() == b"100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            path = httptools.parse_url(req.url).path.decode("latin-1")
        except httptools.HttpParserError:
            return _error(400, "malformed request target")
        method = parser.get_method().decode("latin-1")
        return _Parsed(method, path, req.headers, bytes(req.body))

    async def _dispatch(self, req: _Parsed) -> _Response:
        allowed = _ROUTES.get(req.path)
        if allowed is None:
            return _error(404, f"no admin route {req.path}")
        if req.method not in allowed:
            return _error(405, f"{req.method} not allowed", [("Allow", ", ".join(allowed))])
        if req.path in _PROTECTED:
            refused = self._check_auth(req.headers)
            if refused is not None:
                return refused
        try:
            return await self._route(req)
        except BadRequest as exc:
            return _error(exc.status, str(exc))
        except LookupError as exc:
            return _error(404, _message(exc))
        except ValueError as exc:
            return _error(400, _message(exc))
        except Exception:
            log.exception("admin: %s %s failed", req.method, req.path)
            return _error(500, "internal error")

    async def _route(self, req: _Parsed) -> _Response:
        h = self._handlers
        if req.path == "/healthz":
            return _json(200, await _resolve(h.health()))
        if req.path == "/metrics":
            return _Response(200, await _resolve(h.metrics()), METRICS_CONTENT_TYPE)
        if req.path == "/status":
            return _json(200, await _resolve(h.status()))
        dist, paths = parse_invalidation(req.body)
        return _json(200, await h.invalidate(dist, paths))

    def _check_auth(self, headers: dict[bytes, bytes]) -> _Response | None:
        if self._token is None:
            if self._loopback:
                return None
            return _error(403, "admin token not configured")
        challenge = [("WWW-Authenticate", 'Bearer realm="openfront-admin"')]
        value = headers.get(b"authorization")
        if value is None:
            return _error(401, "missing Authorization: Bearer <token>", challenge)
        scheme, _, credential = value.strip().partition(b" ")
        credential = credential.strip()
        if scheme.lower() != b"bearer" or not credential:
            return _error(401, "expected Authorization: Bearer <token>", challenge)
        if not hmac.compare_digest(credential, self._token):
            return _error(403, "invalid admin token")
        return None


def _message(exc: BaseException) -> str:
    # KeyError's str() adds quotes; the caller's message is what the client should see.
    return str(exc.args[0]) if exc.args else type(exc).__name__


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _token_state(server: AdminServer) -> str:
    if server._token is not None:
        return "required"
    return "not configured: loopback only" if server.loopback_only else "not configured: refused"


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    if writer.can_write_eof():
        writer.write_eof()
    remaining = LINGER_BYTES
    with contextlib.suppress(TimeoutError, ConnectionError, OSError):
        async with asyncio.timeout(LINGER_SECONDS):
            while remaining > 0:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                remaining -= len(chunk)
