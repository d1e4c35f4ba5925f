"""A scriptable test origin: routes to handlers, records every request, can hold responses."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httptools


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | AsyncIterator[bytes] = b""
    chunked: bool = False  # send Transfer-Encoding: chunked instead of Content-Length
    close_after: bool = False
    truncate_to: int | None = None  # send fewer bytes than Content-Length, then close


Handler = Callable[[Seen], Reply | Awaitable[Reply]]


class _Conn(asyncio.Protocol):
    def __init__(self, server: TestOrigin) -> None:
        self.server = server
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.writable = asyncio.Event()
        self.writable.set()
        self.queue: asyncio.Queue[Seen | None] = asyncio.Queue()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        # Started here, not in __init__: a TLS handshake that fails never gets this far.
        self.task = asyncio.get_running_loop().create_task(self.run())
        self.transport = transport
        self.server.connections += 1
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            self.server.tls_versions.append(ssl_object.version())
        self.server.open_conns.add(self)

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.writable.set()
        self.server.open_conns.discard(self)
        self.queue.put_nowait(None)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.close()

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        n = name.decode().lower()
        v = value.decode("latin-1")
        self._headers[n] = self._headers[n] + ", " + v if n in self._headers else v

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        seen = Seen(
            self.parser.get_method().decode(),
            self._url.decode(),
            self._headers,
            b"".join(self._body),
        )
        self.queue.put_nowait(seen)

    async def run(self) -> None:
        while True:
            seen = await self.queue.get()
            if seen is None or self.transport is None or self.transport.is_closing():
                return
            self.server.requests.append(seen)
            self.server.notify()
            gate = self.server.gate
            if gate is not None:
                await gate.wait()
            reply = self.server.route(seen)
            if asyncio.iscoroutine(reply) or isinstance(reply, asyncio.Future):
                reply = await reply
            assert isinstance(reply, Reply)
            await self.send(seen, reply)
            if reply.close_after:
                self.transport.close()
                return

    async def send(self, seen: Seen, reply: Reply) -> None:
        t = self.transport
        assert t is not None
        head = [f"HTTP/1.1 {reply.status} X"]
        head += [f"{n}: {v}" for n, v in reply.headers]
        body = reply.body
        no_body = seen.method == "HEAD" or reply.status in (204, 304)
        if isinstance(body, bytes) and not reply.chunked:
            if not any(n.lower() == "content-length" for n, _ in reply.headers):
                head.append(f"Content-Length: {len(body)}")
            t.write(("\r\n".join(head) + "\r\n\r\n").encode())
            if not no_body:
                t.write(body if reply.truncate_to is None else body[: reply.truncate_to])
            if reply.truncate_to is not None:
                t.close()
            return
        sized = any(n.lower() == "content-length" for n, _ in reply.headers)
        if sized and not isinstance(body, bytes):
            t.write(("\r\n".join(head) + "\r\n\r\n").encode())
            async for chunk in body:
                t.write(chunk)
                await self.writable.wait()
            return
        head.append("Transfer-Encoding: chunked")
        t.write(("\r\n".join(head) + "\r\n\r\n").encode())
        if no_body:
            return
        if isinstance(body, bytes):
            t.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n")
            return
        async for chunk in body:
            t.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        t.write(b"0\r\n\r\n")


class TestOrigin:
    """An origin on 127.0.0.1:0 whose answers the test scripts per path; HTTPS with `tls`."""

    __test__ = False

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.tls_versions: list[str | None] = []  # one per accepted TLS connection
        self.routes: dict[str, Handler] = {}
        self.default: Handler = lambda s: Reply(404, [("Content-Type", "text/plain")], b"nope")
        self.requests: list[Seen] = []
        self.connections = 0
        self.open_conns: set[_Conn] = set()
        self.gate: asyncio.Event | None = None  # when set, every response waits for it
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    def route(self, seen: Seen) -> Reply | Awaitable[Reply]:
        path = seen.target.partition("?")[0]
        return self.routes.get(path, self.default)(seen)

    def set(self, path: str, reply: Reply | Handler) -> None:
        self.routes[path] = reply if callable(reply) else (lambda _s, r=reply: r)

    def notify(self) -> None:
        for pred, fut in list(self._waiters):
            if not fut.done() and pred():
                fut.set_result(None)

    async def wait_until(self, pred: Callable[[], bool], timeout: float = 30) -> None:
        """Wait (event-driven, bounded) until pred() holds after some request arrived."""
        if pred():
            return
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append((pred, fut))
        try:
            await asyncio.wait_for(fut, timeout)
        finally:
            self._waiters.remove((pred, fut))

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.target.partition("?")[0] == path)

    async def start(self) -> TestOrigin:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: _Conn(self), "127.0.0.1", 0, ssl=self.tls)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            for c in list(self.open_conns):
                if c.transport is not None:
                    c.transport.close()
                c.task.cancel()
            await self.server.wait_closed()
