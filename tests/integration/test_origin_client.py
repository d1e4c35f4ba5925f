"""The origin client against small scripted origins on 127.0.0.1 (real sockets, no sleeps)."""

from __future__ import annotations

import asyncio
import datetime
import functools
import ipaddress
import os
import socket
import ssl
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openfront.cache.policy import Origin, ProtocolPolicy
from openfront.edge.origin import OriginClient, OriginResponse
from openfront.edge.origin_conn import encode_request_head
from openfront.errors import OriginConnectError, OriginInvalidResponse, OriginTimeout

T = TypeVar("T")
MiB = 1 << 20


def aio(fn: Callable[..., Coroutine[Any, Any, T]]) -> Callable[..., T]:
    """Run an async test on a fresh event loop (no plugin needed)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> T:
        return asyncio.run(fn(*args, **kwargs))

    return run


# -- a scriptable origin ---------------------------------------------------------------------------


@dataclass
class Request:
    line: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    body_size: int = 0

    def header(self, name: str) -> str | None:
        for n, v in self.headers:
            if n.lower() == name:
                return v
        return None


@dataclass
class Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    index: int

    async def read_request(self, keep: int = 64 * 1024) -> Request | None:
        """The next request, its body kept up to `keep` bytes and counted in full; None at EOF."""
        try:
            raw = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        line, *lines = raw.decode("latin-1").split("\r\n")[:-2]
        headers = [(n, v.strip()) for n, v in (h.split(":", 1) for h in lines)]
        req = Request(line, headers)
        if req.header("transfer-encoding") == "chunked":
            await self._read_chunked(req, keep)
        elif (length := req.header("content-length")) is not None:
            await self._read_sized(req, int(length), keep)
        return req

    async def _read_sized(self, req: Request, length: int, keep: int) -> None:
        while req.body_size < length:
            data = await self.reader.read(min(length - req.body_size, 1 << 18))
            if not data:
                raise ConnectionError("request body truncated")
            self._take(req, data, keep)

    async def _read_chunked(self, req: Request, keep: int) -> None:
        while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await self._read_sized(req, req.body_size + size, keep)
            assert await self.reader.readexactly(2) == b"\r\n"
        assert await self.reader.readuntil(b"\r\n") == b"\r\n"

    @staticmethod
    def _take(req: Request, data: bytes, keep: int) -> None:
        if req.body_size < keep:
            req.body += data[: keep - req.body_size]
        req.body_size += len(data)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def wait_eof(self) -> None:
        while await self.reader.read(65536):
            pass


Handler = Callable[[Conn], Awaitable[None]]


@dataclass
class ScriptedOrigin:
    handler: Handler
    tls: ssl.SSLContext | None = None
    connections: int = 0
    requests: list[Request] = field(default_factory=list)
    closed: list[asyncio.Event] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    port: int = 0

    async def __aenter__(self) -> ScriptedOrigin:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        for writer in self._writers:
            writer.close()  # handlers waiting on the client see EOF and return
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def origin(self, **kw: Any) -> Origin:
        settings: dict[str, Any] = {"connect_timeout": 5.0, "read_timeout": 5.0} | kw
        protocol: ProtocolPolicy = "https-only" if self.tls is not None else "http-only"
        return Origin(id="o", domain="127.0.0.1", port=self.port, protocol=protocol, **settings)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        conn = Conn(reader, writer, self.connections)
        self.connections += 1
        closed = asyncio.Event()
        self.closed.append(closed)
        try:
            await self.handler(conn)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, ssl.SSLError):
                pass
            self._writers.discard(writer)
            closed.set()
            self._tasks.discard(task)


def responder(
    make: Callable[[Request, Conn], bytes], origin_box: list[ScriptedOrigin] | None = None
) -> Handler:
    """A keep-alive loop answering each request with make(request, conn)."""

    async def handle(conn: Conn) -> None:
        while (req := await conn.read_request()) is not None:
            if origin_box:
                origin_box[0].requests.append(req)
            await conn.send(make(req, conn))

    return handle


def recording(make: Callable[[Request, Conn], bytes], **kw: Any) -> ScriptedOrigin:
    """An origin answering with make(...) and recording every request; start it with async with."""
    box: list[ScriptedOrigin] = []
    server = ScriptedOrigin(responder(make, box), **kw)
    box.append(server)
    return server


def fixed(raw: bytes) -> Callable[[Request, Conn], bytes]:
    return lambda _req, _conn: raw


OK_HELLO = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


async def read_all(resp: OriginResponse) -> bytes:
    parts = []
    while chunk := await resp.read():
        parts.append(chunk)
    return b"".join(parts)


# -- bodies and framing ----------------------------------------------------------------------------


@aio
async def test_content_length_response_keeps_header_order_case_and_duplicates() -> None:
    raw = (
        b"HTTP/1.1 201 Created Fine\r\nX-B: 1\r\nset-cookie: a=1\r\nSet-Cookie: b=2\r\n"
        b"Content-Length: 5\r\n\r\nhello"
    )
    server = recording(fixed(raw))
    async with server, OriginClient() as client:
        resp = await client.request(
            server.origin(), "GET", "/a?b=1", [("X-Amz-Cf-Id", "abc"), ("Accept", "*/*")]
        )
        assert (resp.status, resp.reason, resp.version) == (201, "Created Fine", "1.1")
        assert resp.headers == [
            ("X-B", "1"),
            ("set-cookie", "a=1"),
            ("Set-Cookie", "b=2"),
            ("Content-Length", "5"),
        ]
        assert (resp.content_length, resp.chunked, resp.close_delimited) == (5, False, False)
        assert await read_all(resp) == b"hello"
        assert resp.complete and not resp.reused
        req = server.requests[0]
        assert req.line == "GET /a?b=1 HTTP/1.1"
        assert req.headers == [
            ("X-Amz-Cf-Id", "abc"),
            ("Accept", "*/*"),
            ("Host", f"127.0.0.1:{server.port}"),
        ]


@pytest.mark.parametrize(
    ("raw", "body", "chunked", "close_delimited", "trailers"),
    [
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;name=value\r\nhello\r\n1;x\r\n \r\n5\r\nworld\r\n0\r\nX-Checksum: 42\r\n\r\n",
            b"hello world",
            True,
            False,
            [("X-Checksum", "42")],
            id="chunked-extensions-trailers",
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"",
            True,
            False,
            [],
            id="chunked-empty",
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
            b"until the end",
            False,
            True,
            [],
            id="close-delimited",
        ),
        pytest.param(
            b"HTTP/1.0 200 OK\r\n\r\nold school",
            b"old school",
            False,
            True,
            [],
            id="http10-close-delimited",
        ),
        pytest.param(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            b"ok",
            False,
            False,
            [],
            id="interim-responses-skipped",
        ),
    ],
)
@aio
async def test_body_framings(
    raw: bytes,
    body: bytes,
    chunked: bool,
    close_delimited: bool,
    trailers: list[tuple[str, str]],
) -> None:
    async def handle(conn: Conn) -> None:
        await conn.read_request()
        await conn.send(raw)
        if close_delimited:
            conn.writer.close()
        else:
            await conn.wait_eof()

    async with ScriptedOrigin(handle) as server, OriginClient() as client:
        resp = await client.request(server.origin(), "GET", "/", [])
        assert resp.status == 200
        assert (resp.chunked, resp.close_delimited) == (chunked, close_delimited)
        assert await read_all(resp) == body
        assert resp.complete
        assert resp.trailers == trailers


@pytest.mark.parametrize(
    ("method", "raw", "status"),
    [
        ("HEAD", b'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nETag: "x"\r\n\r\n', 200),
        ("HEAD", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 200),
        ("GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\n\r\n", 304),
        ("GET", b"HTTP/1.1 204 No Content\r\n\r\n", 204),
    ],
)
@aio
async def test_responses_without_body_leave_the_connection_reusable(
    method: str, raw: bytes, status: int
) -> None:
    server = recording(lambda req, _c: raw if len(server.requests) == 1 else OK_HELLO)
    async with server, OriginClient() as client:
        resp = await client.request(server.origin(), method, "/", [])
        assert resp.status == status
        assert resp.content_length == 0
        assert await resp.read() == b""
        assert resp.complete
        again = await client.request(server.origin(), "GET", "/", [])
        assert await read_all(again) == b"hello"
        assert again.reused
        assert server.connections == 1


# -- keep-alive pool -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "connections"),
    [
        (OK_HELLO, 1),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello", 3),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello", 3),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 1),
    ],
    ids=["keep-alive", "connection-close", "http10", "chunked"],
)
@aio
async def test_connections_are_reused_only_when_both_sides_allow(
    raw: bytes, connections: int
) -> None:
    server = recording(fixed(raw))
    async with server, OriginClient() as client:
        reused = []
        for _ in range(3):
            resp = await client.request(server.origin(), "GET", "/", [])
            assert await read_all(resp) == b"hello"
            reused.append(resp.reused)
            assert resp.first_byte_seconds >= resp.connect_seconds >= 0
            assert resp.connect_seconds == 0 or not resp.reused
        assert server.connections == connections
        assert reused == ([False, True, True] if connections == 1 else [False] * 3)


@pytest.mark.parametrize(
    ("headers", "host"),
    [([], "127.0.0.1:{port}"), ([("host", "www.example.com")], "www.example.com")],
)
@aio
async def test_host_is_added_only_when_the_caller_gave_none(
    headers: list[tuple[str, str]], host: str
) -> None:
    server = recording(fixed(OK_HELLO))
    async with server, OriginClient() as client:
        await read_all(await client.request(server.origin(), "GET", "/", headers))
        hosts = [v for n, v in server.requests[0].headers if n.lower() == "host"]
        assert hosts == [host.format(port=server.port)]


@aio
async def test_request_asking_to_close_is_not_pooled() -> None:
    server = recording(fixed(OK_HELLO))
    async with server, OriginClient() as client:
        for _ in range(2):
            resp = await client.request(server.origin(), "GET", "/", [("Connection", "close")])
            assert await read_all(resp) == b"hello"
        assert server.connections == 2


@aio
async def test_release_before_the_body_ended_closes_instead_of_pooling() -> None:
    size = 8 * MiB  # more than the client buffers and the kernel holds
    big = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + b"x" * size
    server = recording(fixed(big))
    async with server, OriginClient(high_water=64 * 1024) as client:
        resp = await client.request(server.origin(), "GET", "/", [])
        resp.release()
        assert not resp.complete
        await server.closed[0].wait()
        resp = await client.request(server.origin(), "GET", "/", [])
        assert len(await read_all(resp)) == size
        assert server.connections == 2


@aio
async def test_idle_connection_expires_after_keepalive_timeout() -> None:
    server = recording(fixed(OK_HELLO))
    async with server, OriginClient() as client:
        origin = server.origin(keepalive_timeout=0.05)
        resp = await client.request(origin, "GET", "/", [])
        assert await read_all(resp) == b"hello"
        await server.closed[0].wait()  # the client closed the idle connection
        resp = await client.request(origin, "GET", "/", [])
        assert await read_all(resp) == b"hello"
        assert not resp.reused
        assert server.connections == 2


@aio
async def test_idle_connections_are_bounded_per_host() -> None:
    server = recording(fixed(OK_HELLO))
    async with server, OriginClient(max_idle_per_host=1) as client:
        first = await client.request(server.origin(), "GET", "/", [])
        second = await client.request(server.origin(), "GET", "/", [])
        assert server.connections == 2
        assert await read_all(first) == await read_all(second) == b"hello"
        closed = await asyncio.wait(
            [asyncio.ensure_future(e.wait()) for e in server.closed],
            return_when=asyncio.FIRST_COMPLETED,
        )
        assert len(closed[0]) == 1  # one pooled, the other over the bound was closed


@pytest.mark.parametrize(("method", "retried"), [("GET", True), ("HEAD", True), ("POST", False)])
@aio
async def test_stale_pooled_connection_is_retried_only_for_idempotent_methods(
    method: str, retried: bool
) -> None:
    async def handle(conn: Conn) -> None:
        while (req := await conn.read_request()) is not None:
            server.requests.append(req)
            if conn.index == 0 and len(server.requests) == 2:
                return  # the keep-alive race: the origin closes as the request arrives
            await conn.send(OK_HELLO)

    server = ScriptedOrigin(handle)
    async with server, OriginClient() as client:
        resp = await client.request(server.origin(), "GET", "/", [])
        assert await read_all(resp) == b"hello"
        body = b"data" if method == "POST" else None
        if retried:
            resp = await client.request(server.origin(), method, "/", [], body)
            assert resp.status == 200 and not resp.reused
            await read_all(resp)
            assert server.connections == 2
        else:
            with pytest.raises(OriginConnectError, match="closed the connection"):
                await client.request(server.origin(), method, "/", [], body)
            assert server.connections == 1
        assert server.requests[1].line.startswith(method)


# -- connecting ------------------------------------------------------------------------------------


@aio
async def test_connect_refused_raises_after_all_attempts() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    origin = Origin(id="o", domain="127.0.0.1", port=port, connect_attempts=2)
    async with OriginClient() as client:
        with pytest.raises(OriginConnectError, match="after 2 attempt"):
            await client.request(origin, "GET", "/", [])


@pytest.mark.parametrize("attempts", [1, 3])
@aio
async def test_each_connect_attempt_reaches_the_origin(attempts: int) -> None:
    # A plain TCP listener that drops every connection: each TLS handshake fails, so each
    # attempt shows up here as one accepted connection.
    server = ScriptedOrigin(lambda conn: asyncio.sleep(0))
    async with server, OriginClient() as client:
        origin = Origin(
            id="o",
            domain="127.0.0.1",
            port=server.port,
            protocol="https-only",
            connect_attempts=attempts,
        )
        with pytest.raises(OriginConnectError, match=f"after {attempts} attempt"):
            await client.request(origin, "GET", "/", [])
        assert server.connections == attempts


# -- timeouts and bad responses --------------------------------------------------------------------


@aio
async def test_origin_that_never_answers_times_out() -> None:
    async def handle(conn: Conn) -> None:
        await conn.read_request()
        await conn.wait_eof()

    async with ScriptedOrigin(handle) as server, OriginClient() as client:
        with pytest.raises(OriginTimeout, match="response head"):
            await client.request(server.origin(read_timeout=0.05), "GET", "/", [])
        await server.closed[0].wait()  # the timed-out connection was closed, not pooled


@aio
async def test_body_that_stalls_times_out_between_chunks() -> None:
    async def handle(conn: Conn) -> None:
        await conn.read_request()
        await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
        await conn.wait_eof()

    async with ScriptedOrigin(handle) as server, OriginClient() as client:
        resp = await client.request(server.origin(read_timeout=0.05), "GET", "/", [])
        assert await resp.read() == b"hello"
        with pytest.raises(OriginTimeout, match="response body"):
            await resp.read()
        assert not resp.complete


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"HTTP/1.1 OK\r\n\r\n", "malformed"),
        (b"SPDY/9 200 OK\r\n\r\n", "malformed"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", "malformed"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
            "malformed",
        ),
        (b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n", "64 KiB"),
        (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", "malformed"),
        (b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n", "malformed"),
        (b"", "closed the connection"),
    ],
    ids=["no-status", "not-http", "dup-length", "te-and-cl", "huge-head", "upgrade", "junk", "eof"],
)
@aio
async def test_bad_response_heads_are_invalid(raw: bytes, match: str) -> None:
    async def handle(conn: Conn) -> None:
        await conn.read_request()
        await conn.send(raw)

    async with ScriptedOrigin(handle) as server, OriginClient() as client:
        with pytest.raises((OriginInvalidResponse, OriginConnectError), match=match):
            await client.request(server.origin(), "GET", "/", [])


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n",
    ],
    ids=["short-length", "no-last-chunk", "bad-chunk-size"],
)
@aio
async def test_truncated_or_broken_bodies_raise_and_are_not_complete(raw: bytes) -> None:
    async def handle(conn: Conn) -> None:
        await conn.read_request()
        await conn.send(raw)

    async with ScriptedOrigin(handle) as server, OriginClient() as client:
        resp = await client.request(server.origin(), "GET", "/", [])
        assert await resp.read() == b"hello"
        with pytest.raises(OriginInvalidResponse):
            await resp.read()
        assert not resp.complete


# -- request bodies --------------------------------------------------------------------------------


async def chunks(total: int, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    block = b"u" * size
    sent = 0
    while sent < total:
        piece = block[: min(size, total - sent)]
        sent += len(piece)
        yield piece


@pytest.mark.slow
@pytest.mark.parametrize("known_length", [True, False], ids=["content-length", "chunked"])
@aio
async def test_streaming_upload_of_50_mib(known_length: bool) -> None:
    total = 50 * MiB
    server = recording(fixed(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"))
    async with server, OriginClient() as client:
        resp = await client.request(
            server.origin(),
            "PUT",
            "/upload",
            [],
            chunks(total),
            body_length=total if known_length else None,
        )
        assert resp.status == 201
        req = server.requests[0]
        assert req.body_size == total
        framing = "content-length" if known_length else "transfer-encoding"
        assert req.header(framing) == (str(total) if known_length else "chunked")


@pytest.mark.parametrize("body", [b"exact", b"", None])
@aio
async def test_post_bodies_get_our_content_length_only(body: bytes | None) -> None:
    server = recording(fixed(OK_HELLO))
    async with server, OriginClient() as client:
        resp = await client.request(server.origin(), "POST", "/", [("Content-Length", "999")], body)
        await read_all(resp)
        req = server.requests[0]
        assert req.body == (body or b"")
        assert [v for n, v in req.headers if n.lower() == "content-length"] == [
            str(len(body or b""))
        ]


@pytest.mark.parametrize(("declared", "sent"), [(100, 50), (10, 50)], ids=["short", "long"])
@aio
async def test_streamed_body_not_matching_its_declared_length_aborts(
    declared: int, sent: int
) -> None:
    async def handle(conn: Conn) -> None:
        await conn.read_request()

    async with ScriptedOrigin(handle) as server, OriginClient() as client:
        with pytest.raises(ValueError, match="declared"):
            await client.request(
                server.origin(), "POST", "/", [], chunks(sent, 10), body_length=declared
            )
        await server.closed[0].wait()


@aio
async def test_cancelled_request_closes_its_connection() -> None:
    arrived = asyncio.Event()

    async def handle(conn: Conn) -> None:
        await conn.read_request()
        arrived.set()
        await conn.wait_eof()

    async with ScriptedOrigin(handle) as server, OriginClient() as client:
        task = asyncio.ensure_future(client.request(server.origin(), "GET", "/", []))
        await arrived.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await server.closed[0].wait()


# -- large downloads stream ------------------------------------------------------------------------


@pytest.mark.slow
@aio
async def test_200_mib_download_streams_in_bounded_memory() -> None:
    total = 200 * MiB
    block = b"d" * MiB

    async def handle(conn: Conn) -> None:
        await conn.read_request()
        await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % total)
        for _ in range(total // MiB):
            await conn.send(block)
        await conn.wait_eof()

    async with ScriptedOrigin(handle) as server, OriginClient() as client:
        tracemalloc.start()
        try:
            resp = await client.request(server.origin(), "GET", "/big", [])
            received = 0
            while chunk := await resp.read():
                received += len(chunk)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert received == total and resp.complete
        assert peak < 32 * MiB


# -- caller errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "target", "headers"),
    [
        ("GET", "/", [("X-A", "a\r\nX-Injected: 1")]),
        ("GET", "/", [("X-A", "a\nb")]),
        ("GET", "/", [("X-A", "a\rb")]),
        ("GET", "/", [("X-A", "a\x00b")]),
        ("GET", "/", [("X-A\r\nX-B", "v")]),
        ("GET", "/", [("Bad Name", "v")]),
        ("GET", "/", [("", "v")]),
        ("GET", "/", [("X-A", "€")]),
        ("GET /x HTTP/1.1\r\nX:", "/", []),
        ("GET", "/a b", []),
        ("GET", "/a\r\nX-Injected: 1", []),
        ("GET", "", []),
    ],
)
@aio
async def test_header_injection_is_refused_before_connecting(
    method: str, target: str, headers: list[tuple[str, str]]
) -> None:
    server = recording(fixed(OK_HELLO))
    async with server, OriginClient() as client:
        with pytest.raises(ValueError):
            await client.request(server.origin(), method, target, headers)
        assert server.connections == 0


@given(st.text(max_size=20), st.text(max_size=20))
def test_no_header_name_or_value_can_add_a_line(name: str, value: str) -> None:
    try:
        head, _ = encode_request_head("GET", "/", [(name, value)], "h", None)
    except ValueError:
        return
    dropped = name.lower() in ("host", "content-length", "transfer-encoding")
    # request line, the header (a Host replaces ours; framing is ours), Host, the blank line
    assert head.count(b"\r\n") == (3 if dropped else 4)
    assert b"\n" not in head.replace(b"\r\n", b"") and b"\r" not in head.replace(b"\r\n", b"")


def test_match_viewer_origin_needs_a_scheme() -> None:
    origin = Origin(id="o", domain="127.0.0.1", port=1, protocol="match-viewer")

    async def go() -> None:
        async with OriginClient() as client:
            await client.request(origin, "GET", "/", [])

    with pytest.raises(ValueError, match="match-viewer"):
        asyncio.run(go())


# -- TLS -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    pytest.importorskip("cryptography")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "openfront test origin")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def server_tls(cert: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*cert)
    return ctx


@aio
async def test_tls_self_signed_origin_is_refused_by_default(self_signed: tuple[Path, Path]) -> None:
    server = recording(fixed(OK_HELLO), tls=server_tls(self_signed))
    async with server, OriginClient() as client:
        with pytest.raises(OriginConnectError, match="certificate"):
            await client.request(server.origin(), "GET", "/", [])


@aio
async def test_tls_origin_trusted_by_the_context_serves_and_pools(
    self_signed: tuple[Path, Path],
) -> None:
    trust = ssl.create_default_context(cafile=str(self_signed[0]))
    server = recording(fixed(OK_HELLO), tls=server_tls(self_signed))
    async with server, OriginClient(ssl_context=trust) as client:
        for _ in range(2):
            resp = await client.request(server.origin(), "GET", "/", [])
            assert await read_all(resp) == b"hello"
        assert resp.reused and server.connections == 1
        assert server.requests[0].header("host") == f"127.0.0.1:{server.port}"


# -- resources -------------------------------------------------------------------------------------


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@aio
async def test_no_fd_leaks_after_close() -> None:
    server = recording(
        lambda req, _c: b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"z" * 100000
    )
    async with server:
        async with OriginClient() as warm_up:  # the loop's lazily created resolver fds
            await read_all(await warm_up.request(server.origin(), "GET", "/", []))
        await server.closed[0].wait()
        before = open_fds()
        client = OriginClient()
        kept = [await client.request(server.origin(), "GET", "/", []) for _ in range(4)]
        for resp in kept[:2]:
            await read_all(resp)  # pooled
        kept[2].release()  # unread: closed
        kept[3].close()
        assert server.connections == 5
        await client.close()
        await asyncio.gather(*(e.wait() for e in server.closed))
        assert open_fds() == before
