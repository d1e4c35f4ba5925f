"""The caching edge over real sockets: hits, misses, freshness, revalidation."""

from __future__ import annotations

import asyncio
import re

from tests.support.client import request
from tests.support.origin import Reply, TestOrigin

CC = ("Cache-Control", "max-age=60")


async def test_miss_then_hit_with_cloudfront_headers(origin: TestOrigin, make_edge) -> None:
    origin.set(
        "/a.txt", Reply(200, [CC, ("Content-Type", "text/plain"), ("ETag", '"v1"')], b"hello")
    )
    edge = await make_edge(origin.port)
    r1 = await request(edge.port, path="/a.txt")
    r2 = await request(edge.port, path="/a.txt")
    assert (r1.status, r1.body, r1.x_cache) == (200, b"hello", "Miss from cloudfront")
    assert (r2.status, r2.body, r2.x_cache) == (200, b"hello", "Hit from cloudfront")
    assert origin.count("/a.txt") == 1
    assert r2.h("age") is not None and int(r2.h("age") or -1) >= 0
    assert r2.h("content-type") == "text/plain" and r2.h("etag") == '"v1"'
    assert re.fullmatch(r"1\.1 [0-9a-f]{32}\.cloudfront\.net \(CloudFront\)", r2.h("via") or "")
    assert r2.h("x-amz-cf-pop")
    ids = {r1.h("x-amz-cf-id"), r2.h("x-amz-cf-id")}
    assert len(ids) == 2 and all(i and len(i) == 56 for i in ids)


async def test_query_string_is_part_of_the_key(origin: TestOrigin, make_edge) -> None:
    origin.set("/q", lambda s: Reply(200, [CC], s.target.encode()))
    edge = await make_edge(origin.port)
    a = await request(edge.port, path="/q?a=1&b=2")
    b = await request(edge.port, path="/q?b=2&a=1")
    c = await request(edge.port, path="/q?a=1&b=2")
    assert (a.body, b.body) == (b"/q?a=1&b=2", b"/q?b=2&a=1")
    assert c.x_cache == "Hit from cloudfront" and origin.count("/q") == 2


async def test_not_stored_without_freshness_or_with_no_store(origin: TestOrigin, make_edge) -> None:
    origin.set("/plain", Reply(200, [], b"x"))  # DefaultTTL 0: not cached
    origin.set("/nostore", Reply(200, [("Cache-Control", "no-store, max-age=60")], b"x"))
    origin.set("/private", Reply(200, [("Cache-Control", "private, max-age=60")], b"x"))
    edge = await make_edge(origin.port)
    for path in ("/plain", "/nostore", "/private"):
        for _ in range(2):
            r = await request(edge.port, path=path)
            assert r.status == 200 and r.x_cache == "Miss from cloudfront"
        assert origin.count(path) == 2


async def test_min_ttl_clamps_up(origin: TestOrigin, make_edge) -> None:
    from tests.support.edge import dist_config

    dist = dist_config(origin.port)
    dist["DefaultCacheBehavior"]["CachePolicyConfig"].update(MinTTL=100, DefaultTTL=100)
    origin.set("/short", Reply(200, [("Cache-Control", "max-age=0")], b"x"))
    edge = await make_edge(dist=dist)
    await request(edge.port, path="/short")
    r = await request(edge.port, path="/short")
    assert r.x_cache == "Hit from cloudfront" and origin.count("/short") == 1


async def test_revalidation_304_is_a_refresh_hit(origin: TestOrigin, make_edge) -> None:
    # Age above max-age: stored, but stale at once, so the next request revalidates.
    def handler(s):
        if s.headers.get("if-none-match") == '"v1"':
            return Reply(304, [("ETag", '"v1"'), ("Cache-Control", "max-age=60")])
        return Reply(
            200,
            [("ETag", '"v1"'), ("Cache-Control", "max-age=60"), ("Age", "100"), ("X-Version", "1")],
            b"body-v1",
        )

    origin.set("/r", handler)
    edge = await make_edge(origin.port)
    r1 = await request(edge.port, path="/r")
    r2 = await request(edge.port, path="/r")
    r3 = await request(edge.port, path="/r")
    assert r1.x_cache == "Miss from cloudfront"
    assert (r2.status, r2.body, r2.x_cache) == (200, b"body-v1", "RefreshHit from cloudfront")
    assert r2.h("x-version") == "1"
    assert origin.requests[1].headers.get("if-none-match") == '"v1"'
    assert r3.x_cache == "Hit from cloudfront" and origin.count("/r") == 2


