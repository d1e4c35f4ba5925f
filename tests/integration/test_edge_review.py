"""Review of the caching edge's corner cases, each against RFC 9110/9111/9112 or CloudFront.

Every test runs an in-process edge in front of the scriptable test origin over real sockets.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from email.parser import BytesParser

import httptools
from tests.support.client import Resp, raw, read_response, request
from tests.support.edge import dist_config, eventually, origin_entry
from tests.support.origin import Reply, Seen, TestOrigin

CC = ("Cache-Control", "max-age=60")
BODY = bytes(range(256)) * 16  # 4,096 bytes


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


async def _open(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


def _gated_body(first: bytes, rest: bytes, release: asyncio.Event) -> AsyncIterator[bytes]:
    async def gen() -> AsyncIterator[bytes]:
        yield first
        await release.wait()
        yield rest

    return gen()


def _idle(edge) -> bool:
    return not edge.env.edge.fetcher.inflight


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


class _Messages:
    """httptools callbacks collecting every response in a byte stream (pipelining)."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.done: list[Resp] = []
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode(), value.decode("latin-1")))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        self.done.append(Resp(status, self._headers, b"".join(self._body)))
        self._headers, self._body = [], []


async def _pipelined(port: int, data: bytes) -> list[Resp]:
    """Send requests (the last with Connection: close); every response until the edge closes."""
    msgs = _Messages()
    msgs.parser.feed_data(await raw(port, data))
    return msgs.done


