"""Ranges and conditional requests answered by the edge (RFC 9110 §13, §14; CloudFront §1.8)."""

from __future__ import annotations

from email.parser import BytesParser

from tests.support.client import request
from tests.support.origin import Reply, TestOrigin

BODY = bytes(range(256)) * 40  # 10,240 bytes
HEADERS = [
    ("Cache-Control", "max-age=60"),
    ("ETag", '"e1"'),
    ("Content-Type", "video/mp4"),
    ("Last-Modified", "Tue, 01 Jan 2030 00:00:00 GMT"),
]


async def _edge(origin: TestOrigin, make_edge, warm: bool = True):
    origin.set("/v.mp4", Reply(200, HEADERS, BODY))
    edge = await make_edge(origin.port)
    if warm:
        await request(edge.port, path="/v.mp4")
    return edge


async def test_single_range_from_cache(origin: TestOrigin, make_edge) -> None:
    edge = await _edge(origin, make_edge)
    r = await request(edge.port, path="/v.mp4", headers={"Range": "bytes=100-199"})
    assert r.status == 206 and r.body == BODY[100:200]
    assert r.h("content-range") == f"bytes 100-199/{len(BODY)}"
    assert r.h("content-length") == "100" and r.x_cache == "Hit from cloudfront"
    s = await request(edge.port, path="/v.mp4", headers={"Range": "bytes=-10"})
    assert s.body == BODY[-10:]
    assert origin.count("/v.mp4") == 1


async def test_multiple_ranges_multipart(origin: TestOrigin, make_edge) -> None:
    edge = await _edge(origin, make_edge)
    r = await request(edge.port, path="/v.mp4", headers={"Range": "bytes=0-9,100-109"})
    assert r.status == 206
    ctype = r.h("content-type") or ""
    assert ctype.startswith("multipart/byteranges; boundary=")
    assert int(r.h("content-length") or 0) == len(r.body)
    msg = BytesParser().parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + r.body)
    parts = msg.get_payload()
    assert [p.get_payload(decode=True) for p in parts] == [BODY[0:10], BODY[100:110]]
    assert parts[0]["Content-Range"] == f"bytes 0-9/{len(BODY)}"


async def test_odd_ranges_get_the_whole_object(origin: TestOrigin, make_edge) -> None:
    edge = await _edge(origin, make_edge)
    for rng in ("bytes=300-400,100-200", "bytes=100-200,150-250", "bytes=-5-3", "items=0-1"):
        r = await request(edge.port, path="/v.mp4", headers={"Range": rng})
        assert (r.status, r.body) == (200, BODY), rng


async def test_unsatisfiable_range_416(origin: TestOrigin, make_edge) -> None:
    edge = await _edge(origin, make_edge)
    r = await request(edge.port, path="/v.mp4", headers={"Range": "bytes=999999-"})
    assert r.status == 416 and r.h("content-range") == f"bytes */{len(BODY)}"


async def test_if_range(origin: TestOrigin, make_edge) -> None:
    edge = await _edge(origin, make_edge)
    ok = await request(edge.port, path="/v.mp4", headers={"Range": "bytes=0-0", "If-Range": '"e1"'})
    stale = await request(
        edge.port, path="/v.mp4", headers={"Range": "bytes=0-0", "If-Range": '"other"'}
    )
    assert (ok.status, ok.body) == (206, BODY[:1])
    assert (stale.status, stale.body) == (200, BODY)


async def test_range_miss_fetches_whole_object_once(origin: TestOrigin, make_edge) -> None:
    edge = await _edge(origin, make_edge, warm=False)
    r = await request(edge.port, path="/v.mp4", headers={"Range": "bytes=5000-5009"})
    assert (r.status, r.body) == (206, BODY[5000:5010])
    assert "range" not in origin.requests[0].headers
    again = await request(edge.port, path="/v.mp4")
    assert again.body == BODY and again.x_cache == "Hit from cloudfront"
    assert origin.count("/v.mp4") == 1


async def test_conditional_requests_answered_from_cache(origin: TestOrigin, make_edge) -> None:
    edge = await _edge(origin, make_edge)
    nm = await request(edge.port, path="/v.mp4", headers={"If-None-Match": '"e1"'})
    assert nm.status == 304 and nm.body == b"" and nm.h("etag") == '"e1"'
    ims = await request(
        edge.port, path="/v.mp4", headers={"If-Modified-Since": "Tue, 01 Jan 2030 00:00:00 GMT"}
    )
    assert ims.status == 304
    pf = await request(edge.port, path="/v.mp4", headers={"If-Match": '"nope"'})
    assert pf.status == 412
    assert origin.count("/v.mp4") == 1


async def test_head_from_stored_get_and_head_miss(origin: TestOrigin, make_edge) -> None:
    edge = await _edge(origin, make_edge, warm=False)
    h1 = await request(edge.port, "HEAD", "/v.mp4")
    assert h1.status == 200 and h1.body == b"" and h1.h("content-length") == str(len(BODY))
    assert origin.requests[0].method == "GET"  # a HEAD miss fetches (and stores) the GET
    g = await request(edge.port, path="/v.mp4")
    assert g.body == BODY
    h2 = await request(edge.port, "HEAD", "/v.mp4")
    assert h2.x_cache == "Hit from cloudfront" and h2.h("content-length") == str(len(BODY))
    assert origin.count("/v.mp4") == 1
