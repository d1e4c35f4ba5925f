"""Versioned object names (white paper "versioning"): a new name is a new cache entry.

The example in docs/edge.md ("Versioned object names") is this test's configuration.
"""

from __future__ import annotations

import copy

from tests.support.client import request
from tests.support.edge import FOLLOW_ORIGIN, dist_config
from tests.support.origin import Reply, TestOrigin

LONG = ("Cache-Control", "max-age=31536000, immutable")


def _versioned_dist(port: int) -> dict[str, object]:
    dist = dist_config(port)
    # Only `v` enters the key: `?v=2` is a new object, tracking parameters are not.
    policy = copy.deepcopy(FOLLOW_ORIGIN)
    policy["ParametersInCacheKeyAndForwardedToOrigin"]["QueryStringsConfig"] = {
        "QueryStringBehavior": "whitelist",
        "QueryStrings": ["v"],
    }
    dist["CacheBehaviors"] = [
        {
            "PathPattern": "/assets/*",
            "TargetOriginId": "o1",
            "ViewerProtocolPolicy": "allow-all",
            "CachePolicyConfig": policy,
        }
    ]
    return dist


async def test_query_string_version_is_a_new_object(origin: TestOrigin, make_edge) -> None:
    origin.set("/assets/app.js", lambda s: Reply(200, [LONG], s.target.encode()))
    edge = await make_edge(dist=_versioned_dist(origin.port))
    v1 = await request(edge.port, path="/assets/app.js?v=1")
    v1_again = await request(edge.port, path="/assets/app.js?v=1&utm_source=mail")
    v2 = await request(edge.port, path="/assets/app.js?v=2")
    v2_again = await request(edge.port, path="/assets/app.js?v=2")
    assert (v1.x_cache, v1.body) == ("Miss from cloudfront", b"/assets/app.js?v=1")
    assert v1_again.x_cache == "Hit from cloudfront" and v1_again.body == v1.body
    assert (v2.x_cache, v2.body) == ("Miss from cloudfront", b"/assets/app.js?v=2")
    assert v2_again.x_cache == "Hit from cloudfront"
    # The origin saw each version once, and only the parameter that is part of the key.
    assert origin.count("/assets/app.js") == 2


async def test_path_version_is_a_new_object(origin: TestOrigin, make_edge) -> None:
    origin.set("/assets/v1/logo.svg", Reply(200, [LONG], b"<svg>old</svg>"))
    origin.set("/assets/v2/logo.svg", Reply(200, [LONG], b"<svg>new</svg>"))
    edge = await make_edge(dist=_versioned_dist(origin.port))
    old = [await request(edge.port, path="/assets/v1/logo.svg") for _ in range(2)]
    new = [await request(edge.port, path="/assets/v2/logo.svg") for _ in range(2)]
    assert [r.x_cache for r in old + new] == ["Miss from cloudfront", "Hit from cloudfront"] * 2
    assert old[1].body == b"<svg>old</svg>" and new[1].body == b"<svg>new</svg>"
    # The old version stays cached for viewers that still hold old pages: no invalidation needed.
    assert (await request(edge.port, path="/assets/v1/logo.svg")).body == b"<svg>old</svg>"
