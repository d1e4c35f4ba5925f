"""Bad configs are refused with one line per problem naming the full key path."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from openfront.config import parse_config
from openfront.errors import ConfigError

D = "distributions[0].DistributionConfig"
Data = dict[str, Any]


def base() -> Data:
    return {
        "edge": {"listen": "127.0.0.1:0"},
        "CachePolicies": [
            {"Id": "p1", "CachePolicyConfig": {"Name": "Mine", "MinTTL": 0, "DefaultTTL": 60}}
        ],
        "distributions": [
            {
                "Id": "E1",
                "DistributionConfig": {
                    "Aliases": ["a.example"],
                    "Origins": [
                        {"Id": "o1", "DomainName": "one.example"},
                        {"Id": "o2", "DomainName": "two.example"},
                    ],
                    "OriginGroups": [
                        {
                            "Id": "g",
                            "FailoverCriteria": {"StatusCodes": [502]},
                            "Members": ["o1", "o2"],
                        }
                    ],
                    "DefaultCacheBehavior": {"TargetOriginId": "g"},
                    "CacheBehaviors": [
                        {"PathPattern": "/a/*", "TargetOriginId": "o1", "CachePolicyId": "Mine"},
                        {"PathPattern": "/b/*", "TargetOriginId": "o2"},
                    ],
                },
            }
        ],
    }


def dc(d: Data) -> Data:
    dist: Data = d["distributions"][0]["DistributionConfig"]
    return dist


def second_distribution(d: Data) -> None:
    d["distributions"].append(copy.deepcopy(d["distributions"][0]))


CASES: list[tuple[str, Callable[[Data], None], str]] = [
    ("top unknown", lambda d: d.update(Foo=1), "Foo: unknown key"),
    ("edge unknown", lambda d: d["edge"].update(cachee={}), "edge.cachee: unknown key"),
    (
        "origin unknown",
        lambda d: dc(d)["Origins"][1].update(Protocol="http"),
        f"{D}.Origins[1].Protocol: unknown key",
    ),
    (
        "snake_case is not CloudFront's key",
        lambda d: dc(d)["DefaultCacheBehavior"].update(target_origin_id="o1"),
        f"{D}.DefaultCacheBehavior.target_origin_id: unknown key",
    ),
    (
        "default behavior has no PathPattern",
        lambda d: dc(d)["DefaultCacheBehavior"].update(PathPattern="*"),
        f"{D}.DefaultCacheBehavior.PathPattern: unknown key",
    ),
    (
        "missing TargetOriginId",
        lambda d: dc(d)["CacheBehaviors"][1].pop("TargetOriginId"),
        f"{D}.CacheBehaviors[1].TargetOriginId: required key is missing",
    ),
    (
        "bad enum",
        lambda d: dc(d)["DefaultCacheBehavior"].update(ViewerProtocolPolicy="https"),
        f"{D}.DefaultCacheBehavior.ViewerProtocolPolicy: Input should be",
    ),
    (
        "attempts out of range",
        lambda d: dc(d)["Origins"][0].update(ConnectionAttempts=4),
        f"{D}.Origins[0].ConnectionAttempts: Input should be less than or equal to 3 (got 4)",
    ),
    (
        "read timeout out of range",
        lambda d: dc(d)["Origins"][0].update(CustomOriginConfig={"OriginReadTimeout": 61}),
        f"{D}.Origins[0].CustomOriginConfig.OriginReadTimeout: Input should be less than",
    ),
    (
        "quantity mismatch",
        lambda d: dc(d).update(CacheBehaviors={"Quantity": 3, "Items": dc(d)["CacheBehaviors"]}),
        f"{D}.CacheBehaviors: InconsistentQuantities: Quantity is 3 but Items has 2 entries",
    ),
    (
        "index inside Quantity/Items",
        lambda d: dc(d).update(
            CacheBehaviors={
                "Quantity": 2,
                "Items": [
                    dc(d)["CacheBehaviors"][0],
                    {"PathPattern": "/b/{x}", "TargetOriginId": "o1"},
                ],
            }
        ),
        f"{D}.CacheBehaviors[1].PathPattern: path pattern '/b/{{x}}' contains characters",
    ),
    (
        "not a list",
        lambda d: dc(d).update(Aliases="a.example"),
        f"{D}.Aliases: expected a list",
    ),
    (
        "bad Quantity/Items keys",
        lambda d: dc(d).update(Aliases={"Quantity": 1, "Itemz": ["x"]}),
        f"{D}.Aliases: expected a list or a {{Quantity, Items}} object; unknown key 'Itemz'",
    ),
    (
        "long path pattern",
        lambda d: dc(d)["CacheBehaviors"][0].update(PathPattern="a" * 256),
        f"{D}.CacheBehaviors[0].PathPattern: path pattern is 256 characters long",
    ),
    (
        "duplicate pattern",
        lambda d: dc(d)["CacheBehaviors"][1].update(PathPattern="a/*"),
        f"{D}.CacheBehaviors[1].PathPattern: 'a/*' is repeated",
    ),
    (
        "unknown target",
        lambda d: dc(d)["CacheBehaviors"][1].update(TargetOriginId="o3"),
        f"{D}.CacheBehaviors[1].TargetOriginId: no origin or origin group with Id 'o3'",
    ),
    (
        "unknown group member",
        lambda d: dc(d)["OriginGroups"][0].update(Members=["o1", "o9"]),
        f"{D}.OriginGroups[0].Members[1].OriginId: no origin with Id 'o9'",
    ),
    (
        "three members",
        lambda d: dc(d)["OriginGroups"][0].update(Members=["o1", "o2", "o1"]),
        f"{D}.OriginGroups[0].Members: exactly two different origins",
    ),
    (
        "failover status not allowed",
        lambda d: dc(d)["OriginGroups"][0].update(FailoverCriteria={"StatusCodes": [501]}),
        f"{D}.OriginGroups[0].FailoverCriteria.StatusCodes[0]: Input should be",
    ),
    (
        "duplicate origin id",
        lambda d: dc(d)["Origins"][1].update(Id="o1"),
        f"{D}.Origins[1].Id: origin Id 'o1' is repeated",
    ),
    (
        "TTL order in a declared policy",
        lambda d: d["CachePolicies"][0]["CachePolicyConfig"].update(MinTTL=100),
        "CachePolicies[0].CachePolicyConfig: InvalidTTLOrder",
    ),
    (
        "TTL order inline",
        lambda d: dc(d)["DefaultCacheBehavior"].update(
            CachePolicyConfig={"Name": "x", "MinTTL": 0, "DefaultTTL": 10, "MaxTTL": 5}
        ),
        f"{D}.DefaultCacheBehavior.CachePolicyConfig: InvalidTTLOrder",
    ),
    (
        "MinTTL required",
        lambda d: d["CachePolicies"][0]["CachePolicyConfig"].pop("MinTTL"),
        "CachePolicies[0].CachePolicyConfig.MinTTL: required key is missing",
    ),
    (
        "method set",
        lambda d: dc(d)["DefaultCacheBehavior"].update(AllowedMethods=["GET", "POST"]),
        f"{D}.DefaultCacheBehavior.AllowedMethods.Items: must be one of [GET, HEAD], ",
    ),
    (
        "cached more than allowed",
        lambda d: dc(d)["DefaultCacheBehavior"].update(
            AllowedMethods={"Items": ["GET", "HEAD"], "CachedMethods": ["GET", "HEAD", "OPTIONS"]}
        ),
        f"{D}.DefaultCacheBehavior.AllowedMethods.CachedMethods: includes a method",
    ),
    (
        "cached set",
        lambda d: dc(d)["DefaultCacheBehavior"].update(
            AllowedMethods={"Items": ["GET", "HEAD"], "CachedMethods": ["GET"]}
        ),
        f"{D}.DefaultCacheBehavior.AllowedMethods.CachedMethods: must be one of",
    ),
    (
        "method quantity",
        lambda d: dc(d)["DefaultCacheBehavior"].update(
            AllowedMethods={"Quantity": 3, "Items": ["GET", "HEAD"]}
        ),
        f"{D}.DefaultCacheBehavior.AllowedMethods: InconsistentQuantities",
    ),
    (
        "lower-case method",
        lambda d: dc(d)["DefaultCacheBehavior"].update(AllowedMethods=["get", "HEAD"]),
        f"{D}.DefaultCacheBehavior.AllowedMethods.Items[0]: Input should be",
    ),
    (
        "S3 origin",
        lambda d: dc(d)["Origins"][0].update(S3OriginConfig={"OriginAccessIdentity": ""}),
        f"{D}.Origins[0].DomainName: an S3 origin's DomainName is BUCKET.s3.REGION.amazonaws.com",
    ),
    (
        "URL as DomainName",
        lambda d: dc(d)["Origins"][0].update(DomainName="http://one.example"),
        f"{D}.Origins[0].DomainName: a host name, not a URL",
    ),
    (
        "OriginPath with trailing slash",
        lambda d: dc(d)["Origins"][0].update(OriginPath="/x/"),
        f"{D}.Origins[0].OriginPath: must start with '/'",
    ),
    (
        "reserved custom header",
        lambda d: dc(d)["Origins"][0].update(
            CustomHeaders=[{"HeaderName": "Host", "HeaderValue": "x"}]
        ),
        f"{D}.Origins[0].CustomHeaders[0].HeaderName: Host cannot be a custom header",
    ),
    (
        "eleven custom headers",
        lambda d: dc(d)["Origins"][0].update(
            CustomHeaders=[{"HeaderName": f"X-H{i}", "HeaderValue": "v"} for i in range(11)]
        ),
        f"{D}.Origins[0].CustomHeaders: at most 10 custom headers",
    ),
    (
        "unknown cache policy",
        lambda d: dc(d)["DefaultCacheBehavior"].update(CachePolicyId="Nope"),
        f"{D}.DefaultCacheBehavior.CachePolicyId: NoSuchCachePolicy: 'Nope'",
    ),
    (
        "unknown origin request policy",
        lambda d: dc(d)["CacheBehaviors"][0].update(OriginRequestPolicyId="Nope"),
        f"{D}.CacheBehaviors[0].OriginRequestPolicyId: NoSuchOriginRequestPolicy",
    ),
    (
        "both id and inline",
        lambda d: dc(d)["CacheBehaviors"][0].update(CachePolicyConfig={"Name": "x", "MinTTL": 0}),
        f"{D}.CacheBehaviors[0].CachePolicyId: give CachePolicyId or CachePolicyConfig",
    ),
    (
        "policy name clashes with managed",
        lambda d: d["CachePolicies"][0]["CachePolicyConfig"].update(Name="CachingDisabled"),
        "CachePolicies[0].Name: PolicyAlreadyExists: 'CachingDisabled'",
    ),
    (
        "whitelist without names",
        lambda d: d["CachePolicies"][0]["CachePolicyConfig"].update(
            ParametersInCacheKeyAndForwardedToOrigin={
                "CookiesConfig": {"CookieBehavior": "whitelist"}
            }
        ),
        "CachePolicies[0].CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin"
        ".CookiesConfig.Cookies: 'whitelist' needs at least one name",
    ),
    (
        "eleven key headers",
        lambda d: d["CachePolicies"][0]["CachePolicyConfig"].update(
            ParametersInCacheKeyAndForwardedToOrigin={
                "HeadersConfig": {
                    "HeaderBehavior": "whitelist",
                    "Headers": [f"X-{i}" for i in range(11)],
                }
            }
        ),
        "CachePolicies[0].CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin"
        ".HeadersConfig: at most 10 headers (got 11)",
    ),
    (
        "names over 1024 characters",
        lambda d: d["CachePolicies"][0]["CachePolicyConfig"].update(
            ParametersInCacheKeyAndForwardedToOrigin={
                "QueryStringsConfig": {
                    "QueryStringBehavior": "whitelist",
                    "QueryStrings": [f"{i}" + "q" * 200 for i in range(6)],
                }
            }
        ),
        "CachePolicies[0].CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin: "
        "the names in one policy total 1206 characters",
    ),
    (
        "error code",
        lambda d: dc(d).update(CustomErrorResponses=[{"ErrorCode": 418}]),
        f"{D}.CustomErrorResponses[0].ErrorCode: Input should be",
    ),
    (
        "page without code",
        lambda d: dc(d).update(
            CustomErrorResponses=[{"ErrorCode": 404, "ResponsePagePath": "/404.html"}]
        ),
        f"{D}.CustomErrorResponses[0].ResponsePagePath: ResponsePagePath and ResponseCode",
    ),
    (
        "duplicate distribution ids",
        lambda d: (
            second_distribution(d),
            d["distributions"][1]["DistributionConfig"].update(Aliases=["b.example"]),
        ),
        "distributions[1].Id: distribution Id 'E1' is repeated",
    ),
    (
        "alias in two distributions",
        lambda d: (second_distribution(d), d["distributions"][1].update(Id="E2")),
        "distributions[1].DistributionConfig.Aliases[0]: CNAMEAlreadyExists: 'a.example' "
        "belongs to E1",
    ),
    (
        "no origins",
        lambda d: dc(d).update(Origins=[]),
        f"{D}.Origins: at least one entry is needed",
    ),
    (
        "no distributions",
        lambda d: d.update(distributions=[]),
        "distributions: at least one entry is needed",
    ),
    (
        "bad size",
        lambda d: d["edge"].update(cache={"memory_bytes": "10 parsecs"}),
        "edge.cache.memory_bytes: '10 parsecs' is not a size",
    ),
    (
        "memory object bigger than memory",
        lambda d: d["edge"].update(cache={"memory_bytes": "1MiB"}),
        "edge.cache: memory_max_object_bytes is larger than memory_bytes",
    ),
    (
        "bad listen",
        lambda d: d["edge"].update(listen="localhost"),
        "edge.listen: 'localhost' is not HOST:PORT",
    ),
    ("bad event loop", lambda d: d["edge"].update(event_loop="trio"), "edge.event_loop: Input"),
]


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refused_with_key_path(mutate: Callable[[Data], None], expected: str) -> None:
    data = base()
    mutate(data)
    with pytest.raises(ConfigError) as info:
        parse_config(data, "edge.yaml")
    lines = str(info.value).splitlines()
    assert any(line.startswith(f"edge.yaml: {expected}") for line in lines), lines


def test_base_is_valid() -> None:
    cfg = parse_config(base(), "edge.yaml")
    assert cfg.distributions[0].id == "E1"


def test_a_policy_may_use_its_name_as_its_id() -> None:
    d = base()
    d["CachePolicies"][0]["Id"] = "Mine"
    dc(d)["DefaultCacheBehavior"]["CachePolicyId"] = "Mine"
    cfg = parse_config(d, "edge.yaml")
    assert cfg.cache_policies[0].id == "Mine"


def test_every_problem_gets_its_own_line() -> None:
    data = base()
    dc(data)["Origins"][0].update(ConnectionAttempts=0, Bogus=1)
    dc(data)["DefaultCacheBehavior"].update(Compress="maybe")
    with pytest.raises(ConfigError) as info:
        parse_config(data, "f.yaml")
    lines = str(info.value).splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"f.yaml: {D}.") for line in lines)


def test_cross_reference_problems_are_all_reported() -> None:
    data = base()
    dc(data)["CacheBehaviors"][0].update(TargetOriginId="x")
    dc(data)["CacheBehaviors"][1].update(TargetOriginId="y")
    with pytest.raises(ConfigError) as info:
        parse_config(data, "f.yaml")
    assert len(str(info.value).splitlines()) == 2


def test_secret_token_is_not_echoed() -> None:
    data = base()
    data["edge"]["admin"] = {"token": 12345678}
    with pytest.raises(ConfigError) as info:
        parse_config(data, "f.yaml")
    assert "edge.admin.token" in str(info.value)
    assert "12345678" not in str(info.value)
