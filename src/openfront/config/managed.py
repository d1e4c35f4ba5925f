"""CloudFront's managed cache, origin request and response headers policies: ids and settings.

Sources: CFDG using-managed-cache-policies.md and using-managed-origin-request-policies.md; the
settings are those the CloudFront API returns for these ids (GetCachePolicy). The API names of the
older policies carry a ``Managed-`` prefix; a behavior may use either form, or the id.
"""

from __future__ import annotations

from collections.abc import Mapping

from openfront.config.policies import (
    CachePolicy,
    CachePolicyConfig,
    OriginRequestPolicy,
    OriginRequestPolicyConfig,
)
from openfront.config.response_headers import ResponseHeadersPolicy, ResponseHeadersPolicyConfig

_ORIGIN_HEADERS = ["host", "origin", "x-http-method", "x-http-method-override", "x-method-override"]


def _cache(
    pid: str,
    name: str,
    ttls: tuple[int, int, int],
    *,
    gzip: bool = False,
    brotli: bool = False,
    headers: list[str] | None = None,
    cookies: str = "none",
    query_strings: str = "none",
    query_string_names: list[str] | None = None,
    comment: str = "",
) -> CachePolicy:
    qs: dict[str, object] = {"QueryStringBehavior": query_strings}
    if query_string_names:
        qs["QueryStrings"] = {"Quantity": len(query_string_names), "Items": query_string_names}
    hdrs: dict[str, object] = {"HeaderBehavior": "whitelist" if headers else "none"}
    if headers:
        hdrs["Headers"] = {"Quantity": len(headers), "Items": headers}
    return CachePolicy.model_validate(
        {
            "Id": pid,
            "CachePolicyConfig": {
                "Name": name,
                "Comment": comment,
                "MinTTL": ttls[0],
                "DefaultTTL": ttls[1],
                "MaxTTL": ttls[2],
                "ParametersInCacheKeyAndForwardedToOrigin": {
                    "EnableAcceptEncodingGzip": gzip,
                    "EnableAcceptEncodingBrotli": brotli,
                    "HeadersConfig": hdrs,
                    "CookiesConfig": {"CookieBehavior": cookies},
                    "QueryStringsConfig": qs,
                },
            },
        }
    )


MANAGED_CACHE_POLICIES: tuple[CachePolicy, ...] = (
    _cache(
        "658327ea-f89d-4fab-a63d-7e88639e58f6",
        "Managed-CachingOptimized",
        (1, 86_400, 31_536_000),
        gzip=True,
        brotli=True,
        comment="Policy with caching enabled. Supports Gzip and Brotli compression.",
    ),
    _cache(
        "b2884449-e4de-46a7-ac36-70bc7f1ddd6d",
        "Managed-CachingOptimizedForUncompressedObjects",
        (1, 86_400, 31_536_000),
        comment="Default policy when compression is disabled",
    ),
    _cache(
        "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
        "Managed-CachingDisabled",
        (0, 0, 0),
        comment="Policy with caching disabled",
    ),
    _cache(
        "83da9c7e-98b4-4e11-a168-04f0df8e2c65",
        "UseOriginCacheControlHeaders",
        (0, 0, 31_536_000),
        gzip=True,
        brotli=True,
        headers=_ORIGIN_HEADERS,
        cookies="all",
        comment="Policy for origins that return Cache-Control headers. Query strings are not "
        "included in the cache key.",
    ),
    _cache(
        "4cc15a8a-d715-48a4-82b8-cc0b614638fe",
        "UseOriginCacheControlHeaders-QueryStrings",
        (0, 0, 31_536_000),
        gzip=True,
        brotli=True,
        headers=_ORIGIN_HEADERS,
        cookies="all",
        query_strings="all",
        comment="Policy for origins that return Cache-Control headers and serve different "
        "content based on values present in the query string.",
    ),
    _cache(
        "2e54312d-136d-493c-8eb9-b001f22f67d2",
        "Managed-Amplify",
        (2, 2, 600),
        gzip=True,
        brotli=True,
        headers=["Authorization", "CloudFront-Viewer-Country", "Host"],
        cookies="all",
        query_strings="all",
        comment="Policy for Amplify Origin",
    ),
    _cache(
        "08627262-05a9-4f76-9ded-b50ca2e3a84f",
        "Managed-Elemental-MediaPackage",
        (0, 86_400, 31_536_000),
        gzip=True,
        headers=["origin"],
        query_strings="whitelist",
        query_string_names=["aws.manifestfilter", "end", "m", "start"],
        comment="Policy for Elemental MediaPackage Origin",
    ),
)


