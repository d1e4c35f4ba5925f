"""The demo origin: a small asyncio HTTP/1.1 static file server with a few test endpoints.

Files: GET/HEAD with strong ETag, Last-Modified, one byte range, conditional GET and keep-alive;
per-path headers from `_headers.json` (see `stack.site`). Test endpoints, any method:
`/_echo` (the request as JSON), `/_slow?ms=N[&stage=body]` (a delay before the headers, or
between the headers and the body), `/_status/NNN` (that status).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import BinaryIO
from urllib.parse import parse_qs, urlsplit

import httptools

from openfront.http.dates import format_http_date
from openfront.stack.site import (
    UNSATISFIABLE,
    Lookup,
    Site,
    StaticFile,
    if_range_allows,
    not_modified,
    parse_single_range,
)

SERVER_NAME = "openfront-demo-origin"
IDLE_TIMEOUT = 30.0
MAX_HEADER_BYTES = 64 * 1024
ECHO_BODY_LIMIT = 64 * 1024  # the echo keeps this much body text; the hash covers all of it
MAX_SLOW_MS = 600_000
_READ_SIZE = 64 * 1024
_FILE_CHUNK = 256 * 1024


@dataclass
class Request:
    method: str = ""
    target: str = ""
    version: str = "1.1"
    headers: list[tuple[str, str]] = field(default_factory=list)
    keep_alive: bool = True
    body_length: int = 0
    body_head: bytearray = field(default_factory=bytearray)
    body_hash: hashlib._Hash = field(default_factory=hashlib.sha256)

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None


class _Parsed:
    """httptools callbacks collecting complete requests; bodies are hashed as they arrive."""

    def __init__(self) -> None:
        self.current = Request()
        self.done: list[Request] = []
        self.head_bytes = 0  # bytes received since the last head completed, outside bodies
        self.in_body = False
        self.head_size = 0  # the current head's URL and fields, counted as they are parsed
        self.oversized = False
        self.expect_continue = False
        self.parser = httptools.HttpRequestParser(self)

    def on_message_begin(self) -> None:
        self.current = Request()
        self.head_size = 0

    def on_url(self, url: bytes) -> None:
        self.current.target += url.decode("latin-1")
        self.head_size += len(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.current.headers.append((name.decode("latin-1"), value.decode("latin-1")))
        self.head_size += len(name) + len(value) + 4

    def on_headers_complete(self) -> None:
        self.oversized = self.oversized or self.head_size > MAX_HEADER_BYTES
        self.in_body = True
        self.head_bytes = 0
        self.current.method = self.parser.get_method().decode("ascii")
        self.current.version = self.parser.get_http_version()
        expect = self.current.header("expect")
        self.expect_continue = expect is not None and expect.lower() == "100-continue"

    def on_body(self, body: bytes) -> None:
        req = self.current
        req.body_length += len(body)
        req.body_hash.update(body)
        room = ECHO_BODY_LIMIT - len(req.body_head)
        if room > 0:
            req.body_head += body[:room]

    def on_message_complete(self) -> None:
        self.current.keep_alive = self.parser.should_keep_alive()
        self.done.append(self.current)
        self.in_body = False
        self.head_bytes = 0

    def feed(self, data: bytes) -> None:
        if not self.in_body:
            self.head_bytes += len(data)
        self.parser.feed_data(data)

    def too_big(self) -> bool:
        # Raw bytes catch a head that never ends; parsed sizes catch one that ended in this read.
        return self.oversized or (not self.in_body and self.head_bytes > MAX_HEADER_BYTES)


class OriginServer:
    """A running demo origin; `requests` counts every request answered."""

    def __init__(self, site: Site, host: str) -> None:
        self.site = site
        self.host = host
        self.port = 0
        self.requests = 0
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._closing = False

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def _start(self, port: int) -> None:
        self._server = await asyncio.start_server(self._on_connection, self.host, port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is None:
            return
        self._closing = True
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def _on_connection(self, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve(reader, w)
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # close() cancels open connections; 3.11's streams log a task that ends cancelled.
            if not self._closing:
                raise
        finally:
            self._connections.discard(task)
            w.close()
            with contextlib.suppress(Exception):
                await w.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Parsed()
        while True:
            async with asyncio.timeout(IDLE_TIMEOUT):
                data = await reader.read(_READ_SIZE)
            if not data:
                return
            try:
                conn.feed(data)
            except httptools.HttpParserError:
                await self._simple(writer, 400, b"bad request\n", keep_alive=False)
                return
            if conn.too_big():
                await self._simple(writer, 431, b"request headers too large\n", keep_alive=False)
                return
            if conn.expect_continue and not conn.done:
                conn.expect_continue = False
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            done, conn.done = conn.done, []
            for req in done:
                self.requests += 1
                if not await self._respond(req, writer):
                    return

    async def _respond(self, req: Request, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection must close afterwards."""
        split = urlsplit(req.target)
        path = split.path or "/"
        if path == "/_echo":
            return await self._echo(req, writer, split.query)
        if path == "/_slow":
            return await self._slow(req, writer, split.query)
        if path.startswith("/_status/"):
            return await self._status(req, writer, path.removeprefix("/_status/"))
        return await self._static(req, writer, path)

    async def _echo(self, req: Request, writer: asyncio.StreamWriter, query: str) -> bool:
        doc = {
            "method": req.method,
            "url": req.target,
            "path": urlsplit(req.target).path,
            "query": query,
            "http_version": req.version,
            "headers": [[k, v] for k, v in req.headers],
            "body": req.body_head.decode("utf-8", errors="replace"),
            "body_length": req.body_length,
            "body_sha256": req.body_hash.hexdigest(),
        }
        cache_control = parse_qs(query).get("cache-control", ["no-store"])[-1]
        body = json.dumps(doc, indent=1).encode() + b"\n"
        extra = [("Content-Type", "application/json"), ("Cache-Control", cache_control)]
        return await self._send(writer, req, 200, extra, body)

    async def _slow(self, req: Request, writer: asyncio.StreamWriter, query: str) -> bool:
        params = parse_qs(query)
        try:
            ms = min(max(int(params.get("ms", ["1000"])[-1]), 0), MAX_SLOW_MS)
        except ValueError:
            return await self._send(writer, req, 400, [], b"ms must be an integer\n")
        body = b"slow response\n"
        if params.get("stage", [""])[-1] != "body":
            await asyncio.sleep(ms / 1000)
            return await self._send(writer, req, 200, [("Cache-Control", "no-store")], body)
        head = _head(200, [("Content-Length", str(len(body))), ("Cache-Control", "no-store")])
        writer.write(head)
        await writer.drain()
        await asyncio.sleep(ms / 1000)
        if req.method != "HEAD":
            writer.write(body)
        await writer.drain()
        return req.keep_alive

    async def _status(self, req: Request, writer: asyncio.StreamWriter, code: str) -> bool:
        status = int(code) if code.isdigit() and len(code) == 3 else 0
        if not 200 <= status <= 599:
            return await self._send(writer, req, 400, [], b"status must be 200-599\n")
        body = f"status {status}\n".encode()
        return await self._send(writer, req, status, [("Cache-Control", "no-store")], body)

    async def _static(self, req: Request, writer: asyncio.StreamWriter, path: str) -> bool:
        found: Lookup = await asyncio.to_thread(self.site.lookup, path)
        if req.method not in ("GET", "HEAD"):
            allow = [*found.headers, ("Allow", "GET, HEAD, OPTIONS")]
            status = 204 if req.method == "OPTIONS" else 405
            return await self._send(writer, req, status, allow, b"")
        file = found.file
        if file is None:
            return await self._send(writer, req, 404, found.headers, b"not found\n")
        validators = [
            ("ETag", file.etag),
            ("Last-Modified", file.last_modified),
            *found.headers,
        ]
        inm, ims = req.header("if-none-match"), req.header("if-modified-since")
        if not_modified(inm, ims, file.etag, file.mtime):
            return await self._send(writer, req, 304, validators, b"")
        return await self._send_file(req, writer, file, validators)

    async def _send_file(
        self,
        req: Request,
        writer: asyncio.StreamWriter,
        file: StaticFile,
        validators: list[tuple[str, str]],
    ) -> bool:
        first, last, status = 0, file.size - 1, 200
        headers = [("Content-Type", file.content_type), ("Accept-Ranges", "bytes"), *validators]
        range_header = req.header("range")
        if (
            req.method == "GET"
            and range_header is not None
            and if_range_allows(req.header("if-range"), file.etag, file.last_modified)
        ):
            chosen = parse_single_range(range_header, file.size)
            if chosen is UNSATISFIABLE:
                unsat = [*headers, ("Content-Range", f"bytes */{file.size}")]
                return await self._send(writer, req, 416, unsat, b"")
            if isinstance(chosen, tuple):
                first, last, status = chosen[0], chosen[1], 206
                headers.append(("Content-Range", f"bytes {first}-{last}/{file.size}"))
        count = last - first + 1
        headers.append(("Content-Length", str(count)))
        if not req.keep_alive:
            headers.append(("Connection", "close"))
        writer.write(_head(status, headers))
        if req.method == "HEAD" or count == 0:
            await writer.drain()
            return req.keep_alive
        await writer.drain()
        sent = await _send_range(writer, file.path, first, count)
        # A file that shrank under us leaves the response short: only closing tells the client.
        return req.keep_alive and sent == count

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        req: Request,
        status: int,
        headers: Iterable[tuple[str, str]],
        body: bytes,
    ) -> bool:
        all_headers = list(headers)
        if status not in (204, 304):
            all_headers.append(("Content-Length", str(len(body))))
        if not req.keep_alive:
            all_headers.append(("Connection", "close"))
        writer.write(_head(status, all_headers))
        if req.method != "HEAD" and status not in (204, 304):
            writer.write(body)
        await writer.drain()
        return req.keep_alive

    async def _simple(
        self, writer: asyncio.StreamWriter, status: int, body: bytes, *, keep_alive: bool
    ) -> None:
        req = Request(method="GET", keep_alive=keep_alive)
        await self._send(writer, req, status, [("Content-Type", "text/plain")], body)