async def test_revalidation_200_replaces_object(origin: TestOrigin, make_edge) -> None:
    versions = iter([b"old", b"new"])
    origin.set(
        "/v", lambda s: Reply(200, [("Cache-Control", "max-age=60"), ("Age", "61")], next(versions))
    )
    edge = await make_edge(origin.port)
    assert (await request(edge.port, path="/v")).body == b"old"
    r = await request(edge.port, path="/v")
    assert r.body == b"new" and r.x_cache == "Miss from cloudfront"


async def test_stale_while_revalidate_serves_stale_and_refreshes(
    origin: TestOrigin, make_edge
) -> None:
    n = iter(range(1, 10))
    origin.set(
        "/swr",
        lambda s: Reply(
            200,
            [("Cache-Control", "max-age=60, stale-while-revalidate=600"), ("Age", "61")],
            b"v%d" % next(n),
        ),
    )
    edge = await make_edge(origin.port)
    await request(edge.port, path="/swr")
    r = await request(edge.port, path="/swr")
    assert (r.body, r.x_cache) == (b"v1", "Hit from cloudfront")
    await origin.wait_until(lambda: origin.count("/swr") == 2)


async def test_stale_if_error_serves_stale_on_5xx(origin: TestOrigin, make_edge) -> None:
    calls = iter(range(10))

    def handler(s):
        if next(calls) == 0:
            return Reply(
                200, [("Cache-Control", "max-age=60, stale-if-error=600"), ("Age", "61")], b"good"
            )
        return Reply(503, [], b"down")

    origin.set("/sie", handler)
    edge = await make_edge(origin.port)
    await request(edge.port, path="/sie")
    r = await request(edge.port, path="/sie")
    assert (r.status, r.body) == (200, b"good")


async def test_cdn_cache_control_wins(origin: TestOrigin, make_edge) -> None:
    origin.set(
        "/cdn",
        Reply(200, [("Cache-Control", "no-store"), ("CDN-Cache-Control", "max-age=60")], b"x"),
    )
    edge = await make_edge(origin.port)
    await request(edge.port, path="/cdn")
    r = await request(edge.port, path="/cdn")
    assert r.x_cache == "Hit from cloudfront"
    assert r.h("cache-control") == "no-store"  # viewers still see the origin's Cache-Control


async def test_error_404_is_cached_for_error_caching_min_ttl(origin: TestOrigin, make_edge) -> None:
    edge = await make_edge(origin.port)
    r1 = await request(edge.port, path="/missing")
    r2 = await request(edge.port, path="/missing")
    assert (r1.status, r2.status) == (404, 404)
    # CloudFront marks error answers "Error", whether they came from the origin or the cache.
    assert r1.x_cache == r2.x_cache == "Error from cloudfront"
    assert origin.count("/missing") == 1 and r2.h("age") is not None


async def test_vary_keeps_variants_apart(origin: TestOrigin, make_edge) -> None:
    from tests.support.edge import dist_config

    origin.set(
        "/vary",
        lambda s: Reply(
            200, [CC, ("Vary", "X-Lang")], (s.headers.get("x-lang") or "none").encode()
        ),
    )
    dist = dist_config(origin.port)
    # Forwarded to the origin but not in the key: only the origin's Vary keeps variants apart.
    dist["DefaultCacheBehavior"]["OriginRequestPolicyConfig"] = {
        "Name": "lang",
        "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": ["X-Lang"]},
        "CookiesConfig": {"CookieBehavior": "none"},
        "QueryStringsConfig": {"QueryStringBehavior": "none"},
    }
    edge = await make_edge(dist=dist)
    a = await request(edge.port, path="/vary", headers={"X-Lang": "ko"})
    b = await request(edge.port, path="/vary", headers={"X-Lang": "pt"})
    a2 = await request(edge.port, path="/vary", headers={"X-Lang": "ko"})
    b2 = await request(edge.port, path="/vary", headers={"X-Lang": "pt"})
    assert (a.body, b.body, a2.body, b2.body) == (b"ko", b"pt", b"ko", b"pt")
    assert a2.x_cache == b2.x_cache == "Hit from cloudfront"
    assert origin.count("/vary") == 2


