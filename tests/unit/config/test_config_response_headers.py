"""ResponseHeadersPolicies: valid and refused configs, managed ids, the docs example."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from openfront.cache.response_headers import AddedHeader, Cors
from openfront.config import compile_all, parse_config
from openfront.config.managed import MANAGED_RESPONSE_HEADERS_POLICIES
from openfront.errors import ConfigError

DOCS = Path(__file__).resolve().parents[3] / "docs"
D = "distributions[0].DistributionConfig"
P = "ResponseHeadersPolicies[0].ResponseHeadersPolicyConfig"
Data = dict[str, Any]

FULL: Data = {
    "Name": "Site",
    "Comment": "everything",
    "CorsConfig": {
        "AccessControlAllowOrigins": {"Quantity": 2, "Items": ["https://a.example", "*.b.example"]},
        "AccessControlAllowHeaders": {"Items": ["X-A"]},
        "AccessControlAllowMethods": ["GET", "POST"],
        "AccessControlAllowCredentials": True,
        "AccessControlExposeHeaders": {"Quantity": 0},
        "AccessControlMaxAgeSec": 600,
        "OriginOverride": True,
    },
    "SecurityHeadersConfig": {
        "XSSProtection": {
            "Override": False,
            "Protection": True,
            "ReportUri": "https://r.example/x",
        },
        "FrameOptions": {"Override": True, "FrameOption": "DENY"},
        "ReferrerPolicy": {"Override": False, "ReferrerPolicy": "no-referrer"},
        "ContentSecurityPolicy": {"Override": True, "ContentSecurityPolicy": "default-src 'self'"},
        "ContentTypeOptions": {"Override": True},
        "StrictTransportSecurity": {
            "Override": False,
            "AccessControlMaxAgeSec": 63072000,
            "IncludeSubdomains": True,
            "Preload": True,
        },
    },
    "ServerTimingHeadersConfig": {"Enabled": True, "SamplingRate": 12.3456},
    "CustomHeadersConfig": {
        "Quantity": 1,
        "Items": [{"Header": "X-Team", "Value": "edge", "Override": False}],
    },
    "RemoveHeadersConfig": {"Quantity": 2, "Items": [{"Header": "Server"}, {"Header": "Date"}]},
}


def base(policy: Data | None = None, ref: str = "site") -> Data:
    return {
        "ResponseHeadersPolicies": [
            {"Id": "site", "ResponseHeadersPolicyConfig": copy.deepcopy(policy or FULL)}
        ],
        "distributions": [
            {
                "DistributionConfig": {
                    "Origins": [{"Id": "o", "DomainName": "o.example"}],
                    "DefaultCacheBehavior": {"TargetOriginId": "o", "ResponseHeadersPolicyId": ref},
                    "CacheBehaviors": [{"PathPattern": "/plain/*", "TargetOriginId": "o"}],
                }
            }
        ],
    }


def test_full_policy_compiles() -> None:
    (dist,) = compile_all(parse_config(base(), "t.yaml"))
    assert dist.behaviors[0].response_headers is None
    p = dist.default_behavior.response_headers
    assert p is not None and p.name == "Site"
    assert p.cors == Cors(
        ("https://a.example", "*.b.example"),
        allow_headers=("X-A",),
        allow_methods=("GET", "POST"),
        allow_credentials=True,
        max_age=600,
        origin_override=True,
    )
    assert p.added == (
        AddedHeader("Content-Security-Policy", "default-src 'self'", True),
        AddedHeader("X-Content-Type-Options", "nosniff", True),
        AddedHeader("X-Frame-Options", "DENY", True),
        AddedHeader("Referrer-Policy", "no-referrer", False),
        AddedHeader(
            "Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload", False
        ),
        AddedHeader("X-XSS-Protection", "1; report=https://r.example/x", False),
        AddedHeader("X-Team", "edge", False),
    )
    assert p.remove == {"server", "date"}
    assert p.server_timing and p.sampling_rate == 12.3456


@pytest.mark.parametrize("ref", ["site", "Site"])
def test_declared_policy_by_id_or_name(ref: str) -> None:
    (dist,) = compile_all(parse_config(base(ref=ref), "t.yaml"))
    assert dist.default_behavior.response_headers is not None


@pytest.mark.parametrize(
    "ref",
    [
        "60669652-455b-4ae9-85a4-c4c02393f86c",
        "SimpleCORS",
        "Managed-SimpleCORS",
    ],
)
def test_managed_policy_by_id_or_name(ref: str) -> None:
    (dist,) = compile_all(parse_config(base(ref=ref), "t.yaml"))
    p = dist.default_behavior.response_headers
    assert p is not None and p.name == "Managed-SimpleCORS"
    assert p.cors is not None and p.cors.allow_origins == ("*",) and not p.cors.allow_methods


def test_managed_policies_have_cloudfronts_ids_and_contents() -> None:
    by_id = {p.id: p.response_headers_policy_config for p in MANAGED_RESPONSE_HEADERS_POLICIES}
    assert {k: v.name for k, v in by_id.items()} == {
        "60669652-455b-4ae9-85a4-c4c02393f86c": "Managed-SimpleCORS",
        "5cc3b908-e619-4b99-88e5-2cf7f45965bd": "Managed-CORS-With-Preflight",
        "67f7725c-6f97-4210-82d7-5512b31e9d03": "Managed-SecurityHeadersPolicy",
        "e61eb60c-9c35-4d20-a928-2b84e02af89c": "Managed-CORS-and-SecurityHeadersPolicy",
        "eaab4381-ed33-4a86-88ca-d9558dc6cd63": (
            "Managed-CORS-with-preflight-and-SecurityHeadersPolicy"
        ),
    }
    security = by_id["67f7725c-6f97-4210-82d7-5512b31e9d03"].security_headers_config
    assert security is not None
    # Only nosniff overrides the origin (CFDG using-managed-response-headers-policies).
    assert [(n, o) for n, _, o in security.headers() if o] == [("X-Content-Type-Options", True)]
    preflight = by_id["5cc3b908-e619-4b99-88e5-2cf7f45965bd"].cors_config
    assert preflight is not None and len(preflight.access_control_allow_methods) == 7
    assert preflight.access_control_expose_headers == ("*",) and not preflight.origin_override


def _set(path: str, value: object) -> Callable[[Data], None]:
    """Set a key below the policy config (dotted path, '#n' for list indices)."""

    def mutate(d: Data) -> None:
        node: Any = d["ResponseHeadersPolicies"][0]["ResponseHeadersPolicyConfig"]
        *parents, last = path.split(".")
        for part in parents:
            node = node[int(part[1:])] if part.startswith("#") else node[part]
        node[last] = value

    return mutate


def _custom(n: int, name_len: int = 5, value_len: int = 1) -> list[Data]:
    return [
        {"Header": f"X-{i:0{name_len - 2}d}", "Value": "v" * value_len, "Override": True}
        for i in range(n)
    ]


CASES: list[tuple[str, Callable[[Data], None], str]] = [
    (
        "csp too long",
        _set("SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy", "a" * 1784),
        f"{P}.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy: String should",
    ),
    (
        "eleven custom headers",
        _set("CustomHeadersConfig", _custom(11)),
        f"{P}.CustomHeadersConfig.Items: at most 10 custom headers (got 11)",
    ),
    (
        "custom name too long",
        _set("CustomHeadersConfig", _custom(1, name_len=257)),
        f"{P}.CustomHeadersConfig.Items[0].Header: not a header name of at most 256",
    ),
    (
        "custom value too long",
        _set("CustomHeadersConfig", _custom(1, value_len=1784)),
        f"{P}.CustomHeadersConfig.Items[0].Value: at most 1783 characters",
    ),
    (
        "custom total too long",
        _set("CustomHeadersConfig", _custom(6, value_len=1783)),
        f"{P}.CustomHeadersConfig.Items: names and values total 10728 characters",
    ),
    (
        "custom header twice",
        _set("CustomHeadersConfig", [*_custom(1), *_custom(1)]),
        f"{P}.CustomHeadersConfig.Items[1].Header: a header is listed twice",
    ),
    (
        "custom header another section sets",
        _set("CustomHeadersConfig", [{"Header": "x-frame-options", "Value": "", "Override": True}]),
        f"{P}.CustomHeadersConfig.Items[0].Header: x-frame-options is already set",
    ),
    (
        "custom header the edge writes",
        _set("CustomHeadersConfig", [{"Header": "X-Cache", "Value": "", "Override": True}]),
        f"{P}.CustomHeadersConfig.Items[0].Header: X-Cache cannot be set by a policy",
    ),
    (
        "custom quantity mismatch",
        _set("CustomHeadersConfig", {"Quantity": 2, "Items": _custom(1)}),
        f"{P}.CustomHeadersConfig: InconsistentQuantities",
    ),
    (
        "remove content-length",
        _set("RemoveHeadersConfig", ["Content-Length"]),
        f"{P}.RemoveHeadersConfig.Items[0].Header: CloudFront does not remove Content-Length",
    ),
    (
        "remove x-amz-cf-id",
        _set("RemoveHeadersConfig", {"Items": [{"Header": "X-Amz-Cf-Id"}]}),
        f"{P}.RemoveHeadersConfig.Items[0].Header: CloudFront does not remove X-Amz-Cf-Id",
    ),
    (
        "remove x-edge-anything",
        _set("RemoveHeadersConfig", ["X-Edge-Location"]),
        f"{P}.RemoveHeadersConfig.Items[0].Header: CloudFront does not remove",
    ),
    (
        "remove via",
        _set("RemoveHeadersConfig", ["via"]),
        f"{P}.RemoveHeadersConfig.Items[0].Header: CloudFront does not remove via",
    ),
    (
        "remove twice",
        _set("RemoveHeadersConfig", ["X-A", "x-a"]),
        f"{P}.RemoveHeadersConfig.Items[1].Header: a header is listed twice",
    ),
    (
        "wildcard top-level domain",
        _set("CorsConfig.AccessControlAllowOrigins", ["example.*"]),
        f"{P}.CorsConfig.AccessControlAllowOrigins[0]: 'example.*' is not an origin",
    ),
    (
        "wildcard in the middle",
        _set("CorsConfig.AccessControlAllowOrigins", ["https://test.*.example.org"]),
        f"{P}.CorsConfig.AccessControlAllowOrigins[0]: 'https://test.*.example.org' is not",
    ),
    (
        "wildcard inside a label",
        _set("CorsConfig.AccessControlAllowOrigins", ["exa*mple.org"]),
        f"{P}.CorsConfig.AccessControlAllowOrigins[0]: 'exa*mple.org' is not an origin",
    ),
    (
        "origin with a path",
        _set("CorsConfig.AccessControlAllowOrigins", ["https://a.example/app"]),
        f"{P}.CorsConfig.AccessControlAllowOrigins[0]: 'https://a.example/app' is not",
    ),
    (
        "no origins",
        _set("CorsConfig.AccessControlAllowOrigins", []),
        f"{P}.CorsConfig.AccessControlAllowOrigins: at least one origin is needed",
    ),
    (
        "bad method",
        _set("CorsConfig.AccessControlAllowMethods", ["GET", "CONNECT"]),
        f"{P}.CorsConfig.AccessControlAllowMethods[1]: Input should be",
    ),
    (
        "method twice",
        _set("CorsConfig.AccessControlAllowMethods", ["GET", "GET"]),
        f"{P}.CorsConfig.AccessControlAllowMethods: a method is listed twice",
    ),
    (
        "bad allow header",
        _set("CorsConfig.AccessControlAllowHeaders", ["X A"]),
        f"{P}.CorsConfig.AccessControlAllowHeaders[0]: 'X A' is not a header name",
    ),
    (
        "cors without OriginOverride",
        lambda d: d["ResponseHeadersPolicies"][0]["ResponseHeadersPolicyConfig"]["CorsConfig"].pop(
            "OriginOverride"
        ),
        f"{P}.CorsConfig.OriginOverride: required key is missing",
    ),
    (
        "xss block and report",
        _set("SecurityHeadersConfig.XSSProtection.ModeBlock", True),
        f"{P}.SecurityHeadersConfig.XSSProtection.ReportUri: give ModeBlock or ReportUri",
    ),
    (
        "xss report without protection",
        _set("SecurityHeadersConfig.XSSProtection.Protection", False),
        f"{P}.SecurityHeadersConfig.XSSProtection.Protection: ModeBlock and ReportUri need",
    ),
    (
        "bad referrer policy",
        _set("SecurityHeadersConfig.ReferrerPolicy.ReferrerPolicy", "always"),
        f"{P}.SecurityHeadersConfig.ReferrerPolicy.ReferrerPolicy: Input should be",
    ),
    (
        "bad frame option",
        _set("SecurityHeadersConfig.FrameOptions.FrameOption", "ALLOW-FROM"),
        f"{P}.SecurityHeadersConfig.FrameOptions.FrameOption: Input should be",
    ),
    (
        "sampling over 100",
        _set("ServerTimingHeadersConfig.SamplingRate", 100.5),
        f"{P}.ServerTimingHeadersConfig.SamplingRate: Input should be less than or equal to 100",
    ),
    (
        "sampling below 0",
        _set("ServerTimingHeadersConfig.SamplingRate", -1),
        f"{P}.ServerTimingHeadersConfig.SamplingRate: Input should be greater than or equal to 0",
    ),
    (
        "sampling with five decimals",
        _set("ServerTimingHeadersConfig.SamplingRate", 1.23456),
        f"{P}.ServerTimingHeadersConfig.SamplingRate: at most 4 decimal places",
    ),
    (
        "sampling missing",
        _set("ServerTimingHeadersConfig", {"Enabled": True}),
        f"{P}.ServerTimingHeadersConfig.SamplingRate: needed when Enabled is true",
    ),
    ("bad name", _set("Name", "my policy"), f"{P}.Name: use letters, digits"),
    (
        "empty policy",
        lambda d: d["ResponseHeadersPolicies"][0].update(
            ResponseHeadersPolicyConfig={"Name": "Empty"}
        ),
        f"{P}: a response headers policy needs at least one *Config section",
    ),
    (
        "unknown key",
        _set("CorsConfig.AllowOrigins", ["*"]),
        f"{P}.CorsConfig.AllowOrigins: unknown key",
    ),
    (
        "unknown policy id",
        lambda d: d["distributions"][0]["DistributionConfig"]["DefaultCacheBehavior"].update(
            ResponseHeadersPolicyId="nope"
        ),
        f"{D}.DefaultCacheBehavior.ResponseHeadersPolicyId: NoSuchResponseHeadersPolicy: 'nope'",
    ),
    (
        "unknown policy id on a cache behavior",
        lambda d: d["distributions"][0]["DistributionConfig"]["CacheBehaviors"][0].update(
            ResponseHeadersPolicyId="5cc3b908-0000-0000-0000-000000000000"
        ),
        f"{D}.CacheBehaviors[0].ResponseHeadersPolicyId: NoSuchResponseHeadersPolicy",
    ),
    (
        "name taken by a managed policy",
        _set("Name", "SimpleCORS"),
        "ResponseHeadersPolicies[0].Name: PolicyAlreadyExists: 'SimpleCORS'",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refused_with_key_path(mutate: Callable[[Data], None], expected: str) -> None:
    data = base()
    mutate(data)
    with pytest.raises(ConfigError) as info:
        parse_config(data, "edge.yaml")
    lines = str(info.value).splitlines()
    assert any(line.startswith(f"edge.yaml: {expected}") for line in lines), lines


@pytest.mark.parametrize("rate", [0, 100, 0.0001, 99.9999, 50])
def test_sampling_rates_accepted(rate: float) -> None:
    data = base({"Name": "T", "ServerTimingHeadersConfig": {"Enabled": True, "SamplingRate": rate}})
    (dist,) = compile_all(parse_config(data, "t.yaml"))
    p = dist.default_behavior.response_headers
    assert p is not None and p.server_timing and p.sampling_rate == rate


def test_disabled_server_timing_needs_no_rate() -> None:
    data = base({"Name": "T", "ServerTimingHeadersConfig": {"Enabled": False}})
    (dist,) = compile_all(parse_config(data, "t.yaml"))
    p = dist.default_behavior.response_headers
    assert p is not None and not p.server_timing


def test_all_methods_expand() -> None:
    cors = {
        "AccessControlAllowOrigins": ["*"],
        "AccessControlAllowHeaders": [],
        "AccessControlAllowMethods": {"Quantity": 1, "Items": ["ALL"]},
        "AccessControlAllowCredentials": False,
        "OriginOverride": False,
    }
    (dist,) = compile_all(parse_config(base({"Name": "T", "CorsConfig": cors}), "t.yaml"))
    p = dist.default_behavior.response_headers
    assert p is not None and p.cors is not None
    assert p.cors.allow_methods == ("GET", "DELETE", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _docs_example() -> str:
    text = (DOCS / "edge.md").read_text(encoding="utf-8")
    section = text.split("## Response headers policies", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_docs_example_loads() -> None:
    cfg = parse_config(yaml.safe_load(_docs_example()), "docs/edge.md")
    (dist,) = compile_all(cfg)
    site = dist.default_behavior.response_headers
    assert site is not None and site.name == "SiteHeaders"
    assert site.cors is not None and site.cors.allow_credentials
    assert site.remove == {"server", "x-powered-by"} and site.sampling_rate == 1.5
    static = dist.behaviors[0].response_headers
    assert static is not None and static.name == "Managed-SecurityHeadersPolicy"


def test_docs_list_every_managed_policy_id() -> None:
    text = (DOCS / "edge.md").read_text(encoding="utf-8")
    for p in MANAGED_RESPONSE_HEADERS_POLICIES:
        assert f"`{p.id}`" in text
