"""Response headers policies on a running edge: hits, misses, pass-through, preflights (§1.5)."""

from __future__ import annotations

import copy
import socket
import time
from typing import Any

from tests.support.client import Resp, request
from tests.support.edge import ALL_METHODS, config, dist_config
from tests.support.origin import Reply, TestOrigin

from openfront.http.dates import format_http_date, parse_http_date

CC = ("Cache-Control", "max-age=600")
ACAO = "Access-Control-Allow-Origin"
APP = "https://app.example"
CORS: dict[str, Any] = {
    "AccessControlAllowOrigins": [APP, "https://*.example.org"],
    "AccessControlAllowHeaders": ["X-Token"],
    "AccessControlAllowMethods": ["GET", "POST", "OPTIONS"],
    "AccessControlAllowCredentials": True,
    "AccessControlExposeHeaders": ["ETag"],
    "AccessControlMaxAgeSec": 600,
    "OriginOverride": False,
}


def _cfg(port: int, policies: dict[str, dict[str, Any]], **behaviors: str) -> Any:
    """Default behavior uses policy "default"; each keyword is PathPattern=policy id."""
    dist = dist_config(port)
    dist["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] = "default"
    base = dist["DefaultCacheBehavior"]
    dist["CacheBehaviors"] = [
        {
            **copy.deepcopy({k: v for k, v in base.items() if k != "ResponseHeadersPolicyId"}),
            "PathPattern": f"/{pattern}/*",
            "ResponseHeadersPolicyId": pid,
        }
        for pattern, pid in behaviors.items()
    ]
    top = {
        "ResponseHeadersPolicies": [
            {"Id": pid, "ResponseHeadersPolicyConfig": {"Name": f"{pid}-policy", **cfg}}
            for pid, cfg in policies.items()
        ]
    }
    return config(dist, top=top)


def _all(r: Resp, name: str) -> list[str]:
    return [v for n, v in r.headers if n.lower() == name.lower()]


def _vary(r: Resp) -> list[str]:
    return [t.strip().lower() for v in _all(r, "vary") for t in v.split(",")]


async def test_cors_on_misses_hits_and_pass_through(origin: TestOrigin, make_edge: Any) -> None:
    origin.set("/a", Reply(200, [CC, ("ETag", '"1"')], b"hello"))
    edge = await make_edge(cfg=_cfg(origin.port, {"default": {"CorsConfig": CORS}}))
    miss = await request(edge.port, path="/a", headers={"Origin": APP})
    hit = await request(edge.port, path="/a", headers={"Origin": APP})
    assert miss.x_cache == "Miss from cloudfront" and hit.x_cache == "Hit from cloudfront"
    for r in (miss, hit):
        assert _all(r, ACAO) == [APP]
        assert r.h("access-control-allow-credentials") == "true"
        assert r.h("access-control-expose-headers") == "ETag"
        assert r.h("access-control-allow-methods") is None  # preflight only
        assert _vary(r) == ["origin"] and r.body == b"hello"
    sub = await request(edge.port, path="/a", headers={"Origin": "https://a.b.example.org"})
    assert sub.h(ACAO) == "https://a.b.example.org"
    evil = await request(edge.port, path="/a", headers={"Origin": "https://evil.example"})
    plain = await request(edge.port, path="/a")
    for r in (evil, plain):
        assert r.x_cache == "Hit from cloudfront" and r.body == b"hello"
        assert r.h(ACAO) is None and r.h("access-control-allow-credentials") is None
        assert _vary(r) == ["origin"]  # the answer depends on Origin either way
    ranged = await request(edge.port, path="/a", headers={"Origin": APP, "Range": "bytes=0-1"})
    assert ranged.status == 206 and ranged.body == b"he" and _all(ranged, ACAO) == [APP]
    posted = await request(edge.port, "POST", "/a", headers={"Origin": APP}, body=b"x")
    assert posted.status == 200 and _all(posted, ACAO) == [APP]
    assert origin.count("/a") == 2  # one fill, one POST


async def test_origin_override_for_cors(origin: TestOrigin, make_edge: Any) -> None:
    own = [CC, (ACAO, "https://chosen.example"), ("Vary", "Accept-Encoding")]
    origin.set("/keep/a", Reply(200, own, b"k"))
    origin.set("/replace/a", Reply(200, own, b"r"))
    replace = {**CORS, "OriginOverride": True}
    cfg = _cfg(
        origin.port,
        {"default": {"CorsConfig": CORS}, "rep": {"CorsConfig": replace}},
        keep="default",
        replace="rep",
    )
    edge = await make_edge(cfg=cfg)
    for _ in range(2):  # miss, then hit
        keep = await request(edge.port, path="/keep/a", headers={"Origin": APP})
        assert _all(keep, ACAO) == ["https://chosen.example"]
        assert _all(keep, "vary") == ["Accept-Encoding, Origin"]
        rep = await request(edge.port, path="/replace/a", headers={"Origin": APP})
        assert _all(rep, ACAO) == [APP]
        # Not an allowed CORS request: the policy owns the field and sends none.
        other = await request(edge.port, path="/replace/a", headers={"Origin": "https://x.test"})
        assert other.h(ACAO) is None


async def test_preflights(origin: TestOrigin, make_edge: Any) -> None:
    origin.set("/api", Reply(204, [("X-From", "origin")], b""))
    origin.set("/m/api", Reply(204, [("X-From", "origin")], b""))
    origin.set("/simple/api", Reply(204, [("X-From", "origin")], b""))
    cfg = _cfg(
        origin.port,
        {"default": {"CorsConfig": CORS}},
        m="5cc3b908-e619-4b99-88e5-2cf7f45965bd",  # CORS-With-Preflight
        simple="SimpleCORS",
    )
    edge = await make_edge(cfg=cfg)
    ask = {"Origin": APP, "Access-Control-Request-Method": "PUT"}
    pre = await request(
        edge.port, "OPTIONS", "/api", headers={**ask, "Access-Control-Request-Headers": "x-token"}
    )
    assert pre.status == 200 and pre.body == b"" and pre.h("content-length") == "0"
    assert pre.x_cache == "Hit from cloudfront" and pre.h("x-from") is None
    assert _all(pre, ACAO) == [APP] and pre.h("access-control-allow-credentials") == "true"
    assert pre.h("access-control-allow-methods") == "GET, POST, OPTIONS"
    assert pre.h("access-control-allow-headers") == "X-Token"
    assert pre.h("access-control-max-age") == "600" and _vary(pre) == ["origin"]
    assert pre.h("server") == "CloudFront" and pre.h("date") is not None
    assert origin.count("/api") == 0  # answered at the edge
    # An Origin the policy does not allow, or an OPTIONS that is no preflight: the origin's.
    for headers in ({**ask, "Origin": "https://evil.example"}, {"Origin": APP}):
        fwd = await request(edge.port, "OPTIONS", "/api", headers=headers)
        assert fwd.status == 204 and fwd.h("x-from") == "origin"
        assert fwd.h("access-control-allow-methods") is None
    assert fwd.h(ACAO) == APP  # the second: a simple CORS request, answered by the origin
    assert origin.count("/api") == 2
    managed = await request(edge.port, "OPTIONS", "/m/api", headers=ask)
    assert managed.status == 200 and managed.h(ACAO) == "*"
    methods = managed.h("access-control-allow-methods") or ""
    assert set(methods.split(", ")) == set(ALL_METHODS)
    assert managed.h("access-control-expose-headers") == "*" and "origin" not in _vary(managed)
    # SimpleCORS names no methods: preflights stay the origin's, with the simple header.
    simple = await request(edge.port, "OPTIONS", "/simple/api", headers=ask)
    assert simple.h("x-from") == "origin" and simple.h(ACAO) == "*"
    assert origin.count("/m/api") == 0 and origin.count("/simple/api") == 1


async def test_preflight_needs_options_allowed(origin: TestOrigin, make_edge: Any) -> None:
    dist = dist_config(origin.port)
    beh = dist["DefaultCacheBehavior"]
    beh.update(AllowedMethods=["GET", "HEAD"], ResponseHeadersPolicyId="CORS-With-Preflight")
    edge = await make_edge(cfg=config(dist))
    ask = {"Origin": APP, "Access-Control-Request-Method": "GET"}
    r = await request(edge.port, "OPTIONS", "/x", headers=ask)
    assert r.status == 403 and r.x_cache == "Error from cloudfront"
    assert r.h("access-control-allow-methods") is None and not origin.requests


SECURITY: dict[str, Any] = {
    "FrameOptions": {"FrameOption": "SAMEORIGIN", "Override": False},
    "ReferrerPolicy": {"ReferrerPolicy": "same-origin", "Override": True},
    "StrictTransportSecurity": {"AccessControlMaxAgeSec": 600, "Override": False},
    "ContentTypeOptions": {"Override": True},
    "ContentSecurityPolicy": {"ContentSecurityPolicy": "default-src 'none'", "Override": False},
}


async def test_security_headers_against_an_origin_with_its_own(
    origin: TestOrigin, make_edge: Any
) -> None:
    own = [
        CC,
        ("ETag", '"v"'),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Content-Type-Options", "sniff-away"),
        ("Content-Security-Policy", "default-src *"),
    ]
    origin.set("/p", Reply(200, own, b"page"))
    edge = await make_edge(cfg=_cfg(origin.port, {"default": {"SecurityHeadersConfig": SECURITY}}))
    miss = await request(edge.port, path="/p")
    hit = await request(edge.port, path="/p")
    posted = await request(edge.port, "POST", "/p", body=b"x")
    not_modified = await request(edge.port, path="/p", headers={"If-None-Match": '"v"'})
    assert not_modified.status == 304
    for r in (miss, hit, posted, not_modified):
        assert _all(r, "x-frame-options") == ["DENY"]  # origin's kept (Override false)
        assert _all(r, "referrer-policy") == ["same-origin"]  # policy's (Override true)
        assert _all(r, "x-content-type-options") == ["nosniff"]
        assert _all(r, "content-security-policy") == ["default-src *"]
        assert _all(r, "strict-transport-security") == ["max-age=600"]  # origin sent none
    assert hit.x_cache == "Hit from cloudfront" and hit.body == b"page"


async def test_custom_and_removed_headers(origin: TestOrigin, make_edge: Any) -> None:
    origin_date = format_http_date(time.time() - 100)  # recent enough to stay fresh
    own = [CC, ("Server", "origin-srv/1.0"), ("X-Powered-By", "PHP"), ("Date", origin_date)]
    origin.set("/c", Reply(200, own, b"body"))
    policy = {
        "RemoveHeadersConfig": {"Quantity": 3, "Items": ["Server", "Date", "X-Powered-By"]},
        "CustomHeadersConfig": [
            {"Header": "X-Team", "Value": "edge", "Override": False},
            {"Header": "Cache-Control", "Value": "no-store", "Override": True},
        ],
    }
    edge = await make_edge(cfg=_cfg(origin.port, {"default": policy}))
    miss = await request(edge.port, path="/c")
    hit = await request(edge.port, path="/c")
    head = await request(edge.port, "HEAD", "/c")
    posted = await request(edge.port, "POST", "/c", body=b"x")
    for r in (miss, hit, head, posted):
        assert _all(r, "server") == ["CloudFront"]
        dates = _all(r, "date")
        assert len(dates) == 1 and dates[0] != origin_date and parse_http_date(dates[0])
        assert r.h("x-powered-by") is None and r.h("x-team") == "edge"
        assert _all(r, "cache-control") == ["no-store"]  # for viewers only
    assert hit.x_cache == "Hit from cloudfront" and head.x_cache == "Hit from cloudfront"
    assert origin.count("/c") == 2  # the cache kept the origin's max-age=600: one fill, one POST


async def test_server_timing(origin: TestOrigin, make_edge: Any) -> None:
    own = [CC, ("Server-Timing", "db;dur=53")]
    for path in ("/t", "/u", "/all/t"):
        origin.set(path, Reply(200, own, b"t"))
    policies = {
        "default": {"ServerTimingHeadersConfig": {"Enabled": True, "SamplingRate": 0}},
        "all": {"ServerTimingHeadersConfig": {"Enabled": True, "SamplingRate": 100}},
    }
    edge = await make_edge(cfg=_cfg(origin.port, policies, all="all"))
    unsampled = await request(edge.port, path="/t")
    assert _all(unsampled, "server-timing") == ["db;dur=53"]  # passed through untouched
    forced = {"Pragma": "server-timing"}
    hit = await request(edge.port, path="/t", headers=forced)
    (timing,) = _all(hit, "server-timing")
    pop, rid = hit.h("x-amz-cf-pop"), hit.h("x-amz-cf-id")
    assert timing.startswith(f'cdn-cache-hit,cdn-pop;desc="{pop}",cdn-rid;desc="{rid}",')
    assert 'cdn-hit-layer;desc="EDGE",cdn-downstream-fbl;dur=' in timing and "db" not in timing
    miss = await request(edge.port, path="/u", headers=forced)
    (timing,) = _all(miss, "server-timing")
    assert timing.startswith('cdn-upstream-layer;desc="EDGE",cdn-cache-miss,cdn-pop;')
    assert timing.endswith(",db;dur=53")  # the origin's metrics after the edge's
    posted = await request(edge.port, "POST", "/u", headers=forced, body=b"x")
    (timing,) = _all(posted, "server-timing")
    assert "cdn-upstream-connect;dur=" in timing and "cdn-upstream-fbl;dur=" in timing
    assert "cdn-cache-miss" in timing
    sampled = await request(edge.port, path="/all/t")
    assert (sampled.h("server-timing") or "").startswith("cdn-upstream-layer")


async def test_edge_errors_carry_the_policy(make_edge: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # closed again before the edge connects: refused
    policy = {"CorsConfig": CORS, "SecurityHeadersConfig": SECURITY}
    edge = await make_edge(cfg=_cfg(dead, {"default": policy}))
    r = await request(edge.port, path="/x", headers={"Origin": APP})
    assert r.status == 502 and r.x_cache == "Error from cloudfront"
    assert _all(r, ACAO) == [APP] and _all(r, "x-frame-options") == ["SAMEORIGIN"]
    assert _all(r, "server") == ["CloudFront"] and _all(r, "content-type") == ["text/html"]
