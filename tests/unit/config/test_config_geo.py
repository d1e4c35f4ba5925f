"""Restrictions.GeoRestriction and the edge's viewer settings: validated, then compiled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from openfront.config import compile_all, parse_config
from openfront.errors import ConfigError

D = "distributions[0].DistributionConfig"


def _data(restrictions: object = None, edge: object = None) -> dict[str, Any]:
    dc: dict[str, Any] = {
        "Origins": [{"Id": "o", "DomainName": "origin.example"}],
        "DefaultCacheBehavior": {"TargetOriginId": "o"},
    }
    if restrictions is not None:
        dc["Restrictions"] = restrictions
    data: dict[str, Any] = {"distributions": [{"DistributionConfig": dc}]}
    if edge is not None:
        data["edge"] = edge
    return data


def test_no_restrictions_compiles_to_none() -> None:
    (dist,) = compile_all(parse_config(_data(), "t.yaml"))
    assert dist.geo_restriction == ("none", frozenset())


@pytest.mark.parametrize(
    ("geo", "expected"),
    [
        ({"RestrictionType": "whitelist", "Items": ["US", "CA"]}, ("whitelist", {"US", "CA"})),
        (
            {"RestrictionType": "blacklist", "Quantity": 1, "Items": ["DE"]},
            ("blacklist", {"DE"}),
        ),
        ({"RestrictionType": "none", "Quantity": 0}, ("none", set())),
        ({"RestrictionType": "none", "Items": []}, ("none", set())),
    ],
)
def test_geo_restriction_forms(geo: object, expected: tuple[str, set[str]]) -> None:
    (dist,) = compile_all(parse_config(_data({"GeoRestriction": geo}), "t.yaml"))
    assert dist.geo_restriction == (expected[0], frozenset(expected[1]))


G = f"{D}.Restrictions.GeoRestriction"


@pytest.mark.parametrize(
    ("geo", "where", "says"),
    [
        ({"RestrictionType": "whitelist", "Items": ["us"]}, f"{G}.Items[0]", "'us' is not"),
        ({"RestrictionType": "blacklist", "Items": ["USA"]}, f"{G}.Items[0]", "two-letter"),
        ({"RestrictionType": "whitelist"}, f"{G}.Items", "needs at least one country"),
        ({"RestrictionType": "blacklist", "Items": []}, f"{G}.Items", "at least one"),
        ({"RestrictionType": "none", "Items": ["US"]}, f"{G}.Items", "takes no countries"),
        ({"RestrictionType": "whitelist", "Items": ["US", "US"]}, f"{G}.Items", "twice"),
        ({"RestrictionType": "allowlist", "Items": ["US"]}, f"{G}.RestrictionType", "none"),
        (
            {"RestrictionType": "whitelist", "Quantity": 2, "Items": ["US"]},
            G,
            "InconsistentQuantities",
        ),
        ({"RestrictionType": "none", "Bogus": 1}, f"{G}.Bogus", ""),
    ],
)
def test_bad_geo_restriction_is_located(geo: object, where: str, says: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(_data({"GeoRestriction": geo}), "t.yaml")
    assert where in str(err.value)
    assert says in str(err.value)


def test_viewer_settings_default_and_parse() -> None:
    assert parse_config(_data(), "t.yaml").edge.viewer.trusted_proxies == ()
    edge = {"viewer": {"trusted_proxies": ["10.0.0.0/8", "::1/128"], "geoip_database": "/x.mmdb"}}
    viewer = parse_config(_data(edge=edge), "t.yaml").edge.viewer
    assert viewer.trusted_proxies == ("10.0.0.0/8", "::1/128")
    assert viewer.geoip_database == Path("/x.mmdb")


@pytest.mark.parametrize("bad", [["10.0.0.0/33"], ["proxy.example"], [42]])
def test_bad_trusted_proxy_is_refused(bad: list[object]) -> None:
    with pytest.raises(ConfigError, match="trusted_proxies"):
        parse_config(_data(edge={"viewer": {"trusted_proxies": bad}}), "t.yaml")
