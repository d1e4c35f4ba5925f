"""CloudFront API documents in, OpenFront's model out: kept, refused, translated, echoed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from openfront.control.compat import api_document, validate_config
from openfront.control.errors import ApiError


def doc(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "CallerReference": "r",
        "Comment": "",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "origin.example.com"}]},
        "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all"},
    }
    base.update(over)
    return base


def behavior(**over: Any) -> dict[str, Any]:
    return {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all", **over}


def code_of(document: dict[str, Any]) -> str:
    with pytest.raises(ApiError) as exc:
        validate_config(document)
    return exc.value.code


def test_empty_cloudfront_settings_are_accepted_and_echoed() -> None:
    sent = doc(
        WebACLId="",
        Staging=False,
        ContinuousDeploymentPolicyId="",
        PriceClass="PriceClass_200",
        Logging={"Enabled": True, "IncludeCookies": False, "Bucket": "b", "Prefix": "p"},
        DefaultCacheBehavior=behavior(
            TrustedSigners={"Enabled": False, "Quantity": 0},
            LambdaFunctionAssociations={"Quantity": 0},
            FunctionAssociations={"Quantity": 0, "Items": []},
            FieldLevelEncryptionId="",
            SmoothStreaming=False,
            CachePolicyId="",
            ResponseHeadersPolicyId="",
        ),
    )
    model = validate_config(sent)
    assert model.default_cache_behavior.cache_policy_id is None
    shown = api_document(sent, model)
    assert shown["PriceClass"] == "PriceClass_200"
    assert shown["Logging"]["Bucket"] == "b"
    assert shown["DefaultCacheBehavior"]["TrustedSigners"] == {"Enabled": False, "Quantity": 0}


@pytest.mark.parametrize(
    "over",
    [
        {"WebACLId": "arn:aws:wafv2:us-east-1:1:global/webacl/x/1"},
        {"DefaultCacheBehavior": behavior(SmoothStreaming=True)},
        {
            "DefaultCacheBehavior": behavior(
                TrustedSigners={"Enabled": True, "Quantity": 1, "Items": ["self"]}
            )
        },
        {
            "DefaultCacheBehavior": behavior(
                FunctionAssociations={
                    "Quantity": 1,
                    "Items": [{"FunctionARN": "arn:f", "EventType": "viewer-request"}],
                }
            )
        },
    ],
)
def test_settings_openfront_cannot_honour_are_refused(over: dict[str, Any]) -> None:
    with pytest.raises(ApiError) as exc:
        validate_config(doc(**over))
    assert exc.value.code == "InvalidArgument"
    assert "does not support" in exc.value.message


def test_defaults_are_shown_for_what_the_request_left_out() -> None:
    sent = doc()
    shown = api_document(sent, validate_config(sent))
    assert shown["Aliases"] == {"Quantity": 0}
    assert shown["IsIPV6Enabled"] is True and shown["HttpVersion"] == "http2"
    assert shown["Origins"]["Items"][0]["OriginShield"] == {"Enabled": False}
    methods = shown["DefaultCacheBehavior"]["AllowedMethods"]
    assert methods == {
        "Quantity": 2,
        "Items": ["GET", "HEAD"],
        "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
    }
    assert api_document(shown, validate_config(shown)) == shown  # a get → update round trip


def test_legacy_forwarded_values_become_an_inline_cache_policy() -> None:
    model = validate_config(
        doc(
            DefaultCacheBehavior=behavior(
                Compress=True,
                ForwardedValues={
                    "QueryString": True,
                    "QueryStringCacheKeys": {"Quantity": 1, "Items": ["v"]},
                    "Cookies": {
                        "Forward": "whitelist",
                        "WhitelistedNames": {"Quantity": 1, "Items": ["session"]},
                    },
                    "Headers": {"Quantity": 1, "Items": ["Origin"]},
                },
                MinTTL=10,
                DefaultTTL=20,
                MaxTTL=30,
            )
        )
    )
    b = model.default_cache_behavior
    assert b.cache_policy_config is not None and b.origin_request_policy_config is not None
    assert b.cache_policy_config.ttls() == (10, 20, 30)
    params = b.cache_policy_config.parameters_in_cache_key_and_forwarded_to_origin
    assert params.enable_accept_encoding_gzip and params.enable_accept_encoding_brotli
    assert params.headers_config.headers == ("Origin",)
    assert params.cookies_config.cookies == ("session",)
    assert params.query_strings_config.query_strings == ("v",)
    # Every query string still went to the origin with legacy settings.
    assert b.origin_request_policy_config.query_strings_config.query_string_behavior == "all"


def test_legacy_all_headers_disables_caching() -> None:
    fv = {
        "QueryString": False,
        "Cookies": {"Forward": "all"},
        "Headers": {"Quantity": 1, "Items": ["*"]},
    }
    b = validate_config(
        doc(DefaultCacheBehavior=behavior(ForwardedValues=fv))
    ).default_cache_behavior
    assert b.cache_policy_config is not None and b.cache_policy_config.ttls() == (0, 0, 0)
    assert b.origin_request_policy_config is not None
    assert b.origin_request_policy_config.headers_config.header_behavior == "allViewer"


def test_legacy_ttls_with_a_cache_policy() -> None:
    optimized = "658327ea-f89d-4fab-a63d-7e88639e58f6"
    zeros = behavior(CachePolicyId=optimized, MinTTL=0, DefaultTTL=0, MaxTTL=0)
    assert validate_config(doc(DefaultCacheBehavior=zeros)).default_cache_behavior.cache_policy_id
    both = behavior(CachePolicyId=optimized, ForwardedValues={"QueryString": False})
    assert code_of(doc(DefaultCacheBehavior=both)) == "InvalidArgument"


@pytest.mark.parametrize(
    ("over", "code"),
    [
        (
            {"Origins": {"Quantity": 2, "Items": [{"Id": "o", "DomainName": "a.example"}]}},
            "InconsistentQuantities",
        ),
        ({"DefaultCacheBehavior": behavior(CachePolicyId="no-such-policy")}, "NoSuchCachePolicy"),
        ({"DefaultCacheBehavior": behavior(MinTTL=100, MaxTTL=10)}, "InvalidTTLOrder"),
        (
            {
                "DefaultCacheBehavior": behavior(
                    TrustedKeyGroups={"Enabled": True, "Quantity": 1, "Items": ["kg"]}
                )
            },
            "TrustedKeyGroupDoesNotExist",
        ),
        (
            {
                "Origins": {
                    "Quantity": 26,
                    "Items": [
                        {"Id": f"o{i}" if i else "o", "DomainName": "a.example"} for i in range(26)
                    ],
                }
            },
            "TooManyOrigins",
        ),
        (
            {"Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "http://x/"}]}},
            "InvalidArgument",
        ),
    ],
)
def test_error_codes(over: dict[str, Any], code: str) -> None:
    assert code_of(doc(**over)) == code


def test_validation_leaves_the_request_untouched() -> None:
    sent = doc(DefaultCacheBehavior=behavior(ForwardedValues={"QueryString": False}, MinTTL=0))
    before = copy.deepcopy(sent)
    validate_config(sent)
    assert sent == before
