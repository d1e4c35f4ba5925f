from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from openfront.edge import admin
from openfront.edge.admin import AdminHandlers, AdminServer
from openfront.edge.metrics import EdgeMetrics, render_prometheus

TOKEN = "s3cret-admin-token"
GOOD = {"Authorization": f"Bearer {TOKEN}"}


class Edge:
    """Stands in for the edge: real metrics, recorded invalidations."""

    def __init__(self) -> None:
        self.metrics = EdgeMetrics()
        self.metrics.request("E2EXAMPLE", 200, "Hit", 1234)
        self.metrics.origin("E2EXAMPLE", 0.02, None)
        self.invalidations: list[tuple[str | None, list[str]]] = []
        self.fail_with: Exception | None = None

    async def invalidate(self, dist: str | None, paths: list[str]) -> dict[str, Any]:
        if self.fail_with is not None:
            raise self.fail_with
        self.invalidations.append((dist, paths))
        return {"Id": "I1", "Status": "Completed", "Paths": paths, "Removed": 3}

    def handlers(self) -> AdminHandlers:
        return AdminHandlers(
            invalidate=self.invalidate,
            metrics=lambda: render_prometheus(self.metrics.snapshot()),
            health=lambda: {"status": "ok"},
            status=self.status,
        )

    async def status(self) -> dict[str, Any]:
        return {"config_version": 7, "cache_bytes": 1024}


Scenario = Callable[[AdminServer, httpx.AsyncClient, Edge], Awaitable[None]]


def run(scenario: Scenario, *, token: str | None = TOKEN, **kw: Any) -> Edge:
    edge = Edge()

    async def main() -> None:
        server = AdminServer(host="127.0.0.1", port=0, token=token, handlers=edge.handlers(), **kw)
        await server.start()
        try:
            base = f"http://127.0.0.1:{server.port}"
            async with httpx.AsyncClient(base_url=base, trust_env=False) as client:
                await scenario(server, client, edge)
        finally:
            await server.close()

    asyncio.run(main())
    return edge


async def raw(port: int, data: bytes, *, eof: bool = False) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        if eof:
            writer.write_eof()
        return await reader.read()  # until the server closes
    finally:
        writer.close()
        await writer.wait_closed()


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def test_healthz_needs_no_auth() -> None:
    async def scenario(server: AdminServer, client: httpx.AsyncClient, edge: Edge) -> None:
        r = await client.get("/healthz")
        assert r.status_code == 200
        assert r.json() == {"status": "ok"}
        assert r.headers["connection"] == "close"
        assert r.headers["cache-control"] == "no-store"

    run(scenario)


def test_metrics_are_prometheus_text() -> None:
    async def scenario(server: AdminServer, client: httpx.AsyncClient, edge: Edge) -> None:
        r = await client.get("/metrics?ignored=1")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
        fams = {f.name: f for f in text_string_to_metric_families(r.text)}
        [sample] = fams["openfront_edge_requests"].samples
        assert sample.labels == {"distribution": "E2EXAMPLE"}
        assert sample.value == 1
        assert fams["openfront_edge_origin_first_byte_seconds"].type == "histogram"
        head = await client.head("/metrics")
        assert head.status_code == 200
        assert head.content == b""
        assert int(head.headers["content-length"]) == len(r.content)

    run(scenario)


@pytest.mark.parametrize(
    ("headers", "status", "challenge"),
    [
        ({}, 401, True),
        ({"Authorization": "Basic czNjcmV0"}, 401, True),
        ({"Authorization": "Bearer"}, 401, True),
        ({"Authorization": "Bearer wrong"}, 403, False),
        ({"Authorization": f"Bearer {TOKEN}x"}, 403, False),
        ({"Authorization": f"bearer {TOKEN}"}, 200, False),
        (GOOD, 200, False),
    ],
)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("GET", "/status", None), ("POST", "/invalidate", {"Paths": ["/a"]})],
)
def test_protected_routes_need_the_token(
    headers: dict[str, str],
    status: int,
    challenge: bool,
    method: str,
    path: str,
    body: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    async def scenario(server: AdminServer, client: httpx.AsyncClient, edge: Edge) -> None:
        r = await client.request(method, path, json=body, headers=headers)
        assert r.status_code == status
        assert ("www-authenticate" in r.headers) is challenge
        assert TOKEN not in r.text
        if status != 200:
            assert "error" in r.json()

    edge = run(scenario)
    assert bool(edge.invalidations) is (status == 200 and path == "/invalidate")
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(AdminServer(host="h", port=1, token=TOKEN, handlers=edge.handlers()))


def test_duplicate_authorization_headers_are_refused() -> None:
    async def scenario(server: AdminServer, client: httpx.AsyncClient, edge: Edge) -> None:
        req = (
            b"GET /status HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
            b"Authorization: Bearer " + TOKEN.encode() + b"\r\n\r\n"
        )
        assert status_of(await raw(server.port, req)) == 401

    run(scenario)


def test_without_a_token_loopback_is_allowed() -> None:
    async def scenario(server: AdminServer, client: httpx.AsyncClient, edge: Edge) -> None:
        assert server.loopback_only
        r = await client.post("/invalidate", json={"DistributionId": "E1", "Paths": ["/x"]})
        assert r.status_code == 200
        assert (await client.get("/status")).json() == {"config_version": 7, "cache_bytes": 1024}

    edge = run(scenario, token=None)
    assert edge.invalidations == [("E1", ["/x"])]


def test_without_a_token_other_addresses_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # Binding a public address in a test is not allowed; make 127.0.0.1 look non-loopback instead.
    monkeypatch.setattr(admin, "_is_loopback", lambda host: False)

    async def scenario(server: AdminServer, client: httpx.AsyncClient, edge: Edge) -> None:
        assert not server.loopback_only
        r = await client.post("/invalidate", json={"Paths": ["/x"]}, headers=GOOD)
        assert r.status_code == 403
        assert r.json() == {"error": "admin token not configured"}
        assert (await client.get("/status")).status_code == 403
        assert (await client.get("/healthz")).status_code == 200

    edge = run(scenario, token=None)
    assert edge.invalidations == []


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("0.0.0.0", False),
     ("::", False), ("192.0.2.1", False), ("fe80::1%eth0", False), ("localhost", False)],
)  # fmt: skip
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert admin._is_loopback(host) is loopback


