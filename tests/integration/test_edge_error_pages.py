"""Custom error responses and ErrorCachingMinTTL on a running edge (guide §1.9)."""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from tests.support.client import raw, request
from tests.support.edge import config, dist_config, eventually, origin_entry
from tests.support.origin import Reply, Seen, TestOrigin

CC = ("Cache-Control", "max-age=600")
HTML = ("Content-Type", "text/html")
NOT_FOUND_PAGE = b"<h1>not here</h1>"
DOWN_PAGE = b"<h1>back soon</h1>"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "edge.md"


@pytest.fixture
async def pages() -> AsyncIterator[TestOrigin]:
    """A second origin holding the error pages."""
    o = await TestOrigin().start()
    o.set("/errors/404.html", Reply(200, [CC, HTML], NOT_FOUND_PAGE))
    o.set("/errors/5xx.html", Reply(200, [CC, HTML], DOWN_PAGE))
    yield o
    await o.close()


def _dist(site_port: int, pages_port: int, *responses: dict[str, Any], **over: Any) -> Any:
    dist = dist_config(site_port, **over)
    dist["Origins"].append(origin_entry("pages", pages_port))
    errors = copy.deepcopy(dist["DefaultCacheBehavior"])
    errors.update(PathPattern="/errors/*", TargetOriginId="pages")
    dist["CacheBehaviors"] = [errors]
    dist["CustomErrorResponses"] = list(responses)
    return dist


def _page(code: int, path: str, response: int | None = None, ttl: int | None = None) -> Any:
    r: dict[str, Any] = {"ErrorCode": code, "ResponsePagePath": path}
    r["ResponseCode"] = str(response if response is not None else code)
    if ttl is not None:
        r["ErrorCachingMinTTL"] = ttl
    return r


def _is_cloudfront_error(r: Any) -> bool:
    via = r.h("via") or ""
    return bool(
        r.x_cache == "Error from cloudfront"
        and via.endswith("(CloudFront)")
        and len(r.h("x-amz-cf-id") or "") == 56
        and r.h("x-amz-cf-pop")
    )


async def test_origin_404_gets_the_page_from_another_origin_and_both_are_cached(
    origin: TestOrigin, pages: TestOrigin, make_edge
) -> None:
    edge = await make_edge(dist=_dist(origin.port, pages.port, _page(404, "/errors/404.html", 200)))
    first = await request(edge.port, path="/missing")
    assert (first.status, first.body) == (200, NOT_FOUND_PAGE)
    assert _is_cloudfront_error(first) and first.h("content-type") == "text/html"
    again = await request(edge.port, path="/missing")
    other = await request(edge.port, path="/gone")
    assert again.status == other.status == 200 and again.body == other.body == NOT_FOUND_PAGE
    assert again.h("age") is not None
    # The 404 is kept for ErrorCachingMinTTL (10 s); the page was fetched once, then cached.
    assert origin.count("/missing") == 1 and origin.count("/gone") == 1
    assert pages.count("/errors/404.html") == 1
    assert origin.count("/errors/404.html") == 0


async def test_error_caching_min_ttl_zero_asks_the_origin_again(
    origin: TestOrigin, pages: TestOrigin, make_edge
) -> None:
    # A response without a page only sets the TTL.
    edge = await make_edge(
        dist=_dist(origin.port, pages.port, {"ErrorCode": 404, "ErrorCachingMinTTL": 0})
    )
    for _ in range(2):
        r = await request(edge.port, path="/nope")
        assert (r.status, r.body, r.x_cache) == (404, b"nope", "Error from cloudfront")
    assert origin.count("/nope") == 2


@pytest.mark.parametrize(("code", "sent"), [(500, 503), (503, 503)])
async def test_origin_5xx_fresh_and_cached(
    origin: TestOrigin, pages: TestOrigin, make_edge, code: int, sent: int
) -> None:
    origin.set("/api", Reply(code, [("Content-Type", "text/plain")], b"boom"))
    edge = await make_edge(
        dist=_dist(origin.port, pages.port, _page(code, "/errors/5xx.html", sent))
    )
    for _ in range(2):
        r = await request(edge.port, path="/api")
        assert (r.status, r.body) == (sent, DOWN_PAGE) and _is_cloudfront_error(r)
    assert origin.count("/api") == 1 and pages.count("/errors/5xx.html") == 1


