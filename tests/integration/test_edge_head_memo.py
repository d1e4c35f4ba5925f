"""The repeated-head memo (protocol.HeadMemo): identical request heads answered without parsing.

Every test drives a real edge over real keep-alive sockets and checks that a memo answer is the
same answer the full path gives, and that anything the head's bytes do not decide keeps the
request on the full path.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.client import Resp, read_response
from tests.support.edge import config, dist_config
from tests.support.origin import Reply, TestOrigin

CC = ("Cache-Control", "max-age=600")
HEAD = b"GET /m HTTP/1.1\r\nHost: test.local\r\nUser-Agent: memo\r\n\r\n"


class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def send(self, data: bytes, replies: int = 1) -> list[Resp]:
        self.writer.write(data)
        await self.writer.drain()
        return [await asyncio.wait_for(read_response(self.reader), 10) for _ in range(replies)]

    def close(self) -> None:
        self.writer.close()


async def _connect(port: int) -> _Conn:
    return _Conn(*await asyncio.open_connection("127.0.0.1", port))


async def _file_head(conn: _Conn, edge: Any) -> None:
    """Send HEAD until the memo holds it: a miss, a hit that notes it, a hit that files it."""
    for _ in range(3):
        (r,) = await conn.send(HEAD)
        assert r.status == 200
    assert HEAD in edge.env.edge.heads.known


def _hits(edge: Any) -> int:
    snap = edge.env.metrics.snapshot()["distributions"]["EDIST1"]
    return int(snap["results"].get("Hit", 0))


async def test_repeated_heads_are_answered_from_the_memo(origin: TestOrigin, make_edge) -> None:
    origin.set("/m", Reply(200, [CC, ("Content-Type", "text/plain")], b"memo body"))
    edge = await make_edge(origin.port)
    heads = edge.env.edge.heads
    conn = await _connect(edge.port)
    try:
        answers = [(await conn.send(HEAD))[0] for _ in range(5)]
    finally:
        conn.close()
    assert [a.x_cache for a in answers] == ["Miss from cloudfront"] + ["Hit from cloudfront"] * 4
    assert all(a.status == 200 and a.body == b"memo body" for a in answers)
    # Seen by the first hit, filed by the second, answered by the memo for the last two.
    assert list(heads.known) == [HEAD]
    ids = [a.h("x-amz-cf-id") for a in answers]
    assert len(set(ids)) == 5
    for a in answers[1:]:
        assert a.h("age") is not None and a.h("content-type") == "text/plain"
        assert a.h("via") and a.h("x-amz-cf-pop")
    # Another connection with the same bytes uses the same memo entry.
    other = await _connect(edge.port)
    try:
        (again,) = await other.send(HEAD)
    finally:
        other.close()
    assert again.x_cache == "Hit from cloudfront" and again.body == b"memo body"
    assert origin.count("/m") == 1
    snap = edge.env.metrics.snapshot()["distributions"]["EDIST1"]
    assert snap["requests"] == 6 and snap["results"] == {"Miss": 1, "Hit": 5}
    assert snap["statuses"] == {"200": 6}


async def test_invalidation_and_new_config_reach_memo_answers(
    origin: TestOrigin, make_edge
) -> None:
    origin.set("/m", Reply(200, [CC], b"v1"))
    edge = await make_edge(origin.port)
    conn = await _connect(edge.port)
    try:
        await _file_head(conn, edge)
        origin.set("/m", Reply(200, [CC], b"v2"))
        await edge.env.invalidate("EDIST1", ["/m"])
        (after,) = await conn.send(HEAD)
        assert after.x_cache == "Miss from cloudfront" and after.body == b"v2"
        # A new configuration empties the memo: its answers may differ.
        edge.env.set_config(config(dist_config(origin.port)))
        assert not edge.env.edge.heads.known
        (hit,) = await conn.send(HEAD)
        assert hit.x_cache == "Hit from cloudfront" and hit.body == b"v2"
    finally:
        conn.close()
    assert origin.count("/m") == 2


async def test_a_head_split_from_an_earlier_byte_is_parsed(origin: TestOrigin, make_edge) -> None:
    """Bytes of a started request turn the memo's bytes into a different request (RFC 9112)."""
    origin.set("/m", Reply(200, [CC], b"x"))
    edge = await make_edge(origin.port)
    conn = await _connect(edge.port)
    try:
        await _file_head(conn, edge)
        conn.writer.write(b"G")  # now "GGET /m ..." is one (bad) request line
        await conn.writer.drain()
        await asyncio.sleep(0)
        (bad,) = await conn.send(HEAD)
        assert bad.status == 400
        assert await conn.reader.read() == b""  # and the connection closes after the error
    finally:
        conn.close()


