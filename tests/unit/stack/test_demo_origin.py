"""The demo origin over real sockets: files, validators, ranges, conditionals, test endpoints."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from openfront.http.dates import format_http_date
from openfront.stack.origin import OriginServer, start_origin

T = TypeVar("T")
BODY = b"0123456789abcdefghij"
MTIME = 1_700_000_000


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "static").mkdir(parents=True)
    (root / "api").mkdir()
    (root / "index.html").write_text("<h1>hi</h1>")
    (root / "static" / "style.css").write_text("body{}")
    (root / "data.bin").write_bytes(BODY)
    (root / "api" / "status.json").write_text("{}")
    os.utime(root / "data.bin", (MTIME, MTIME))
    rules = {"*.css": {"Cache-Control": "max-age=3600"}, "/api/*": {"Cache-Control": "no-store"}}
    (root / "_headers.json").write_text(json.dumps(rules))
    (tmp_path / "secret.txt").write_text("outside the root")
    return root


def serve(root: Path, test: Callable[[httpx.AsyncClient, OriginServer], Awaitable[T]]) -> T:
    async def main() -> T:
        server = await start_origin(root, "127.0.0.1", 0)
        try:
            async with httpx.AsyncClient(base_url=server.url, verify=False) as client:
                return await test(client, server)
        finally:
            await server.close()

    return asyncio.run(main())


def get(root: Path, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    async def test(client: httpx.AsyncClient, _: OriginServer) -> httpx.Response:
        return await client.get(path, headers=headers)

    return serve(root, test)


async def raw_exchange(port: int, data: bytes) -> bytes:
    """Send raw bytes; read until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()


def raw(root: Path, data: bytes) -> bytes:
    async def test(_: httpx.AsyncClient, server: OriginServer) -> bytes:
        return await raw_exchange(server.port, data)

    return serve(root, test)


def test_get_file_has_validators_and_type(site: Path) -> None:
    r = get(site, "/data.bin")
    assert r.status_code == 200
    assert r.content == BODY
    assert r.headers["content-length"] == str(len(BODY))
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["last-modified"] == format_http_date(MTIME)
    assert r.headers["etag"].startswith('"') and r.headers["accept-ranges"] == "bytes"


def test_directory_serves_index(site: Path) -> None:
    r = get(site, "/")
    assert r.status_code == 200
    assert r.text == "<h1>hi</h1>"
    assert r.headers["content-type"] == "text/html; charset=utf-8"


def test_head_has_headers_without_body(site: Path) -> None:
    async def test(client: httpx.AsyncClient, _: OriginServer) -> httpx.Response:
        return await client.head("/data.bin")

    r = serve(site, test)
    assert r.status_code == 200
    assert r.headers["content-length"] == str(len(BODY))
    assert r.content == b""


@pytest.mark.parametrize(
    ("range_header", "status", "body", "content_range"),
    [
        ("bytes=0-4", 206, BODY[0:5], "bytes 0-4/20"),
        ("bytes=15-", 206, BODY[15:], "bytes 15-19/20"),
        ("bytes=-3", 206, BODY[-3:], "bytes 17-19/20"),
        ("bytes=10-999", 206, BODY[10:], "bytes 10-19/20"),
        ("bytes=-999", 206, BODY, "bytes 0-19/20"),
        ("bytes=20-", 416, b"", "bytes */20"),
        ("bytes=-0", 416, b"", "bytes */20"),
        ("bytes=0-1,5-6", 200, BODY, None),  # several ranges: the whole object is allowed
        ("bytes=5-2", 200, BODY, None),  # invalid: ignored
        ("items=0-1", 200, BODY, None),
    ],
)
def test_range(
    site: Path, range_header: str, status: int, body: bytes, content_range: str | None
) -> None:
    r = get(site, "/data.bin", {"Range": range_header})
    assert r.status_code == status
    assert r.content == body
    assert r.headers.get("content-range") == content_range