async def test_unshareable_error_still_gets_the_page(
    origin: TestOrigin, pages: TestOrigin, make_edge
) -> None:
    # A 403 without max-age is never cached (guide §1.9); its page is, under its own key.
    origin.set("/private", Reply(403, [], b"denied"))
    edge = await make_edge(dist=_dist(origin.port, pages.port, _page(403, "/errors/404.html", 200)))
    for _ in range(2):
        r = await request(edge.port, path="/private")
        assert (r.status, r.body) == (200, NOT_FOUND_PAGE)
    assert origin.count("/private") == 2 and pages.count("/errors/404.html") == 1


async def test_origin_unreachable_502_gets_the_page(pages: TestOrigin, make_edge) -> None:
    down = await TestOrigin().start()
    port = down.port
    await down.close()
    edge = await make_edge(dist=_dist(port, pages.port, _page(502, "/errors/5xx.html", 503)))
    r = await request(edge.port, path="/x")
    assert (r.status, r.body) == (503, DOWN_PAGE) and _is_cloudfront_error(r)


async def test_origin_timeout_504_gets_the_page_keeping_its_status(
    origin: TestOrigin, pages: TestOrigin, make_edge
) -> None:
    hang = asyncio.Event()

    async def slow(_s: Seen) -> Reply:
        await hang.wait()
        return Reply(200, [CC], b"late")

    origin.set("/slow", slow)
    dist = _dist(origin.port, pages.port, _page(504, "/errors/5xx.html"))
    dist["Origins"][0] = origin_entry("o1", origin.port, read_timeout=1)
    edge = await make_edge(dist=dist)
    try:
        r = await request(edge.port, path="/slow")
    finally:
        hang.set()
    assert (r.status, r.body) == (504, DOWN_PAGE) and _is_cloudfront_error(r)


async def test_missing_page_gives_the_status_of_the_pages_origin(
    origin: TestOrigin, pages: TestOrigin, make_edge
) -> None:
    origin.set("/api", Reply(500, [], b"boom"))
    edge = await make_edge(
        dist=_dist(origin.port, pages.port, _page(500, "/errors/deleted.html", 200))
    )
    r = await request(edge.port, path="/api")
    # The page's origin said 404: the viewer gets that, not the 500 nor a 200.
    assert (r.status, r.body, r.x_cache) == (404, b"nope", "Error from cloudfront")


async def test_page_origin_down_gives_502_without_a_second_page(
    origin: TestOrigin, make_edge
) -> None:
    down = await TestOrigin().start()
    port = down.port
    await down.close()
    origin.set("/api", Reply(503, [], b"boom"))
    dist = _dist(
        origin.port, port, _page(503, "/errors/5xx.html", 200), _page(502, "/errors/5xx.html", 200)
    )
    edge = await make_edge(dist=dist)
    r = await request(edge.port, path="/api")
    assert (r.status, r.x_cache) == (502, "Error from cloudfront")
    assert b"The request could not be satisfied" in r.body


async def test_page_path_that_errors_does_not_loop(origin: TestOrigin, make_edge) -> None:
    # The 404 page is on the same origin and is itself missing; viewers ask for it directly too.
    edge = await make_edge(
        dist=dist_config(origin.port, CustomErrorResponses=[_page(404, "/404.html", 200)])
    )
    for path in ("/404.html", "/missing", "/404.html"):
        r = await request(edge.port, path=path)
        assert (r.status, r.body, r.x_cache) == (404, b"nope", "Error from cloudfront"), path
    assert origin.count("/404.html") == 1 and origin.count("/missing") == 1


async def test_head_gets_the_pages_head_without_body(
    origin: TestOrigin, pages: TestOrigin, make_edge
) -> None:
    edge = await make_edge(dist=_dist(origin.port, pages.port, _page(404, "/errors/404.html", 200)))
    for _ in range(2):  # the miss, then both from the cache
        r = await request(edge.port, "HEAD", "/missing")
        assert (r.status, r.body) == (200, b"") and _is_cloudfront_error(r)
        assert r.h("content-length") == str(len(NOT_FOUND_PAGE))
    get = await request(edge.port, path="/missing")
    assert get.body == NOT_FOUND_PAGE and pages.count("/errors/404.html") == 1


async def test_range_and_validators_get_the_whole_page(
    origin: TestOrigin, pages: TestOrigin, make_edge
) -> None:
    pages.set("/errors/404.html", Reply(200, [CC, HTML, ("ETag", '"p1"')], NOT_FOUND_PAGE))
    edge = await make_edge(dist=_dist(origin.port, pages.port, _page(404, "/errors/404.html", 200)))
    # Asked directly, the page honours them ...
    direct = await request(edge.port, path="/errors/404.html", headers={"Range": "bytes=0-3"})
    assert (direct.status, direct.body) == (206, NOT_FOUND_PAGE[:4])
    # ... but as an error page it goes out whole: they were about the object asked for.
    for headers in ({"Range": "bytes=0-3"}, {"If-None-Match": '"p1"'}):
        r = await request(edge.port, path="/missing", headers=headers)
        assert (r.status, r.body) == (200, NOT_FOUND_PAGE) and r.h("content-range") is None