async def test_pipelined_heads_are_answered_in_order_and_not_filed(
    origin: TestOrigin, make_edge
) -> None:
    origin.set("/m", Reply(200, [CC], b"m"))
    origin.set("/n", Reply(200, [CC], b"n"))
    edge = await make_edge(origin.port)
    n_head = HEAD.replace(b"/m", b"/n")
    conn = await _connect(edge.port)
    try:
        await conn.send(HEAD)
        await conn.send(n_head)
        conn.writer.write(HEAD + n_head + HEAD)
        data = b""
        while data.count(b"HTTP/1.1 200 OK") < 3 or not data.endswith(b"m"):
            data += await asyncio.wait_for(conn.reader.read(65536), 10)
        assert [part[-1:] for part in data.split(b"HTTP/1.1 200 OK")[1:]] == [b"m", b"n", b"m"]
        assert not edge.env.edge.heads.known  # no chunk held exactly one request
        for _ in range(2):
            (hit,) = await conn.send(HEAD)
        assert hit.x_cache == "Hit from cloudfront" and HEAD in edge.env.edge.heads.known
        # Behind a miss still in flight, a known head waits its turn.
        release = asyncio.Event()

        async def late(_seen: Any) -> Reply:
            await release.wait()
            return Reply(200, [CC], b"late")

        origin.set("/late", late)
        conn.writer.write(b"GET /late HTTP/1.1\r\nHost: test.local\r\n\r\n")
        await origin.wait_until(lambda: origin.count("/late") == 1)
        conn.writer.write(HEAD)
        await conn.writer.drain()
        release.set()
        data = b""
        while data.count(b"HTTP/1.1 200 OK") < 2 or not data.endswith(b"m"):
            data += await asyncio.wait_for(conn.reader.read(65536), 10)
    finally:
        conn.close()
    late_answer, m_answer = data.split(b"HTTP/1.1 200 OK")[1:]
    assert late_answer.endswith(b"late") and m_answer.endswith(b"\r\n\r\nm")


async def test_answers_that_read_the_viewer_are_not_filed(origin: TestOrigin, make_edge) -> None:
    origin.set("/m", Reply(200, [CC], b"geo"))
    restrictions = {"GeoRestriction": {"RestrictionType": "blacklist", "Items": ["US"]}}
    edge = await make_edge(
        cfg=config(
            dist_config(origin.port, Restrictions=restrictions),
            viewer={"trusted_proxies": ["127.0.0.0/8"]},
        )
    )
    conn = await _connect(edge.port)
    try:
        for _ in range(3):
            (r,) = await conn.send(HEAD)
            assert r.status == 200
        blocked = HEAD.replace(b"\r\n\r\n", b"\r\nX-Forwarded-For: 8.8.8.8\r\n\r\n")
        (no,) = await conn.send(blocked)
        assert no.status == 403
    finally:
        conn.close()
    assert not edge.env.edge.heads.known


async def test_memo_answers_are_logged_one_by_one(origin: TestOrigin, make_edge, tmp_path) -> None:
    from openfront.edge.accesslog import read_log

    origin.set("/m", Reply(200, [CC], b"logged"))
    edge = await make_edge(origin.port, logs={"path": str(tmp_path / "logs")})
    conn = await _connect(edge.port)
    try:
        for _ in range(4):
            await conn.send(HEAD)
    finally:
        conn.close()
    assert HEAD in edge.env.edge.heads.known
    await asyncio.to_thread(edge.env.logs["EDIST1"].close)
    rows = [row for f in sorted((tmp_path / "logs").iterdir()) for row in read_log(f)]
    assert [r["x-edge-result-type"] for r in rows] == ["Miss", "Hit", "Hit", "Hit"]
    assert all(r["cs(User-Agent)"] == "memo" and r["cs-uri-stem"] == "/m" for r in rows)
    assert len({r["x-edge-request-id"] for r in rows}) == 4
    assert _hits(edge) == 3


def test_memo_files_heads_seen_twice_and_is_bounded() -> None:
    from openfront.edge.protocol import HeadMemo

    memo = HeadMemo(limit=3, max_bytes=64 * 100)
    conn: Any = None
    memo.remember(conn, b"once", 0)
    assert memo.known == {}  # a head marked once is only noted
    for i in range(3):
        memo.remember(conn, b"%d" % i, i)
        memo.remember(conn, b"%d" % i, i)
    assert memo.known == {b"0": 0, b"1": 1, b"2": 2}
    memo.remember(conn, b"x", "x")
    memo.remember(conn, b"x", "x")  # the fourth entry empties it first
    assert memo.known == {b"x": "x"}
    big = b"y" * 101  # above max_bytes / 64: never filed
    memo.remember(conn, big, "big")
    memo.remember(conn, big, "big")
    assert big not in memo.known
    for i in range(70):
        for _ in range(2):
            memo.remember(conn, b"%02d" % i + b"z" * 98, i)
    assert sum(map(len, memo.known)) <= 64 * 100