def _origin_request(
    pid: str,
    name: str,
    header_behavior: str,
    headers: list[str] | None = None,
    *,
    cookies: str = "none",
    query_strings: str = "none",
) -> OriginRequestPolicy:
    hdrs: dict[str, object] = {"HeaderBehavior": header_behavior}
    if headers:
        hdrs["Headers"] = {"Quantity": len(headers), "Items": headers}
    return OriginRequestPolicy.model_validate(
        {
            "Id": pid,
            "OriginRequestPolicyConfig": {
                "Name": name,
                "HeadersConfig": hdrs,
                "CookiesConfig": {"CookieBehavior": cookies},
                "QueryStringsConfig": {"QueryStringBehavior": query_strings},
            },
        }
    )


_CLOUDFRONT_2022_06 = [
    "CloudFront-Forwarded-Proto",
    "CloudFront-Is-Android-Viewer",
    "CloudFront-Is-Desktop-Viewer",
    "CloudFront-Is-IOS-Viewer",
    "CloudFront-Is-Mobile-Viewer",
    "CloudFront-Is-SmartTV-Viewer",
    "CloudFront-Is-Tablet-Viewer",
    "CloudFront-Viewer-Address",
    "CloudFront-Viewer-ASN",
    "CloudFront-Viewer-City",
    "CloudFront-Viewer-Country",
    "CloudFront-Viewer-Country-Name",
    "CloudFront-Viewer-Country-Region",
    "CloudFront-Viewer-Country-Region-Name",
    "CloudFront-Viewer-Http-Version",
    "CloudFront-Viewer-Latitude",
    "CloudFront-Viewer-Longitude",
    "CloudFront-Viewer-Metro-Code",
    "CloudFront-Viewer-Postal-Code",
    "CloudFront-Viewer-Time-Zone",
    "CloudFront-Viewer-TLS",
]
_CORS = ["Origin", "Access-Control-Request-Headers", "Access-Control-Request-Method"]

MANAGED_ORIGIN_REQUEST_POLICIES: tuple[OriginRequestPolicy, ...] = (
    _origin_request(
        "216adef6-5c7f-47e4-b989-5492eafa07d3",
        "Managed-AllViewer",
        "allViewer",
        cookies="all",
        query_strings="all",
    ),
    _origin_request(
        "33f36d7e-f396-46d9-90e0-52428a34d9dc",
        "Managed-AllViewerAndCloudFrontHeaders-2022-06",
        "allViewerAndWhitelistCloudFront",
        _CLOUDFRONT_2022_06,
        cookies="all",
        query_strings="all",
    ),
    _origin_request(
        "b689b0a8-53d0-40ab-baf2-68738e2966ac",
        "Managed-AllViewerExceptHostHeader",
        "allExcept",
        ["Host"],
        cookies="all",
        query_strings="all",
    ),
    _origin_request(
        "59781a5b-3903-41f3-afcb-af62929ccde1", "Managed-CORS-CustomOrigin", "whitelist", ["Origin"]
    ),
    _origin_request(
        "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf", "Managed-CORS-S3Origin", "whitelist", _CORS
    ),
    _origin_request(
        "775133bc-15f2-49f9-abea-afb2e0bf67d2",
        "Managed-Elemental-MediaTailor-PersonalizedManifests",
        "whitelist",
        [*_CORS, "User-Agent", "X-Forwarded-For"],
        query_strings="all",
    ),
    _origin_request(
        "bf0718e1-ba1e-49d1-88b1-f726733018ae", "Managed-HostHeaderOnly", "whitelist", ["Host"]
    ),
    _origin_request(
        "acba4595-bd28-49b8-b9fe-13317c0390fa",
        "Managed-UserAgentRefererHeaders",
        "whitelist",
        ["User-Agent", "Referer"],
    ),
)


def reference_names(policy_id: str | None, name: str) -> tuple[str, ...]:
    """Every string a behavior may use to name a policy: its id, its name, the short name."""
    names = [name]
    if name.startswith("Managed-"):
        names.append(name.removeprefix("Managed-"))
    return (policy_id, *names) if policy_id else tuple(names)


def _index_cache(policies: tuple[CachePolicy, ...]) -> dict[str, CachePolicyConfig]:
    out: dict[str, CachePolicyConfig] = {}
    for p in policies:
        for ref in reference_names(p.id, p.cache_policy_config.name):
            out[ref] = p.cache_policy_config
    return out


def _index_origin_request(
    policies: tuple[OriginRequestPolicy, ...],
) -> dict[str, OriginRequestPolicyConfig]:
    out: dict[str, OriginRequestPolicyConfig] = {}
    for p in policies:
        for ref in reference_names(p.id, p.origin_request_policy_config.name):
            out[ref] = p.origin_request_policy_config
    return out


MANAGED_CACHE_BY_REF: Mapping[str, CachePolicyConfig] = _index_cache(MANAGED_CACHE_POLICIES)
MANAGED_ORIGIN_REQUEST_BY_REF: Mapping[str, OriginRequestPolicyConfig] = _index_origin_request(
    MANAGED_ORIGIN_REQUEST_POLICIES
)
CACHING_OPTIMIZED_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
USE_ORIGIN_HEADERS_QS_ID = "4cc15a8a-d715-48a4-82b8-cc0b614638fe"
ALL_VIEWER_ID = "216adef6-5c7f-47e4-b989-5492eafa07d3"