async def test_authorization_requests_are_not_shared(origin: TestOrigin, make_edge) -> None:
    origin.set("/auth", Reply(200, [CC], b"secret"))
    edge = await make_edge(origin.port)
    await request(edge.port, path="/auth", headers={"Authorization": "Bearer x"})
    r = await request(edge.port, path="/auth")
    assert r.x_cache == "Miss from cloudfront"


async def test_viewer_cache_control_cannot_force_refetch(origin: TestOrigin, make_edge) -> None:
    origin.set("/f", Reply(200, [CC], b"x"))
    edge = await make_edge(origin.port)
    await request(edge.port, path="/f")
    r = await request(
        edge.port, path="/f", headers={"Cache-Control": "no-cache", "Pragma": "no-cache"}
    )
    assert r.x_cache == "Hit from cloudfront" and origin.count("/f") == 1


async def test_truncated_origin_body_is_not_cached(origin: TestOrigin, make_edge) -> None:
    origin.set("/trunc", Reply(200, [CC, ("Content-Length", "10")], b"0123456789", truncate_to=4))
    edge = await make_edge(origin.port)
    try:
        r = await request(edge.port, path="/trunc")
        assert len(r.body) < 10
    except ConnectionError:
        pass
    origin.set("/trunc", Reply(200, [CC], b"0123456789"))
    r = await request(edge.port, path="/trunc")
    assert (r.body, r.x_cache) == (b"0123456789", "Miss from cloudfront")


async def test_keep_alive_serves_many_requests_on_one_connection(
    origin: TestOrigin, make_edge
) -> None:
    from tests.support.client import read_response

    origin.set("/k", Reply(200, [CC], b"k" * 100))
    edge = await make_edge(origin.port)
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
    try:
        for _ in range(3):
            writer.write(b"GET /k HTTP/1.1\r\nHost: x\r\n\r\n")
            r = await read_response(reader)
            assert r.status == 200 and r.body == b"k" * 100
        # pipelined: two requests in one write, answered in order
        writer.write(b"GET /k HTTP/1.1\r\nHost: x\r\n\r\nGET /missing HTTP/1.1\r\nHost: x\r\n\r\n")
        first = await read_response(reader)
        second = await read_response(reader)
        assert (first.status, second.status) == (200, 404)
    finally:
        writer.close()


async def test_default_root_object_only_for_the_root(origin: TestOrigin, make_edge) -> None:
    from tests.support.edge import dist_config

    origin.set("/index.html", Reply(200, [CC], b"home"))
    origin.set("/docs/", Reply(200, [CC], b"docs dir"))
    edge = await make_edge(dist=dist_config(origin.port, DefaultRootObject="index.html"))
    root = await request(edge.port, path="/?lang=ko")
    assert (root.status, root.body) == (200, b"home")
    assert origin.requests[0].target == "/index.html?lang=ko"
    sub = await request(edge.port, path="/docs/")
    assert sub.body == b"docs dir"  # CloudFront never applies it below the root


async def test_viewer_protocol_policy_on_plain_http(origin: TestOrigin, make_edge) -> None:
    from tests.support.edge import dist_config

    origin.set("/r", Reply(200, [CC], b"r"))
    dist = dist_config(origin.port)
    redirect = dict(dist["DefaultCacheBehavior"], PathPattern="/secure/*",
                    ViewerProtocolPolicy="https-only")  # fmt: skip
    dist["CacheBehaviors"] = [redirect]
    dist["DefaultCacheBehavior"]["ViewerProtocolPolicy"] = "redirect-to-https"
    edge = await make_edge(dist=dist)
    get = await request(edge.port, path="/r?x=1", host="cdn.example.com:8080")
    assert get.status == 301 and get.h("location") == "https://cdn.example.com/r?x=1"
    assert get.x_cache == "Redirect from cloudfront"
    post = await request(edge.port, "POST", "/r", body=b"x", host="cdn.example.com")
    assert post.status == 307 and post.h("location") == "https://cdn.example.com/r"
    only = await request(edge.port, path="/secure/a")
    assert only.status == 403
    assert origin.requests == []
