"""Bad input at the edge: smuggling vectors, limits, timeouts, fuzz. Real sockets throughout."""

from __future__ import annotations

import asyncio
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.client import raw, request
from tests.support.origin import Reply, TestOrigin

CC = ("Cache-Control", "max-age=60")


def _status(resp: bytes) -> int:
    assert resp.startswith(b"HTTP/1.1 "), resp[:80]
    return int(resp[9:12])


SMUGGLING = [
    (
        "cl+te",
        b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ),
    (
        "duplicate cl",
        b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    ),
    ("bad cl", b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5x\r\n\r\nhello"),
    (
        "bad chunk size",
        b"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"zz\r\nhello\r\n0\r\n\r\n",
    ),
    ("te not chunked", b"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"),
    ("obs-fold", b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n"),
    ("bare lf", b"GET / HTTP/1.1\nHost: a\n\n"),
    ("space before colon", b"GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
    ("nul in header", b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n"),
    ("http/0.9", b"GET /\r\n\r\n"),
    ("missing host", b"GET / HTTP/1.1\r\nX: y\r\n\r\n"),
    ("absolute form", b"GET http://evil/ HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("get with body", b"GET /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"),
]


@pytest.mark.parametrize("name,data", SMUGGLING, ids=[n for n, _ in SMUGGLING])
async def test_smuggling_vectors_refused_and_closed(
    name: str, data: bytes, origin: TestOrigin, make_edge
) -> None:
    origin.set("/p", Reply(200, [], b"ok"))
    edge = await make_edge(origin.port)
    resp = await raw(edge.port, data)  # returns only once the edge closed the connection
    status = _status(resp)
    assert 400 <= status < 506, (name, status)
    assert b"Error from cloudfront" in resp
    assert resp.count(b"HTTP/1.1 ") == 1  # nothing after the error: no smuggled request
    assert not any(r.method == "POST" for r in origin.requests)


async def test_limits(origin: TestOrigin, make_edge) -> None:
    edge = await make_edge(
        origin.port, limits={"max_request_line": 100, "max_header_bytes": 400, "max_headers": 10}
    )
    long_url = b"GET /" + b"a" * 200 + b" HTTP/1.1\r\nHost: a\r\n\r\n"
    assert _status(await raw(edge.port, long_url)) == 414
    big = b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"b" * 500 + b"\r\n\r\n"
    assert _status(await raw(edge.port, big)) == 431
    many = b"GET / HTTP/1.1\r\nHost: a\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(20))
    assert _status(await raw(edge.port, many + b"\r\n")) == 431


async def test_slowloris_header_timeout(origin: TestOrigin, make_edge) -> None:
    edge = await make_edge(origin.port, limits={"header_timeout": 0.3})
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: a\r\n")  # never finishes the head
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert _status(data) == 408


async def test_idle_keepalive_connection_is_closed(origin: TestOrigin, make_edge) -> None:
    origin.set("/i", Reply(200, [CC], b"x"))
    edge = await make_edge(origin.port, limits={"idle_timeout": 0.3})
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
    writer.write(b"GET /i HTTP/1.1\r\nHost: a\r\n\r\n")
    data = await asyncio.wait_for(reader.read(), 10)  # EOF once the idle timer fires
    writer.close()
    assert _status(data) == 200


async def test_method_not_allowed_by_behavior(origin: TestOrigin, make_edge) -> None:
    from tests.support.edge import dist_config

    dist = dist_config(origin.port)
    dist["DefaultCacheBehavior"]["AllowedMethods"] = {"Items": ["GET", "HEAD"]}
    edge = await make_edge(dist=dist)
    r = await request(edge.port, "DELETE", "/x")
    assert r.status == 403 and r.x_cache == "Error from cloudfront"
    assert origin.requests == []


def _fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    data=st.one_of(
        st.binary(max_size=400),
        st.lists(
            st.sampled_from(
                [
                    b"GET ",
                    b"POST ",
                    b"/x",
                    b" HTTP/1.1",
                    b"\r\n",
                    b"\n",
                    b"Host: a",
                    b"Content-Length: 3",
                    b"Transfer-Encoding: chunked",
                    b"0\r\n",
                    b"abc",
                    b":",
                    b" ",
                    b"\x00",
                    b"Range: bytes=0-1",
                ]
            ),
            max_size=20,
        ).map(b"".join),
    )
)
def test_fuzz_never_crashes_or_leaks(data: bytes, fuzz_edge) -> None:
    loop, port = fuzz_edge

    async def one() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(data)
        writer.write_eof()
        try:
            await asyncio.wait_for(reader.read(), 10)
        finally:
            writer.close()
            await writer.wait_closed()

    loop.run_until_complete(one())


@pytest.fixture(scope="module")
def fuzz_edge():
    """One edge for every fuzz example; afterwards it must still answer and hold no extra fds."""
    from tests.support.edge import config, dist_config

    loop = asyncio.new_event_loop()

    async def start():
        from openfront.edge.server import RunningEdge

        o = await TestOrigin().start()
        o.set("/x", Reply(200, [CC], b"x"))
        e = RunningEdge(config(dist_config(o.port), limits={"header_timeout": 2}))
        await e.start()
        return o, e

    o, e = loop.run_until_complete(start())
    loop.run_until_complete(request(e.port, path="/x"))
    before = _fd_count()
    yield loop, e.port

    async def check_and_stop():
        r = await request(e.port, path="/x")
        assert r.status == 200
        # connections the fuzzer opened are all closed again
        for _ in range(100):
            if _fd_count() <= before + 2:
                break
            await asyncio.sleep(0.01)
        assert _fd_count() <= before + 2
        await e.close()
        await o.close()

    loop.run_until_complete(check_and_stop())
    loop.close()


async def test_slow_upload_body_times_out(origin: TestOrigin, make_edge) -> None:
    origin.set("/up", Reply(200, [], b"ok"))
    edge = await make_edge(origin.port, limits={"body_read_timeout": 0.3})
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
    writer.write(b"POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly-a-little")
    data = await asyncio.wait_for(reader.read(), 10)  # the edge gives up and closes
    writer.close()
    assert _status(data) == 408
    assert not any(r.method == "POST" for r in origin.requests)  # never a complete upload


async def test_closing_the_edge_closes_idle_keep_alive_connections(origin, make_edge) -> None:
    from tests.support.origin import Reply

    origin.set("/k", Reply(200, [("Cache-Control", "max-age=60")], b"k"))
    edge = await make_edge(origin.port)
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
    try:
        writer.write(b"GET /k HTTP/1.1\r\nHost: a\r\n\r\n")
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        assert await reader.readexactly(1) == b"k"
        await edge.close()  # the connection waits for its next request: a graceful stop ends it
        assert await asyncio.wait_for(reader.read(), 10) == b""
    finally:
        writer.close()
        await writer.wait_closed()