def index_cache_policies(custom: tuple[CachePolicy, ...]) -> dict[str, CachePolicyConfig]:
    """Managed policies plus ``custom`` ones, by every reference name."""
    return {**MANAGED_CACHE_BY_REF, **_index_cache(custom)}


def index_origin_request_policies(
    custom: tuple[OriginRequestPolicy, ...],
) -> dict[str, OriginRequestPolicyConfig]:
    """Managed origin request policies plus ``custom`` ones, by every reference name."""
    return {**MANAGED_ORIGIN_REQUEST_BY_REF, **_index_origin_request(custom)}


# --- response headers policies -------------------------------------------------------------------
# Ids from CFDG using-managed-response-headers-policies.md; names as the API returns them. The
# settings tables are elided in the stored guide: these follow its prose (SimpleCORS sends only
# Access-Control-Allow-Origin: *; CORS-With-Preflight adds three headers to a preflight; in
# SecurityHeadersPolicy only X-Content-Type-Options overrides the origin) [m for the values].

_SIMPLE_CORS = {
    "AccessControlAllowOrigins": ["*"],
    "AccessControlAllowHeaders": [],
    "AccessControlAllowMethods": [],
    "AccessControlAllowCredentials": False,
    "OriginOverride": False,
}
_PREFLIGHT_CORS = {
    **_SIMPLE_CORS,
    "AccessControlAllowMethods": ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"],
    "AccessControlExposeHeaders": ["*"],
}
_SECURITY = {
    "ContentTypeOptions": {"Override": True},
    "FrameOptions": {"FrameOption": "SAMEORIGIN", "Override": False},
    "ReferrerPolicy": {"ReferrerPolicy": "strict-origin-when-cross-origin", "Override": False},
    "StrictTransportSecurity": {"AccessControlMaxAgeSec": 31_536_000, "Override": False},
    "XSSProtection": {"Protection": True, "ModeBlock": True, "Override": False},
}


def _response_headers(
    pid: str, name: str, comment: str, *, cors: dict[str, object] | None, security: bool
) -> ResponseHeadersPolicy:
    config: dict[str, object] = {"Name": name, "Comment": comment}
    if cors is not None:
        config["CorsConfig"] = cors
    if security:
        config["SecurityHeadersConfig"] = _SECURITY
    return ResponseHeadersPolicy.model_validate({"Id": pid, "ResponseHeadersPolicyConfig": config})


MANAGED_RESPONSE_HEADERS_POLICIES: tuple[ResponseHeadersPolicy, ...] = (
    _response_headers(
        "60669652-455b-4ae9-85a4-c4c02393f86c",
        "Managed-SimpleCORS",
        "Allows all origins for simple CORS requests",
        cors=_SIMPLE_CORS,
        security=False,
    ),
    _response_headers(
        "5cc3b908-e619-4b99-88e5-2cf7f45965bd",
        "Managed-CORS-With-Preflight",
        "Allows all origins for CORS requests, including preflight requests",
        cors=_PREFLIGHT_CORS,
        security=False,
    ),
    _response_headers(
        "67f7725c-6f97-4210-82d7-5512b31e9d03",
        "Managed-SecurityHeadersPolicy",
        "Adds a set of security headers to every response",
        cors=None,
        security=True,
    ),
    _response_headers(
        "e61eb60c-9c35-4d20-a928-2b84e02af89c",
        "Managed-CORS-and-SecurityHeadersPolicy",
        "Allows all origins for simple CORS requests and adds security headers",
        cors=_SIMPLE_CORS,
        security=True,
    ),
    _response_headers(
        "eaab4381-ed33-4a86-88ca-d9558dc6cd63",
        "Managed-CORS-with-preflight-and-SecurityHeadersPolicy",
        "Allows all origins for CORS requests, including preflight requests, and adds "
        "security headers",
        cors=_PREFLIGHT_CORS,
        security=True,
    ),
)


def _index_response_headers(
    policies: tuple[ResponseHeadersPolicy, ...],
) -> dict[str, ResponseHeadersPolicyConfig]:
    out: dict[str, ResponseHeadersPolicyConfig] = {}
    for p in policies:
        for ref in reference_names(p.id, p.response_headers_policy_config.name):
            out[ref] = p.response_headers_policy_config
    return out


MANAGED_RESPONSE_HEADERS_BY_REF: Mapping[str, ResponseHeadersPolicyConfig] = (
    _index_response_headers(MANAGED_RESPONSE_HEADERS_POLICIES)
)


def index_response_headers_policies(
    custom: tuple[ResponseHeadersPolicy, ...],
) -> dict[str, ResponseHeadersPolicyConfig]:
    """Managed response headers policies plus ``custom`` ones, by every reference name."""
    return {**MANAGED_RESPONSE_HEADERS_BY_REF, **_index_response_headers(custom)}