async def test_uncacheable_page_is_fetched_for_each_error(
    origin: TestOrigin, pages: TestOrigin, make_edge
) -> None:
    pages.set("/errors/live.html", Reply(200, [("Cache-Control", "no-store"), HTML], b"live"))
    edge = await make_edge(
        dist=_dist(origin.port, pages.port, _page(404, "/errors/live.html", 400))
    )
    for method, body in (("GET", b"live"), ("HEAD", b""), ("GET", b"live")):
        r = await request(edge.port, method, "/missing")
        assert (r.status, r.body) == (400, body) and _is_cloudfront_error(r)
    assert pages.count("/errors/live.html") == 3 and origin.count("/missing") == 1


async def test_geo_blocked_403_gets_the_page(
    origin: TestOrigin, pages: TestOrigin, make_edge
) -> None:
    restrictions = {"GeoRestriction": {"RestrictionType": "blacklist", "Items": ["US"]}}
    dist = _dist(
        origin.port, pages.port, _page(403, "/errors/404.html", 403), Restrictions=restrictions
    )
    edge = await make_edge(cfg=config(dist, viewer={"trusted_proxies": ["127.0.0.0/8"]}))
    for method in ("GET", "HEAD"):
        r = await request(edge.port, method, "/g", headers={"X-Forwarded-For": "8.8.8.8"})
        assert r.status == 403 and _is_cloudfront_error(r)
        assert r.body == (NOT_FOUND_PAGE if method == "GET" else b"")
    assert origin.count("/g") == 0 and pages.count("/errors/404.html") == 1


async def test_method_not_allowed_403_gets_the_page(
    origin: TestOrigin, pages: TestOrigin, make_edge
) -> None:
    dist = _dist(origin.port, pages.port, _page(403, "/errors/404.html", 403))
    dist["DefaultCacheBehavior"]["AllowedMethods"] = {"Items": ["GET", "HEAD"]}
    edge = await make_edge(dist=dist)
    r = await request(edge.port, "POST", "/form", body=b"a=1")
    assert (r.status, r.body) == (403, NOT_FOUND_PAGE) and _is_cloudfront_error(r)
    assert origin.count("/form") == 0


async def test_refused_signature_403_gets_the_page(
    origin: TestOrigin, pages: TestOrigin, make_edge
) -> None:
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    dist = _dist(origin.port, pages.port, _page(403, "/errors/404.html", 200))
    private = copy.deepcopy(dist["DefaultCacheBehavior"])
    private.update(PathPattern="/private/*", TrustedKeyGroups={"Enabled": True, "Items": ["kg"]})
    dist["CacheBehaviors"].append(private)
    top = {
        "PublicKeys": [{"Id": "K1", "PublicKeyConfig": {"Name": "k", "EncodedKey": pem}}],
        "KeyGroups": [{"Id": "kg", "KeyGroupConfig": {"Name": "g", "Items": ["K1"]}}],
    }
    edge = await make_edge(cfg=config(dist, top=top))
    r = await request(edge.port, path="/private/a.txt")
    assert (r.status, r.body) == (200, NOT_FOUND_PAGE) and _is_cloudfront_error(r)
    assert origin.count("/private/a.txt") == 0


async def test_stale_served_for_error_caching_min_ttl_on_5xx(
    origin: TestOrigin, pages: TestOrigin, make_edge
) -> None:
    calls = iter(range(100))

    def flaky(_s: Seen) -> Reply:
        if next(calls) == 0:
            return Reply(200, [("Cache-Control", "max-age=60"), ("Age", "61")], b"good")
        return Reply(503, [], b"down")

    origin.set("/s", flaky)
    origin.set("/t", flaky)
    # 503 keeps the default 10 s; 500 has ErrorCachingMinTTL 0: ask every time.
    dist = _dist(origin.port, pages.port, {"ErrorCode": 500, "ErrorCachingMinTTL": 0})
    edge = await make_edge(dist=dist)
    await request(edge.port, path="/s")  # stored, already stale (Age 61 > max-age 60)
    for _ in range(3):
        r = await request(edge.port, path="/s")
        assert (r.status, r.body, r.x_cache) == (200, b"good", "Hit from cloudfront")
    # One 503, then the stale copy without asking again.
    assert origin.count("/s") == 2

    calls = iter(range(100))

    def flaky500(_s: Seen) -> Reply:
        if next(calls) == 0:
            return Reply(200, [("Cache-Control", "max-age=60"), ("Age", "61")], b"good")
        return Reply(500, [], b"down")

    origin.set("/t", flaky500)
    await request(edge.port, path="/t")
    for _ in range(2):
        r = await request(edge.port, path="/t")
        assert (r.status, r.body) == (200, b"good")
    assert origin.count("/t") == 3


