"""Geo restriction and CloudFront-* viewer headers on a running edge (guide §1.13, §1.16)."""

from __future__ import annotations

from typing import Any

from tests.support.client import request
from tests.support.edge import config, dist_config
from tests.support.origin import Reply, TestOrigin

CC = ("Cache-Control", "max-age=600")
US_IP = "8.8.8.8"  # in the bundled database as US


def _cfg(origin: TestOrigin, **dist_over: Any) -> Any:
    return config(
        dist_config(origin.port, **dist_over),
        viewer={"trusted_proxies": ["127.0.0.0/8"]},
    )


async def test_blacklist_blocks_the_country_behind_a_trusted_proxy(origin, make_edge) -> None:
    origin.set("/g", Reply(200, [CC], b"geo"))
    restrictions = {"GeoRestriction": {"RestrictionType": "blacklist", "Items": ["US"]}}
    edge = await make_edge(cfg=_cfg(origin, Restrictions=restrictions))
    blocked = await request(edge.port, path="/g", headers={"X-Forwarded-For": US_IP})
    assert blocked.status == 403 and blocked.x_cache == "Error from cloudfront"
    assert b"block access from your country" in blocked.body
    # Unknown country (a loopback peer, no forwarded address): CloudFront serves it.
    assert (await request(edge.port, path="/g")).status == 200
    assert origin.count("/g") == 1


async def test_whitelist_allows_only_listed_countries(origin, make_edge) -> None:
    origin.set("/w", Reply(200, [CC], b"ok"))
    restrictions = {"GeoRestriction": {"RestrictionType": "whitelist", "Items": ["US"]}}
    edge = await make_edge(cfg=_cfg(origin, Restrictions=restrictions))
    ok = await request(edge.port, path="/w", headers={"X-Forwarded-For": US_IP})
    assert ok.status == 200
    no = await request(edge.port, path="/w", headers={"X-Forwarded-For": "81.2.69.160"})  # GB
    assert no.status == 403


async def test_viewer_headers_forwarded_and_forgeries_dropped(origin, make_edge) -> None:
    origin.set("/h", lambda s: Reply(200, [], repr(sorted(s.headers.items())).encode()))
    dist = dist_config(origin.port)
    dist["DefaultCacheBehavior"]["OriginRequestPolicyConfig"] = {
        "Name": "viewer",
        "HeadersConfig": {
            "HeaderBehavior": "whitelist",
            "Headers": ["CloudFront-Viewer-Country", "CloudFront-Is-Mobile-Viewer"],
        },
        "CookiesConfig": {"CookieBehavior": "none"},
        "QueryStringsConfig": {"QueryStringBehavior": "none"},
    }
    edge = await make_edge(cfg=config(dist, viewer={"trusted_proxies": ["127.0.0.0/8"]}))
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"
    await request(edge.port, path="/h", headers={
        "X-Forwarded-For": US_IP, "User-Agent": iphone, "CloudFront-Viewer-Country": "ZZ",
        "CloudFront-Is-Desktop-Viewer": "true",
    })  # fmt: skip
    seen = origin.requests[-1].headers
    assert seen.get("cloudfront-viewer-country") == "US"
    assert seen.get("cloudfront-is-mobile-viewer") == "true"
    assert "cloudfront-is-desktop-viewer" not in seen  # not forwarded, and the forgery dropped


async def test_city_headers_from_a_maxmind_database(origin, make_edge, tmp_path) -> None:
    from tests.support.geodb import SAO_PAULO_IP, write_city_db

    origin.set("/c", lambda s: Reply(200, [CC], b"city"))
    dist = dist_config(origin.port)
    names = [
        "CloudFront-Viewer-City",
        "CloudFront-Viewer-Country-Region",
        "CloudFront-Viewer-Time-Zone",
    ]
    dist["DefaultCacheBehavior"]["OriginRequestPolicyConfig"] = {
        "Name": "viewer-city",
        "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": names},
        "CookiesConfig": {"CookieBehavior": "none"},
        "QueryStringsConfig": {"QueryStringBehavior": "none"},
    }
    db = write_city_db(tmp_path / "city.mmdb")
    viewer = {"trusted_proxies": ["127.0.0.0/8"], "geoip_database": str(db)}
    edge = await make_edge(cfg=config(dist, viewer=viewer))
    r = await request(edge.port, path="/c", headers={"X-Forwarded-For": SAO_PAULO_IP})
    assert r.status == 200
    seen = origin.requests[-1].headers
    assert seen.get("cloudfront-viewer-city") == "S%C3%A3o Paulo"
    assert seen.get("cloudfront-viewer-country-region") == "SP"
    assert seen.get("cloudfront-viewer-time-zone") == "America/Sao_Paulo"
    assert "cloudfront-viewer-country" not in seen  # only what the policy names travels