def _header_lines(head: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        out[name.strip().lower()] = value.strip()
    return out


# -- Age (RFC 9111 §4.2.3, §5.1) -------------------------------------------------------------


async def test_miss_keeps_the_upstream_age(origin: TestOrigin, make_edge) -> None:
    # The object is already 100 s old upstream (a parent cache said so). Dropping Age on the
    # miss makes the viewer's own cache keep it 100 s longer than the origin allows.
    origin.set("/aged", Reply(200, [("Cache-Control", "max-age=600"), ("Age", "100")], b"x"))
    edge = await make_edge(origin.port)
    miss = await request(edge.port, path="/aged")
    hit = await request(edge.port, path="/aged")
    assert hit.x_cache == "Hit from cloudfront" and int(hit.h("age") or -1) >= 100
    assert miss.x_cache == "Miss from cloudfront"
    assert miss.h("age") is not None and int(miss.h("age") or -1) >= 100


async def test_pass_through_keeps_the_upstream_age(origin: TestOrigin, make_edge) -> None:
    # Not stored (DefaultTTL 0, no max-age): the edge is a plain intermediary and must not
    # hide how old the upstream copy already is.
    origin.set("/pass-aged", Reply(200, [("Age", "50")], b"x"))
    edge = await make_edge(origin.port)
    r = await request(edge.port, path="/pass-aged")
    assert r.status == 200 and r.x_cache == "Miss from cloudfront"
    assert r.h("age") is not None and int(r.h("age") or -1) >= 50


async def test_hit_age_counts_origin_age_and_apparent_age(origin: TestOrigin, make_edge) -> None:
    from email.utils import formatdate

    origin.set("/age-hdr", Reply(200, [("Cache-Control", "max-age=6000"), ("Age", "30")], b"a"))
    # Date an hour ago and no Age header: the apparent age (response_time - Date) counts.
    old_date = formatdate(time.time() - 3600, usegmt=True)
    origin.set(
        "/age-date", Reply(200, [("Cache-Control", "max-age=7200"), ("Date", old_date)], b"d")
    )
    edge = await make_edge(origin.port)
    for path in ("/age-hdr", "/age-date"):
        await request(edge.port, path=path)
    a = await request(edge.port, path="/age-hdr")
    d = await request(edge.port, path="/age-date")
    assert a.x_cache == d.x_cache == "Hit from cloudfront"
    assert 30 <= int(a.h("age") or -1) < 6000
    assert 3600 <= int(d.h("age") or -1) < 7200


# -- revalidation (RFC 9111 §4.3.3, §4.3.4) ----------------------------------------------------


async def test_refresh_hit_merges_304_headers_and_keeps_framing(
    origin: TestOrigin, make_edge
) -> None:
    def handler(s: Seen) -> Reply:
        if s.headers.get("if-none-match") == '"v1"':
            return Reply(
                304,
                [("ETag", '"v1"'), ("Cache-Control", "max-age=600"), ("X-Version", "2")],
            )
        return Reply(
            200,
            [("ETag", '"v1"'), ("Cache-Control", "max-age=60"), ("Age", "100"), ("X-Version", "1")],
            BODY,
        )

    origin.set("/merge", handler)
    edge = await make_edge(origin.port)
    await request(edge.port, path="/merge")
    reader, writer = await _open(edge.port)
    try:
        writer.write(b"GET /merge HTTP/1.1\r\nHost: x\r\n\r\n")
        refreshed = await read_response(reader)
        # The same connection must still be in sync after the refreshed response.
        writer.write(b"GET /merge HTTP/1.1\r\nHost: x\r\n\r\n")
        hit = await read_response(reader)
    finally:
        writer.close()
    assert (refreshed.status, refreshed.x_cache) == (200, "RefreshHit from cloudfront")
    assert refreshed.body == BODY and refreshed.h("content-length") == str(len(BODY))
    assert refreshed.h("x-version") == "2" and refreshed.h("cache-control") == "max-age=600"
    # The 304 restarted freshness; the origin's old Age of 100 no longer applies.
    assert int(refreshed.h("age") or -1) < 100
    assert (hit.x_cache, hit.body, hit.h("x-version")) == ("Hit from cloudfront", BODY, "2")
    assert origin.count("/merge") == 2


async def test_conditional_viewer_on_refresh_hit_gets_304(origin: TestOrigin, make_edge) -> None:
    def handler(s: Seen) -> Reply:
        if s.headers.get("if-none-match") == '"v1"':
            return Reply(304, [("ETag", '"v1"'), ("Cache-Control", "max-age=60")])
        return Reply(200, [("ETag", '"v1"'), ("Cache-Control", "max-age=60"), ("Age", "61")], BODY)

    origin.set("/cond", handler)
    edge = await make_edge(origin.port)
    await request(edge.port, path="/cond")
    r = await request(edge.port, path="/cond", headers={"If-None-Match": '"v1"'})
    assert (r.status, r.body, r.x_cache) == (304, b"", "RefreshHit from cloudfront")
    assert r.h("etag") == '"v1"' and r.h("content-length") is None


# -- stale-if-error and CloudFront's stale-on-5xx (guide §1.2, §1.9) -----------------------------


async def test_stale_if_error_on_connection_failure(make_edge) -> None:
    o = await TestOrigin().start()
    o.set(
        "/sie",
        Reply(200, [("Cache-Control", "max-age=60, stale-if-error=600"), ("Age", "61")], b"good"),
    )
    edge = await make_edge(o.port)
    await request(edge.port, path="/sie")
    await o.close()  # origin down: connections refused
    r = await request(edge.port, path="/sie")
    assert (r.status, r.body) == (200, b"good")


async def test_expired_object_served_when_origin_answers_5xx(origin: TestOrigin, make_edge) -> None:
    # Guide §1.9: "If an expired object is cached and the origin returns 5xx, CloudFront serves
    # the stale object", with no stale-if-error from the origin. On 4xx the 4xx goes through.
    calls = iter(range(10))

    def handler(_s: Seen) -> Reply:
        if next(calls) == 0:
            return Reply(200, [("Cache-Control", "max-age=60"), ("Age", "61")], b"good")
        return Reply(503, [], b"down")

    origin.set("/cf-stale", handler)
    edge = await make_edge(origin.port)
    await request(edge.port, path="/cf-stale")
    r = await request(edge.port, path="/cf-stale")
    assert (r.status, r.body) == (200, b"good")


async def test_stale_if_error_zero_disables_stale_on_5xx(origin: TestOrigin, make_edge) -> None:
    calls = iter(range(10))

    def handler(_s: Seen) -> Reply:
        if next(calls) == 0:
            cc = ("Cache-Control", "max-age=60, stale-if-error=0")
            return Reply(200, [cc, ("Age", "61")], b"good")
        return Reply(503, [], b"down")

    origin.set("/sie0", handler)
    edge = await make_edge(origin.port)
    await request(edge.port, path="/sie0")
    r = await request(edge.port, path="/sie0")
    assert r.status == 503


# -- a viewer that is done must not stop the shared fetch ----------------------------------------


async def test_range_on_slow_miss_still_caches_the_object(origin: TestOrigin, make_edge) -> None:
    # docs/edge.md: "a range request on a miss fetches the whole object once and answers the
    # range as soon as its bytes arrive; later ranges come from the cache".
    release = asyncio.Event()
    size = 2 * len(BODY)
    origin.set(
        "/slow.bin",
        lambda s: Reply(200, [CC, ("Content-Length", str(size))], _gated_body(BODY, BODY, release)),
    )
    edge = await make_edge(origin.port)
    r = await request(edge.port, path="/slow.bin", headers={"Range": "bytes=0-9"})
    assert (r.status, r.body) == (206, BODY[:10])
    release.set()
    await eventually(lambda: _idle(edge))
    again = await request(edge.port, path="/slow.bin")
    assert again.x_cache == "Hit from cloudfront" and again.body == BODY + BODY
    assert origin.count("/slow.bin") == 1


async def test_conditional_on_slow_miss_still_caches_the_object(
    origin: TestOrigin, make_edge
) -> None:
    release = asyncio.Event()
    size = 2 * len(BODY)
    origin.set(
        "/slow-etag",
        lambda s: Reply(
            200,
            [CC, ("ETag", '"e"'), ("Content-Length", str(size))],
            _gated_body(BODY, BODY, release),
        ),
    )
    edge = await make_edge(origin.port)
    r = await request(edge.port, path="/slow-etag", headers={"If-None-Match": '"e"'})
    assert (r.status, r.body) == (304, b"")
    release.set()
    await eventually(lambda: _idle(edge))
    again = await request(edge.port, path="/slow-etag")
    assert again.x_cache == "Hit from cloudfront" and again.body == BODY + BODY
    assert origin.count("/slow-etag") == 1


async def test_viewer_disconnect_mid_stream_does_not_hurt_other_waiters(
    origin: TestOrigin, make_edge
) -> None:
    release = asyncio.Event()
    origin.set("/shared", lambda s: Reply(200, [CC], _gated_body(b"first;", b"second", release)))
    edge = await make_edge(origin.port)
    conns = []
    for _ in range(2):
        reader, writer = await _open(edge.port)
        writer.write(b"GET /shared HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        conns.append((reader, writer))
    for reader, _ in conns:
        got = b""
        while b"first;" not in got:
            chunk = await asyncio.wait_for(reader.read(4096), 10)
            assert chunk
            got += chunk
    conns[0][1].transport.abort()  # the first viewer goes away mid-body
    release.set()
    rest = await asyncio.wait_for(conns[1][0].read(), 10)
    conns[1][1].close()
    assert rest.endswith(b"second") or b"second" in rest
    await eventually(lambda: _idle(edge))
    r = await request(edge.port, path="/shared")
    assert (r.body, r.x_cache) == (b"first;second", "Hit from cloudfront")
    assert origin.count("/shared") == 1


# -- Vary ----------------------------------------------------------------------------------------


def _forwarding(origin_port: int, *headers: str) -> dict:
    dist = dist_config(origin_port)
    dist["DefaultCacheBehavior"]["OriginRequestPolicyConfig"] = {
        "Name": "fwd",
        "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": list(headers)},
        "CookiesConfig": {"CookieBehavior": "none"},
        "QueryStringsConfig": {"QueryStringBehavior": "none"},
    }
    return dist


async def test_vary_on_a_header_the_origin_never_sees_is_ignored(
    origin: TestOrigin, make_edge
) -> None:
    # Guide §1.12: CloudFront passes Vary only for Accept-Encoding, Cookie and forwarded headers.
    # User-Agent is not forwarded (the origin sees "Amazon CloudFront"), so varying on it can
    # only fragment the cache: one object per browser build.
    origin.set("/ua", Reply(200, [CC, ("Vary", "User-Agent")], b"same for all"))
    edge = await make_edge(origin.port)
    a = await request(edge.port, path="/ua", headers={"User-Agent": "Firefox/1"})
    b = await request(edge.port, path="/ua", headers={"User-Agent": "Chrome/2"})
    assert a.body == b.body == b"same for all"
    assert b.x_cache == "Hit from cloudfront" and origin.count("/ua") == 1
    assert b.h("vary") is None


async def test_collapsed_waiters_with_different_vary_values(origin: TestOrigin, make_edge) -> None:
    origin.set(
        "/lang",
        lambda s: Reply(200, [CC, ("Vary", "X-Lang")], (s.headers.get("x-lang") or "-").encode()),
    )
    origin.gate = asyncio.Event()
    edge = await make_edge(dist=_forwarding(origin.port, "X-Lang"))
    langs = ["ko", "pt", "ko", "pt"]
    pending = [
        asyncio.ensure_future(request(edge.port, path="/lang", headers={"X-Lang": lang}))
        for lang in langs
    ]
    await origin.wait_until(lambda: origin.count("/lang") >= 1)
    await eventually(lambda: sum(f.waiters for f in edge.env.edge.fetcher.inflight.values()) == 4)
    origin.gate.set()
    results = await asyncio.gather(*pending)
    assert [r.body for r in results] == [b"ko", b"pt", b"ko", b"pt"]
    await eventually(lambda: _idle(edge))
    ko = await request(edge.port, path="/lang", headers={"X-Lang": "ko"})
    assert (ko.body, ko.x_cache) == (b"ko", "Hit from cloudfront")


# -- HEAD ----------------------------------------------------------------------------------------


async def test_head_of_uncached_chunked_object_does_not_claim_empty_body(
    origin: TestOrigin, make_edge
) -> None:
    # RFC 9110 §8.6: a HEAD response's Content-Length, if sent, must be what GET would send.
    origin.set("/dyn", Reply(200, [("Content-Type", "text/plain")], BODY, chunked=True))
    edge = await make_edge(origin.port)
    reader, writer = await _open(edge.port)
    try:
        writer.write(b"HEAD /dyn HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await read_response(reader, head_only=True)
        writer.write(b"GET /dyn HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        get = await read_response(reader)
    finally:
        writer.close()
    assert head.status == 200 and head.h("content-length") != "0"
    assert get.body == BODY


async def test_head_miss_chunked_then_get_on_same_connection(origin: TestOrigin, make_edge) -> None:
    origin.set("/hc", Reply(200, [CC], BODY, chunked=True))
    edge = await make_edge(origin.port)
    reader, writer = await _open(edge.port)
    try:
        writer.write(b"HEAD /hc HTTP/1.1\r\nHost: x\r\n\r\n")
        h = await read_response(reader, head_only=True)
        await eventually(lambda: _idle(edge))
        writer.write(b"GET /hc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        rest = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    assert h.status == 200 and h.body == b""
    # Nothing of a body may follow the HEAD response: the next bytes are the GET's status line.
    assert rest.startswith(b"HTTP/1.1 200")
    hdrs = _header_lines(_split_head(rest)[0])
    assert hdrs.get("x-cache") == "Hit from cloudfront" and _split_head(rest)[1] == BODY
    assert origin.count("/hc") == 1


# -- status codes without content ----------------------------------------------------------------


async def test_cached_204_has_no_content_length(origin: TestOrigin, make_edge) -> None:
    # RFC 9110 §8.6: "A server MUST NOT send a Content-Length header field in any response
    # with a status code of 1xx (Informational) or 204 (No Content)."
    origin.set("/204", Reply(204, [CC]))
    edge = await make_edge(origin.port)
    miss = await request(edge.port, path="/204")
    hit = await request(edge.port, path="/204")
    assert (miss.status, hit.status) == (204, 204)
    assert hit.x_cache == "Hit from cloudfront"
    assert miss.h("content-length") is None and hit.h("content-length") is None
    assert miss.h("transfer-encoding") is None and hit.h("transfer-encoding") is None


async def test_empty_object_cached_and_connection_stays_in_sync(
    origin: TestOrigin, make_edge
) -> None:
    origin.set("/empty", Reply(200, [CC, ("Content-Type", "text/plain")], b""))
    origin.set("/after", Reply(200, [CC], b"after"))
    edge = await make_edge(origin.port)
    reader, writer = await _open(edge.port)
    try:
        got = []
        for path in (b"/empty", b"/empty", b"/after"):
            writer.write(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path)
            got.append(await read_response(reader))
    finally:
        writer.close()
    miss, hit, after = got
    assert (miss.status, miss.body, miss.h("content-length")) == (200, b"", "0")
    assert (hit.x_cache, hit.body, hit.h("content-length")) == ("Hit from cloudfront", b"", "0")
    assert after.body == b"after"


async def test_range_on_empty_object_is_416(origin: TestOrigin, make_edge) -> None:
    origin.set("/empty-r", Reply(200, [CC], b""))
    edge = await make_edge(origin.port)
    await request(edge.port, path="/empty-r")
    r = await request(edge.port, path="/empty-r", headers={"Range": "bytes=0-0"})
    assert r.status == 416 and r.h("content-range") == "bytes */0"


# -- ranges on a miss ----------------------------------------------------------------------------


async def test_multi_range_on_a_miss(origin: TestOrigin, make_edge) -> None:
    origin.set("/mr", Reply(200, [CC, ("Content-Type", "application/octet-stream")], BODY))
    edge = await make_edge(origin.port)
    r = await request(edge.port, path="/mr", headers={"Range": "bytes=0-9,1000-1009"})
    assert r.status == 206 and r.x_cache == "Miss from cloudfront"
    ctype = r.h("content-type") or ""
    assert ctype.startswith("multipart/byteranges; boundary=")
    assert int(r.h("content-length") or -1) == len(r.body)
    msg = BytesParser().parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + r.body)
    parts = msg.get_payload()
    assert [p.get_payload(decode=True) for p in parts] == [BODY[:10], BODY[1000:1010]]
    assert parts[1]["Content-Range"] == f"bytes 1000-1009/{len(BODY)}"


async def test_range_on_a_chunked_miss_gets_whole_object(origin: TestOrigin, make_edge) -> None:
    # Guide §1.8: when the origin answers chunked, the viewer gets the whole object.
    release = asyncio.Event()
    origin.set("/ch", lambda s: Reply(200, [CC], _gated_body(BODY, BODY, release), chunked=True))
    edge = await make_edge(origin.port)
    pending = asyncio.ensure_future(
        request(edge.port, path="/ch", headers={"Range": "bytes=0-9,20-29"})
    )
    await origin.wait_until(lambda: origin.count("/ch") == 1)
    await eventually(lambda: sum(f.received for f in edge.env.edge.fetcher.inflight.values()) > 0)
    release.set()
    r = await pending
    assert (r.status, r.body) == (200, BODY + BODY)
    await eventually(lambda: _idle(edge))
    later = await request(edge.port, path="/ch", headers={"Range": "bytes=10-19"})
    assert (later.status, later.body, later.x_cache) == (206, BODY[10:20], "Hit from cloudfront")
    assert later.h("content-range") == f"bytes 10-19/{2 * len(BODY)}"


# -- request bodies and connection reuse ---------------------------------------------------------


def _echo(s: Seen) -> Reply:
    return Reply(200, [("X-Len", str(len(s.body)))], s.method.encode() + b":" + s.body)


async def test_chunked_upload_then_get_on_the_same_connection(
    origin: TestOrigin, make_edge
) -> None:
    origin.set("/up", _echo)
    origin.set("/g", Reply(200, [CC], b"got"))
    edge = await make_edge(origin.port)
    reader, writer = await _open(edge.port)
    try:
        writer.write(
            b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        )
        post = await read_response(reader)
        writer.write(b"GET /g HTTP/1.1\r\nHost: x\r\n\r\n")
        get = await read_response(reader)
    finally:
        writer.close()
    # A Content-Length upload, a chunked one and GETs pipelined behind them, in one write.
    put, get2, patch, get3 = await _pipelined(
        edge.port,
        b"PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
        b"GET /g HTTP/1.1\r\nHost: x\r\n\r\n"
        b"PATCH /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n"
        b"GET /g HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    assert (post.status, post.body, post.h("x-len")) == (200, b"POST:hello world", "11")
    assert (get.status, get.body) == (200, b"got")
    assert (put.body, get2.body, patch.body, get3.body) == (b"PUT:abc", b"got", b"PATCH:xy", b"got")
    assert [r.method for r in origin.requests if r.target == "/up"] == ["POST", "PUT", "PATCH"]


async def test_expect_100_continue_upload(origin: TestOrigin, make_edge) -> None:
    # CloudFront drops Expect on the way to the origin, so the edge must answer the expectation
    # itself (RFC 9110 §10.1.1): 100 Continue, or a final status, before the body is sent.
    origin.set("/up", _echo)
    edge = await make_edge(origin.port)
    reader, writer = await _open(edge.port)
    try:
        writer.write(
            b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            b"Expect: 100-continue\r\nConnection: close\r\n\r\n"
        )
        first = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 3)
        assert first.startswith(b"HTTP/1.1 100")
        writer.write(b"hello")
        final = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    assert final.startswith(b"HTTP/1.1 200") and final.endswith(b"POST:hello")
    assert "expect" not in origin.requests[0].headers


async def test_pipelined_requests_after_a_slow_miss(origin: TestOrigin, make_edge) -> None:
    release = asyncio.Event()
    origin.set("/slow", lambda s: Reply(200, [CC], _gated_body(b"slow-", b"done", release)))
    origin.set("/fast", Reply(200, [CC], b"fast"))
    edge = await make_edge(origin.port)
    await request(edge.port, path="/fast")  # a memory hit, answered inline, behind the miss
    pending = asyncio.ensure_future(
        _pipelined(
            edge.port,
            b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
    )
    await origin.wait_until(lambda: origin.count("/slow") == 1)
    release.set()
    a, b, c = await pending
    assert (a.body, b.body, c.status) == (b"slow-done", b"fast", 404)
    assert (a.x_cache, b.x_cache) == ("Miss from cloudfront", "Hit from cloudfront")


async def test_post_5xx_in_an_origin_group_does_not_fail_over(make_edge) -> None:
    primary = await TestOrigin().start()
    secondary = await TestOrigin().start()
    try:
        primary.set("/p", Reply(503, [], b"primary down"))
        secondary.set("/p", Reply(200, [], b"secondary"))
        dist = dist_config(
            primary.port,
            Origins=[origin_entry("p", primary.port), origin_entry("s", secondary.port)],
            OriginGroups=[
                {
                    "Id": "g",
                    "FailoverCriteria": {"StatusCodes": [503]},
                    "Members": [{"OriginId": "p"}, {"OriginId": "s"}],
                }
            ],
        )
        dist["DefaultCacheBehavior"]["TargetOriginId"] = "g"
        edge = await make_edge(dist=dist)
        post = await request(edge.port, "POST", "/p", body=b"data")
        assert (post.status, post.body) == (503, b"primary down")
        delete = await request(edge.port, "DELETE", "/p")
        assert delete.status == 503
        assert secondary.requests == []
        # A GET with the same answer does fail over.
        get = await request(edge.port, path="/p")
        assert (get.status, get.body) == (200, b"secondary")
    finally:
        await primary.close()
        await secondary.close()


# -- headers to the origin and to the viewer ----------------------------------------------------


async def test_x_forwarded_for_appends_the_peer(origin: TestOrigin, make_edge) -> None:
    origin.set("/xff", Reply(200, [], b"x"))
    edge = await make_edge(origin.port)
    await request(edge.port, path="/xff", headers={"X-Forwarded-For": "203.0.113.9"})
    await raw(
        edge.port,
        b"GET /xff HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 192.0.2.4\r\n"
        b"X-Forwarded-For: 192.0.2.3\r\nConnection: close\r\n\r\n",
    )
    await request(edge.port, path="/xff")
    seen = [
        [p.strip() for p in (r.headers.get("x-forwarded-for") or "").split(",")]
        for r in origin.requests
    ]
    assert seen == [
        ["203.0.113.9", "127.0.0.1"],
        ["192.0.2.4", "192.0.2.3", "127.0.0.1"],
        ["127.0.0.1"],
    ]


async def test_encoded_crlf_in_target_stays_encoded(origin: TestOrigin, make_edge) -> None:
    origin.set("/inj", lambda s: Reply(200, [], s.target.encode()))
    edge = await make_edge(origin.port)
    r = await request(edge.port, path="/inj?a=%0d%0aX-Injected:%201")
    assert r.body == b"/inj?a=%0d%0aX-Injected:%201"
    assert r.h("x-injected") is None
    assert all("x-injected" not in s.headers for s in origin.requests)


async def test_long_header_values_pass_both_ways(origin: TestOrigin, make_edge) -> None:
    long_value = "v" * 12_000
    origin.set("/long", lambda s: Reply(200, [CC, ("X-Long", long_value)], b"ok"))
    edge = await make_edge(dist=_forwarding(origin.port, "X-Viewer-Long"))
    r = await request(edge.port, path="/long", headers={"X-Viewer-Long": long_value})
    hit = await request(edge.port, path="/long")
    assert r.status == 200 and r.h("x-long") == long_value
    assert hit.x_cache == "Hit from cloudfront" and hit.h("x-long") == long_value
    assert origin.requests[0].headers.get("x-viewer-long") == long_value


async def test_oversized_origin_head_is_502(origin: TestOrigin, make_edge) -> None:
    origin.set("/huge-head", Reply(200, [("X-Huge", "h" * 70_000)], b"x"))
    edge = await make_edge(origin.port)
    r = await request(edge.port, path="/huge-head")
    assert r.status == 502 and r.x_cache == "Error from cloudfront"


# -- Connection: close and HTTP/1.0 viewers ------------------------------------------------------


async def test_connection_close_is_honoured_on_miss_and_hit(origin: TestOrigin, make_edge) -> None:
    origin.set("/cc", Reply(200, [CC], b"cc"))
    edge = await make_edge(origin.port)
    for expected in ("Miss", "Hit"):
        data = await raw(edge.port, b"GET /cc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head, body = _split_head(data)
        hdrs = _header_lines(head)
        assert hdrs["x-cache"] == f"{expected} from cloudfront"
        assert hdrs["connection"] == "close" and body == b"cc"
        await eventually(lambda: _idle(edge))


async def test_bytes_after_connection_close_do_not_replace_the_response(
    origin: TestOrigin, make_edge
) -> None:
    # RFC 9112 §9.6: the server closes "after it sends the final response to the request that
    # contained the close option" and must not process further requests. The extra bytes are
    # to be ignored, not answered with a 400 in place of the real response.
    origin.set("/cc", Reply(200, [CC], b"cc"))
    edge = await make_edge(origin.port)
    data = await raw(
        edge.port,
        b"GET /cc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        b"GET /cc HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    head, body = _split_head(data)
    assert head.startswith(b"HTTP/1.1 200"), head
    assert _header_lines(head)["x-cache"] == "Miss from cloudfront" and body == b"cc"


async def test_http10_viewer_gets_close_delimited_body(origin: TestOrigin, make_edge) -> None:
    origin.set("/c10", Reply(200, [CC], BODY, chunked=True))
    origin.set("/p10", Reply(200, [], BODY, chunked=True))  # not stored: passed through
    edge = await make_edge(origin.port)
    for path in (b"/c10", b"/p10"):
        data = await raw(edge.port, b"GET %s HTTP/1.0\r\nHost: x\r\n\r\n" % path)
        head, body = _split_head(data)
        hdrs = _header_lines(head)
        assert head.startswith(b"HTTP/1.1 200"), path
        assert "transfer-encoding" not in hdrs and body == BODY, path
    # The stored copy has a known length now: keep-alive works for a 1.0 viewer that asks.
    reader, writer = await _open(edge.port)
    try:
        writer.write(b"GET /c10 HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
        hit = await read_response(reader)
        writer.write(b"GET /c10 HTTP/1.0\r\nHost: x\r\n\r\n")
        second = await read_response(reader)
        eof = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    assert hit.x_cache == "Hit from cloudfront" and hit.h("connection") == "keep-alive"
    assert hit.h("content-length") == str(len(BODY)) and hit.body == BODY
    assert second.body == BODY and eof == b""


async def test_http10_viewer_post_with_chunked_answer(origin: TestOrigin, make_edge) -> None:
    origin.set("/p", lambda s: Reply(201, [], b"made:" + s.body, chunked=True))
    edge = await make_edge(origin.port)
    data = await raw(edge.port, b"POST /p HTTP/1.0\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
    head, body = _split_head(data)
    assert head.startswith(b"HTTP/1.1 201")
    assert "transfer-encoding" not in _header_lines(head) and body == b"made:hi"


async def test_origin_down_for_post_is_502_without_failover_retry(make_edge) -> None:
    edge = await make_edge(_closed_port())
    r = await request(edge.port, "POST", "/x", body=b"abc")
    assert r.status == 502 and r.x_cache == "Error from cloudfront"


# -- more HEAD, Date and invalidation corners --------------------------------------------------


async def test_collapsed_heads_of_uncached_object_keep_content_length(
    origin: TestOrigin, make_edge
) -> None:
    # Not shareable (no max-age, DefaultTTL 0): the first HEAD gets the fetched GET's head, the
    # second asks the origin with HEAD itself. Both must report the GET's Content-Length.
    origin.set("/un", Reply(200, [("Content-Type", "text/plain")], BODY))
    origin.gate = asyncio.Event()
    edge = await make_edge(origin.port)
    pending = [asyncio.ensure_future(request(edge.port, "HEAD", "/un")) for _ in range(2)]
    await origin.wait_until(lambda: origin.count("/un") >= 1)
    await eventually(lambda: sum(f.waiters for f in edge.env.edge.fetcher.inflight.values()) == 2)
    origin.gate.set()
    results = await asyncio.gather(*pending)
    assert [r.status for r in results] == [200, 200]
    assert [r.h("content-length") for r in results] == [str(len(BODY))] * 2


async def test_head_with_range_is_not_a_range_request(origin: TestOrigin, make_edge) -> None:
    # RFC 9110 §14.2: GET is the only method with range handling; a server MUST ignore Range
    # on other methods, so HEAD gets the 200 head of the whole representation.
    origin.set("/hr", Reply(200, [CC], BODY))
    edge = await make_edge(origin.port)
    await request(edge.port, path="/hr")
    r = await request(edge.port, "HEAD", "/hr", headers={"Range": "bytes=0-9"})
    assert r.status == 200 and r.h("content-range") is None
    assert r.h("content-length") == str(len(BODY))


async def test_pass_through_adds_date_when_origin_sends_none(origin: TestOrigin, make_edge) -> None:
    # RFC 9110 §6.6.1: a recipient with a clock that forwards a response without Date MUST add
    # one. Stored responses get it already; passed-through ones must too.
    origin.set("/nodate", Reply(201, [], b"made"))
    origin.set("/nodate-get", Reply(200, [], b"x"))  # not stored: DefaultTTL 0
    edge = await make_edge(origin.port)
    post = await request(edge.port, "POST", "/nodate", body=b"a")
    get = await request(edge.port, path="/nodate-get")
    assert post.status == 201 and post.h("date") is not None
    assert get.status == 200 and get.h("date") is not None


async def test_must_revalidate_beats_stale_if_error_when_origin_down(make_edge) -> None:
    # RFC 9111 §5.2.2.2: must-revalidate forbids serving it stale, stale-if-error or not.
    o = await TestOrigin().start()
    cc = ("Cache-Control", "max-age=60, must-revalidate, stale-if-error=600")
    o.set("/mr", Reply(200, [cc, ("Age", "61")], b"v"))
    edge = await make_edge(o.port)
    await request(edge.port, path="/mr")
    await o.close()
    r = await request(edge.port, path="/mr")
    assert r.status == 502 and r.x_cache == "Error from cloudfront"


async def test_unsafe_method_invalidates_every_variant(origin: TestOrigin, make_edge) -> None:
    # RFC 9111 §4.4. The second variant ("pt") is the one that goes wrong: it was stored while
    # the primary key already held the Vary marker.
    n = iter(range(100))
    origin.set(
        "/doc",
        lambda s: Reply(
            200,
            [CC, ("Vary", "X-Lang")],
            f"{s.headers.get('x-lang')}-{next(n)}".encode() if s.method == "GET" else b"ok",
        ),
    )
    edge = await make_edge(dist=_forwarding(origin.port, "X-Lang"))
    for lang in ("ko", "pt"):
        await request(edge.port, path="/doc", headers={"X-Lang": lang})
        hit = await request(edge.port, path="/doc", headers={"X-Lang": lang})
        assert hit.x_cache == "Hit from cloudfront"
    put = await request(edge.port, "PUT", "/doc", body=b"new")
    assert put.status == 200
    for lang in ("ko", "pt"):
        r = await request(edge.port, path="/doc", headers={"X-Lang": lang})
        assert r.x_cache == "Miss from cloudfront", lang


async def test_no_cache_object_kept_by_min_ttl_served_when_origin_down(make_edge) -> None:
    # Guide §1.2 (Expiration.md warning): with no-cache/no-store/private and MinTTL > 0, when
    # the origin is unreachable CloudFront serves the old copy (stale-if-error=0 disables it).
    o = await TestOrigin().start()
    o.set("/nc", Reply(200, [("Cache-Control", "no-cache"), ("Age", "61")], b"old copy"))
    dist = dist_config(o.port)
    dist["DefaultCacheBehavior"]["CachePolicyConfig"].update(MinTTL=5, DefaultTTL=5)
    edge = await make_edge(dist=dist)
    await request(edge.port, path="/nc")
    await eventually(lambda: _idle(edge))
    assert len(edge.env.memory) == 1  # stored, for MinTTL, and already stale (Age 61)
    await o.close()
    r = await request(edge.port, path="/nc")
    assert (r.status, r.body) == (200, b"old copy")


async def test_refresh_hit_from_the_disk_tier(origin: TestOrigin, make_edge, tmp_path) -> None:
    def handler(s: Seen) -> Reply:
        if s.headers.get("if-none-match") == '"d1"':
            return Reply(304, [("ETag", '"d1"'), ("Cache-Control", "max-age=600"), ("X-V", "2")])
        cc = ("Cache-Control", "max-age=60")
        return Reply(200, [("ETag", '"d1"'), cc, ("Age", "100"), ("X-V", "1")], BODY * 4)

    origin.set("/disk", handler)
    # Objects over 1 KiB skip the memory tier: the refresh works on the disk copy.
    edge = await make_edge(
        origin.port,
        cache={"disk_path": str(tmp_path / "c"), "memory_max_object_bytes": 1024},
    )
    await request(edge.port, path="/disk")
    await eventually(lambda: _idle(edge))
    refreshed = await request(edge.port, path="/disk")
    hit = await request(edge.port, path="/disk")
    assert (refreshed.x_cache, refreshed.body, refreshed.h("x-v")) == (
        "RefreshHit from cloudfront",
        BODY * 4,
        "2",
    )
    assert refreshed.h("content-length") == str(4 * len(BODY))
    assert (hit.x_cache, hit.body, hit.h("x-v")) == ("Hit from cloudfront", BODY * 4, "2")
    assert int(hit.h("age") or -1) < 100 and origin.count("/disk") == 2
