"""Request collapsing and streaming: one origin fetch per key, bytes flow as they arrive."""

from __future__ import annotations

import asyncio
import hashlib

from tests.support.client import read_response, request
from tests.support.edge import eventually
from tests.support.origin import Reply, TestOrigin

CC = ("Cache-Control", "max-age=60")


async def _send(port: int, path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    return reader, writer


async def test_concurrent_misses_make_one_origin_request(origin: TestOrigin, make_edge) -> None:
    body = bytes(range(256)) * 4096  # 1 MiB
    origin.set("/big", Reply(200, [CC], body))
    origin.gate = asyncio.Event()
    edge = await make_edge(origin.port)
    conns = [await _send(edge.port, "/big") for _ in range(100)]
    await origin.wait_until(lambda: origin.count("/big") == 1)
    fetcher = edge.env.edge.fetcher
    await eventually(lambda: sum(f.waiters for f in fetcher.inflight.values()) == 100)
    origin.gate.set()
    results = await asyncio.gather(*(read_response(r) for r, _ in conns))
    for _, w in conns:
        w.close()
    assert all(r.status == 200 and r.body == body for r in results)
    assert origin.count("/big") == 1
    caches = sorted(r.x_cache or "" for r in results)
    assert caches.count("Miss from cloudfront") == 1
    assert caches.count("Hit from cloudfront") == 99


async def test_waiters_stream_before_the_origin_finishes(origin: TestOrigin, make_edge) -> None:
    release = asyncio.Event()

    async def slow_body():
        yield b"first-part;"
        await release.wait()
        yield b"second-part"

    origin.set("/stream", lambda s: Reply(200, [CC], slow_body()))
    edge = await make_edge(origin.port)
    a = await _send(edge.port, "/stream")
    b = await _send(edge.port, "/stream")
    for reader, _ in (a, b):
        got = b""
        while b"first-part;" not in got:
            chunk = await asyncio.wait_for(reader.read(4096), 10)
            assert chunk, "connection closed early"
            got += chunk
        assert b"second-part" not in got
    release.set()
    for reader, w in (a, b):
        rest = await asyncio.wait_for(reader.read(), 10)
        assert b"second-part" in rest
        w.close()
    assert origin.count("/stream") == 1
    r = await request(edge.port, path="/stream")
    assert r.body == b"first-part;second-part" and r.x_cache == "Hit from cloudfront"


async def test_uncacheable_answer_is_not_shared(origin: TestOrigin, make_edge) -> None:
    n = iter(range(100))
    origin.set(
        "/private", lambda s: Reply(200, [("Cache-Control", "private")], b"user-%d" % next(n))
    )
    origin.gate = asyncio.Event()
    edge = await make_edge(origin.port)
    conns = [await _send(edge.port, "/private") for _ in range(3)]
    await origin.wait_until(lambda: origin.count("/private") >= 1)
    await eventually(lambda: sum(f.waiters for f in edge.env.edge.fetcher.inflight.values()) == 3)
    origin.gate.set()
    results = await asyncio.gather(*(read_response(r) for r, _ in conns))
    for _, w in conns:
        w.close()
    assert len({r.body for r in results}) == 3  # each viewer got its own private answer
    assert origin.count("/private") == 3


async def test_large_object_streams_through_without_being_held(
    origin: TestOrigin, make_edge, tmp_path
) -> None:
    import tracemalloc

    size = 64 << 20

    async def body():
        block = b"z" * (1 << 20)
        for _ in range(size >> 20):
            yield block

    origin.set("/huge", lambda s: Reply(200, [CC, ("Content-Length", str(size))], body()))
    edge = await make_edge(
        origin.port,
        cache={"disk_path": str(tmp_path / "cache"), "memory_max_object_bytes": 1 << 20},
    )
    tracemalloc.start()
    try:
        reader, writer = await _send(edge.port, "/huge")
        h = hashlib.sha256()
        total = 0
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        while total < size:
            chunk = await reader.read(1 << 20)
            assert chunk
            total += len(chunk)
            h.update(chunk)
        writer.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == size
    assert h.hexdigest() == hashlib.sha256(b"z" * size).hexdigest()
    assert peak < 32 << 20