async def test_the_docs_example(origin: TestOrigin, pages: TestOrigin, make_edge) -> None:
    text = DOCS.read_text(encoding="utf-8").split("## Custom error responses", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert block is not None
    doc = yaml.safe_load(block.group(1))
    dist = doc["distributions"][0]["DistributionConfig"]
    for o, port in zip(dist["Origins"], (origin.port, pages.port), strict=True):
        o.update(DomainName="127.0.0.1", CustomOriginConfig={"HTTPPort": port})
    pages.set("/errors/not-found.html", Reply(200, [HTML], NOT_FOUND_PAGE))
    origin.set("/boom", Reply(500, [], b"boom"))
    edge = await make_edge(dist=dist)
    r = await request(edge.port, path="/missing")
    assert (r.status, r.body) == (404, NOT_FOUND_PAGE) and _is_cloudfront_error(r)
    await request(edge.port, path="/missing")
    assert origin.count("/missing") == 1  # ErrorCachingMinTTL 60
    for _ in range(2):
        assert (await request(edge.port, path="/boom")).body == b"boom"
    assert origin.count("/boom") == 2  # ErrorCachingMinTTL 0, no page
    await origin.close()  # app down: 502 becomes the maintenance page, 503
    pages.set("/errors/maintenance.html", Reply(200, [HTML], DOWN_PAGE))
    r = await request(edge.port, path="/other")
    assert (r.status, r.body) == (503, DOWN_PAGE)


async def test_collapsed_errors_make_one_origin_and_one_page_request(
    origin: TestOrigin, pages: TestOrigin, make_edge
) -> None:
    edge = await make_edge(dist=_dist(origin.port, pages.port, _page(404, "/errors/404.html", 200)))
    origin.gate = asyncio.Event()
    burst = [asyncio.ensure_future(request(edge.port, path="/missing")) for _ in range(5)]
    await origin.wait_until(lambda: origin.count("/missing") == 1)
    origin.gate.set()
    for r in await asyncio.gather(*burst):
        assert (r.status, r.body) == (200, NOT_FOUND_PAGE)
    assert origin.count("/missing") == 1 and pages.count("/errors/404.html") == 1


async def test_pipelined_requests_after_a_geo_page_stay_in_order(
    origin: TestOrigin, pages: TestOrigin, make_edge
) -> None:
    restrictions = {"GeoRestriction": {"RestrictionType": "blacklist", "Items": ["US"]}}
    dist = _dist(
        origin.port, pages.port, _page(403, "/errors/404.html", 403), Restrictions=restrictions
    )
    edge = await make_edge(cfg=config(dist, viewer={"trusted_proxies": ["127.0.0.0/8"]}))
    head = "Host: t\r\nX-Forwarded-For: 8.8.8.8\r\n"
    data = (
        f"HEAD /a HTTP/1.1\r\n{head}\r\n"
        f"GET /b HTTP/1.1\r\n{head}\r\n"
        f"GET /c HTTP/1.1\r\n{head}Connection: close\r\n\r\n"
    ).encode()
    out = await raw(edge.port, data)
    assert out.count(b"HTTP/1.1 403 ") == 3
    first, second, third = out.split(b"HTTP/1.1 403 ")[1:]
    assert not first.endswith(NOT_FOUND_PAGE)
    assert second.endswith(NOT_FOUND_PAGE) and third.endswith(NOT_FOUND_PAGE)


async def test_page_served_from_the_disk_tier(
    origin: TestOrigin, pages: TestOrigin, make_edge, tmp_path: Path
) -> None:
    big = b"<p>" + b"x" * 4000 + b"</p>"
    pages.set("/errors/big.html", Reply(200, [CC, HTML], big))
    edge = await make_edge(
        dist=_dist(origin.port, pages.port, _page(404, "/errors/big.html", 200)),
        cache={"disk_path": str(tmp_path / "c"), "memory_max_object_bytes": 1024},
    )
    first = await request(edge.port, path="/missing")
    await eventually(lambda: len(list((tmp_path / "c").rglob("*.meta"))) >= 2)  # 404 and page
    second = await request(edge.port, path="/missing")
    assert first.body == second.body == big and second.status == 200
    assert pages.count("/errors/big.html") == 1