def test_if_range_keeps_or_drops_the_range(site: Path) -> None:
    etag = get(site, "/data.bin").headers["etag"]
    lm = format_http_date(MTIME)
    assert get(site, "/data.bin", {"Range": "bytes=0-1", "If-Range": etag}).status_code == 206
    assert get(site, "/data.bin", {"Range": "bytes=0-1", "If-Range": lm}).status_code == 206
    assert get(site, "/data.bin", {"Range": "bytes=0-1", "If-Range": '"other"'}).status_code == 200
    weak = {"Range": "bytes=0-1", "If-Range": "W/" + etag}
    assert get(site, "/data.bin", weak).status_code == 200


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"If-None-Match": "{etag}"}, 304),
        ({"If-None-Match": '"nope", {etag}'}, 304),
        ({"If-None-Match": "W/{etag}"}, 304),  # weak comparison for GET
        ({"If-None-Match": "*"}, 304),
        ({"If-None-Match": '"nope"'}, 200),
        ({"If-Modified-Since": format_http_date(MTIME)}, 304),
        ({"If-Modified-Since": format_http_date(MTIME + 60)}, 304),
        ({"If-Modified-Since": format_http_date(MTIME - 60)}, 200),
        ({"If-Modified-Since": "not a date"}, 200),
        # If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2)
        ({"If-None-Match": '"nope"', "If-Modified-Since": format_http_date(MTIME)}, 200),
    ],
)
def test_conditional_get(site: Path, headers: dict[str, str], status: int) -> None:
    etag = get(site, "/data.bin").headers["etag"]
    filled = {k: v.replace("{etag}", etag) for k, v in headers.items()}
    r = get(site, "/data.bin", filled)
    assert r.status_code == status
    if status == 304:
        assert r.content == b""
        assert r.headers["etag"] == etag


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/static/../../secret.txt",
        "/static/%2E%2E/%2E%2E/secret.txt",
        "/%2F..%2Fsecret.txt",
        "/_headers.json",
        "/missing.txt",
        "/%ff%fe",
        "/a%00b",
    ],
)
def test_outside_root_or_missing_is_404(site: Path, target: str) -> None:
    answer = raw(site, f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 404 ")
    assert b"outside the root" not in answer


def test_symlink_out_of_root_is_404(site: Path) -> None:
    (site / "escape.txt").symlink_to(site.parent / "secret.txt")
    assert get(site, "/escape.txt").status_code == 404


@pytest.mark.parametrize(
    ("path", "cache_control"),
    [
        ("/static/style.css", "max-age=3600"),
        ("/api/status.json", "no-store"),
        ("/api/missing", "no-store"),  # rules apply to every answer under the pattern
        ("/index.html", None),
    ],
)
def test_headers_json_rules(site: Path, path: str, cache_control: str | None) -> None:
    assert get(site, path).headers.get("cache-control") == cache_control


def test_headers_json_is_reloaded_when_changed(site: Path) -> None:
    async def test(client: httpx.AsyncClient, _: OriginServer) -> tuple[str | None, str | None]:
        before = (await client.get("/index.html")).headers.get("cache-control")
        rules = site / "_headers.json"
        rules.write_text(json.dumps({"*.html": {"Cache-Control": "max-age=5"}}))
        os.utime(rules, ns=(1, 1))  # a different mtime even on coarse-clock filesystems
        after = (await client.get("/index.html")).headers.get("cache-control")
        return before, after

    assert serve(site, test) == (None, "max-age=5")


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_echo_reflects_the_request(site: Path, method: str) -> None:
    async def test(client: httpx.AsyncClient, _: OriginServer) -> httpx.Response:
        body = None if method == "GET" else b"payload \xe2\x9c\x93"
        return await client.request(method, "/_echo?x=1", content=body, headers={"X-Test": "v"})

    r = serve(site, test)
    doc = r.json()
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert doc["method"] == method and doc["path"] == "/_echo" and doc["query"] == "x=1"
    assert ["X-Test", "v"] in doc["headers"]
    if method != "GET":
        assert doc["body"] == "payload ✓"
        assert doc["body_length"] == len(b"payload \xe2\x9c\x93")


def test_echo_hashes_a_large_chunked_upload(site: Path) -> None:
    chunks = [bytes([i]) * 100_000 for i in range(8)]

    async def body() -> object:
        for chunk in chunks:
            yield chunk

    async def test(client: httpx.AsyncClient, _: OriginServer) -> httpx.Response:
        return await client.post("/_echo", content=body())  # type: ignore[arg-type]

    import hashlib

    doc = serve(site, test).json()
    assert doc["body_length"] == 800_000
    assert doc["body_sha256"] == hashlib.sha256(b"".join(chunks)).hexdigest()


@pytest.mark.parametrize(("path", "status"), [("/_status/503", 503), ("/_status/404", 404)])
def test_status_endpoint(site: Path, path: str, status: int) -> None:
    assert get(site, path).status_code == status


@pytest.mark.parametrize("path", ["/_status/99", "/_status/abc", "/_status/600", "/_slow?ms=x"])
def test_bad_test_endpoint_arguments_are_400(site: Path, path: str) -> None:
    assert get(site, path).status_code == 400


@pytest.mark.parametrize("stage", ["", "&stage=body"])
def test_slow_endpoint_answers(site: Path, stage: str) -> None:
    r = get(site, f"/_slow?ms=1{stage}")
    assert r.status_code == 200 and r.text == "slow response\n"


def test_unsafe_method_on_file_is_405(site: Path) -> None:
    async def test(client: httpx.AsyncClient, _: OriginServer) -> httpx.Response:
        return await client.post("/index.html", content=b"x")

    r = serve(site, test)
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD, OPTIONS"


def test_keep_alive_pipelined_requests_then_close(site: Path) -> None:
    request = b"GET /data.bin HTTP/1.1\r\nHost: x\r\n\r\n"
    last = b"GET /_status/204 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    answer = raw(site, request + request + last)
    assert answer.count(b"HTTP/1.1 200 OK") == 2
    assert answer.count(BODY) == 2
    assert b"HTTP/1.1 204 No Content" in answer
    assert answer.endswith(b"\r\n\r\n")  # the 204 has no body and the server closed after it


def test_counts_requests(site: Path) -> None:
    async def test(client: httpx.AsyncClient, server: OriginServer) -> int:
        await client.get("/index.html")
        await client.get("/missing")
        return server.requests

    assert serve(site, test) == 2


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GARBAGE\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", b"431"),
    ],
)
def test_bad_requests_get_an_error_and_a_close(site: Path, data: bytes, status: bytes) -> None:
    answer = raw(site, data)
    assert answer.startswith(b"HTTP/1.1 " + status)
    assert b"Connection: close" in answer


def test_close_ends_idle_keep_alive_connections(site: Path) -> None:
    async def main() -> bytes:
        server = await start_origin(site, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /data.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        await reader.readuntil(BODY)
        await server.close()
        rest = await reader.read()
        writer.close()
        await writer.wait_closed()
        return rest

    assert asyncio.run(main()) == b""


def test_missing_root_is_a_config_error(tmp_path: Path) -> None:
    from openfront.errors import ConfigError

    with pytest.raises(ConfigError, match="origin root"):
        asyncio.run(start_origin(tmp_path / "nope", "127.0.0.1", 0))


def test_bad_headers_json_is_a_config_error(site: Path) -> None:
    from openfront.errors import ConfigError

    (site / "_headers.json").write_text('{"*.css": "max-age=1"}')
    with pytest.raises(ConfigError, match=r"_headers\.json"):
        asyncio.run(start_origin(site, "127.0.0.1", 0))