def test_successful_invalidation() -> None:
    async def scenario(server: AdminServer, client: httpx.AsyncClient, edge: Edge) -> None:
        body = {"DistributionId": "E2EXAMPLE", "Paths": ["/a", "/img/*", "/q?x=1*"]}
        r = await client.post("/invalidate", json=body, headers=GOOD)
        assert r.status_code == 200
        assert r.json() == {"Id": "I1", "Status": "Completed", "Paths": body["Paths"], "Removed": 3}
        r = await client.post("/invalidate", json={"Paths": ["/*"]}, headers=GOOD)
        assert r.status_code == 200

    edge = run(scenario)
    assert edge.invalidations == [("E2EXAMPLE", ["/a", "/img/*", "/q?x=1*"]), (None, ["/*"])]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not valid JSON"),
        (b"{bad json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[]", "JSON object"),
        (b"{}", "Paths must be a list"),
        (b'{"Paths": []}', "Paths must be a list"),
        (b'{"Paths": "/a"}', "Paths must be a list"),
        (json.dumps({"Paths": ["/a"] * 3001}).encode(), "1 to 3000"),
        (b'{"Paths": ["a"]}', "Paths[0]: must start with '/'"),
        (b'{"Paths": ["/ok", 7]}', "Paths[1]: must be a string"),
        (b'{"Paths": ["/a*b"]}', "only as the last character"),
        (b'{"Paths": ["/**"]}', "only as the last character"),
        (json.dumps({"Paths": ["/" + "a" * 4000]}).encode(), "longer than 4000"),
        (b'{"Paths": ["/a b"]}', "must be URL-encoded"),
        (b'{"Paths": ["/caf\\u00e9"]}', "must be URL-encoded"),
        (b'{"Paths": ["/a"], "CallerReference": "x"}', "unknown keys"),
        (b'{"Paths": ["/a"], "DistributionId": ""}', "DistributionId"),
        (b'{"Paths": ["/a"], "DistributionId": "../etc"}', "DistributionId"),
        (b'{"Paths": ["/a"], "DistributionId": 5}', "DistributionId"),
    ],
)
def test_invalidation_validation(body: bytes, message: str) -> None:
    async def scenario(server: AdminServer, client: httpx.AsyncClient, edge: Edge) -> None:
        r = await client.post("/invalidate", content=body, headers=GOOD)
        assert r.status_code == 400
        assert message in r.json()["error"]

    edge = run(scenario)
    assert edge.invalidations == []


@pytest.mark.parametrize(
    ("exc", "status", "message"),
    [
        (LookupError("no distribution E9"), 404, "no distribution E9"),
        (KeyError("no distribution E9"), 404, "no distribution E9"),
        (ValueError("too many invalidations in progress"), 400, "too many"),
        (RuntimeError("boom with secret"), 500, "internal error"),
    ],
)
def test_handler_errors(exc: Exception, status: int, message: str) -> None:
    async def scenario(server: AdminServer, client: httpx.AsyncClient, edge: Edge) -> None:
        edge.fail_with = exc
        r = await client.post("/invalidate", json={"Paths": ["/a"]}, headers=GOOD)
        assert r.status_code == status
        assert r.json() == {"error": message} if status == 500 else message in r.json()["error"]

    run(scenario)


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("GET", "/nope", 404, None),
        ("POST", "/nope", 404, None),
        ("POST", "/healthz", 405, "GET, HEAD"),
        ("DELETE", "/metrics", 405, "GET, HEAD"),
        ("GET", "/invalidate", 405, "POST"),
        ("PUT", "/status", 405, "GET, HEAD"),
    ],
)
def test_routing(method: str, path: str, status: int, allow: str | None) -> None:
    async def scenario(server: AdminServer, client: httpx.AsyncClient, edge: Edge) -> None:
        r = await client.request(method, path, headers=GOOD)
        assert r.status_code == status
        assert r.headers.get("allow") == allow

    run(scenario)