def _head(status: int, headers: Iterable[tuple[str, str]]) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Status"
    lines = [f"HTTP/1.1 {status} {reason}", f"Date: {format_http_date(time.time())}"]
    lines.append(f"Server: {SERVER_NAME}")
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _send_range(writer: asyncio.StreamWriter, path: Path, offset: int, count: int) -> int:
    """Send `count` bytes of `path` from `offset`; returns how many bytes went out."""
    # Opened and closed inline, not in a thread: a cancelled to_thread() future whose work never
    # started would leave the file open. Opening a local file does not block in practice.
    try:
        handle = os.fdopen(os.open(path, os.O_RDONLY | os.O_CLOEXEC), "rb")
    except OSError:
        return 0
    with handle:
        loop = asyncio.get_running_loop()
        try:
            return await loop.sendfile(writer.transport, handle, offset, count)
        except NotImplementedError:
            # uvloop has no loop.sendfile: copy through a thread instead.
            return await _copy_chunks(writer, handle, offset, count)


async def _copy_chunks(
    writer: asyncio.StreamWriter, handle: BinaryIO, offset: int, count: int
) -> int:
    await asyncio.to_thread(handle.seek, offset)
    sent = 0
    while sent < count:
        chunk = await asyncio.to_thread(handle.read, min(_FILE_CHUNK, count - sent))
        if not chunk:
            break
        writer.write(chunk)
        await writer.drain()
        sent += len(chunk)
    return sent


async def start_origin(root: Path, host: str = "127.0.0.1", port: int = 0) -> OriginServer:
    """Serve `root` on host:port (port 0 picks a free one); read `.port` / `.url` after."""
    site = await asyncio.to_thread(Site, root)
    server = OriginServer(site, host)
    await server._start(port)
    return server