def test_body_too_large_with_httpx() -> None:
    async def scenario(server: AdminServer, client: httpx.AsyncClient, edge: Edge) -> None:
        r = await client.post("/invalidate", content=b"x" * (2 << 20), headers=GOOD)
        assert r.status_code == 413

    edge = run(scenario)
    assert edge.invalidations == []


@pytest.mark.parametrize(
    "request_bytes",
    [
        # Declared too large: answered before any body byte is sent.
        b"POST /invalidate HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n",
        # Chunked, and only found too large while reading.
        b"POST /invalidate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"10000\r\n" + b"a" * 0x10000 + b"\r\n",
    ],
)  # fmt: skip
def test_body_too_large_raw(request_bytes: bytes) -> None:
    async def scenario(server: AdminServer, client: httpx.AsyncClient, edge: Edge) -> None:
        resp = await raw(server.port, request_bytes)
        assert status_of(resp) == 413
        assert b'"error"' in resp

    run(scenario, max_body=1000)


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"\x00\x01\x02garbage\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400),
        (b"POST /invalidate HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
         400),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 20000 + b"\r\n\r\n", 431),
        (b"GET http://[::1 HTTP/1.1\r\n\r\n", 400),
    ],
)  # fmt: skip
def test_garbage_gets_400_and_a_closed_connection(request_bytes: bytes, status: int) -> None:
    async def scenario(server: AdminServer, client: httpx.AsyncClient, edge: Edge) -> None:
        resp = await raw(server.port, request_bytes)  # returns only once the server closed
        assert status_of(resp) == status
        assert resp.endswith(b"}\n")

    run(scenario)


def test_incomplete_request_then_eof_gets_400() -> None:
    async def scenario(server: AdminServer, client: httpx.AsyncClient, edge: Edge) -> None:
        resp = await raw(server.port, b"GET /healthz HTTP/1.1\r\nHo", eof=True)
        assert status_of(resp) == 400
        assert await raw(server.port, b"", eof=True) == b""

    run(scenario)


def test_expect_100_continue() -> None:
    async def scenario(server: AdminServer, client: httpx.AsyncClient, edge: Edge) -> None:
        body = json.dumps({"Paths": ["/a"]}).encode()
        head = (
            "POST /invalidate HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            f"Authorization: Bearer {TOKEN}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(head.encode())
        assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(body)
        assert status_of(await reader.read()) == 200
        writer.close()
        await writer.wait_closed()

    edge = run(scenario)
    assert edge.invalidations == [(None, ["/a"])]


def test_slow_request_times_out_with_408() -> None:
    async def scenario(server: AdminServer, client: httpx.AsyncClient, edge: Edge) -> None:
        resp = await raw(server.port, b"GET /healthz HTTP/1.1\r\n")
        assert status_of(resp) == 408

    run(scenario, request_timeout=0.2)


def test_close_drops_idle_connections() -> None:
    async def main() -> None:
        edge = Edge()
        server = AdminServer(host="127.0.0.1", port=0, token=TOKEN, handlers=edge.handlers())
        await server.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /healthz HTTP/1.1\r\n")
        await writer.drain()
        await server.close()
        try:
            assert await reader.read() == b""
        except ConnectionResetError:
            pass  # closed with the request unread: a reset is a close too
        writer.close()
        with contextlib.suppress(ConnectionResetError):
            await writer.wait_closed()
        await server.close()  # idempotent

    asyncio.run(main())


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_no_fd_leaks() -> None:
    async def main() -> None:
        before = fd_count()
        edge = Edge()
        server = AdminServer(host="127.0.0.1", port=0, token=TOKEN, handlers=edge.handlers())
        await server.start()
        base = f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient(base_url=base, trust_env=False) as client:
            for _ in range(20):
                assert (await client.get("/healthz")).status_code == 200
                assert (await client.get("/status")).status_code == 401
                r = await client.post("/invalidate", json={"Paths": ["/a"]}, headers=GOOD)
                assert r.status_code == 200
                assert (await client.post("/invalidate", content=b"{", headers=GOOD)).is_error
            for _ in range(10):
                assert status_of(await raw(server.port, b"\x16\x03\x01garbage")) == 400
                assert await raw(server.port, b"", eof=True) == b""
        await server.close()
        assert fd_count() == before

    asyncio.run(main())


@pytest.mark.parametrize("token", ["", "has space", "new\nline"])
def test_bad_token_is_refused(token: str) -> None:
    with pytest.raises(ValueError, match="admin token"):
        AdminServer(host="127.0.0.1", port=0, token=token, handlers=Edge().handlers())
