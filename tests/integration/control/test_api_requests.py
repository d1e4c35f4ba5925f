"""Requests as bytes: SigV4 failures, malformed XML, unknown routes, CloudFront's error body."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.integration.control.helpers import (
    ROOT_KEY,
    ApiThread,
    client,
    dist_config,
    error_code,
    raw_request,
    unique,
)

DIST = "/2020-05-31/distribution"
NS = 'xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"'


def test_wrong_secret_unknown_key_and_no_signature(api: ApiThread) -> None:
    with pytest.raises(ClientError) as bad_secret:
        client(api.url, secret="not-the-secret-0123456789").list_distributions()
    assert bad_secret.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert bad_secret.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as unknown:
        client(api.url, key="AKOFNOSUCHKEY0000000").list_distributions()
    assert unknown.value.response["Error"]["Code"] == "InvalidClientTokenId"
    status, headers, body = raw_request(api.url, "GET", DIST, sign=False)
    assert (status, error_code(body)) == (403, "MissingAuthenticationToken")
    assert headers["x-amz-request-id"]
    assert f"<RequestId>{headers['x-amz-request-id']}</RequestId>".encode() in body


def test_clock_skew(api: ApiThread) -> None:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="GET", url=api.url + DIST)
    signer = SigV4Auth(Credentials(ROOT_KEY, "x"), "cloudfront", "us-east-1")
    stale = (datetime.now(UTC) - timedelta(minutes=20)).strftime("%Y%m%dT%H%M%SZ")
    request.context["timestamp"] = stale
    request.headers["X-Amz-Date"] = stale
    signer._inject_signature_to_request(request, "0" * 64)
    headers = dict(request.headers)
    status, _, body = raw_request(api.url, "GET", DIST, headers=headers, sign=False)
    assert (status, error_code(body)) == (403, "RequestTimeTooSkewed")


def test_tampered_body_is_refused(api: ApiThread) -> None:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from tests.integration.control.helpers import ROOT_SECRET

    request = AWSRequest(method="POST", url=api.url + DIST, data=b"<DistributionConfig/>")
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "cloudfront", "us-east-1").add_auth(request)
    headers = dict(request.prepare().headers)
    headers.pop("Content-Length", None)
    tampered = b"<DistributionConfig></DistributionConfig>"
    status, _, body = raw_request(api.url, "POST", DIST, tampered, headers, sign=False)
    assert (status, error_code(body)) == (403, "SignatureDoesNotMatch")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<DistributionConfig", "MalformedInput"),
        (b"not xml at all", "MalformedInput"),
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><DistributionConfig/>',
            "MalformedInput",
        ),
        (b"<Distribution/>", "MalformedInput"),
        (
            f"<DistributionConfig {NS}><Bogus>1</Bogus></DistributionConfig>".encode(),
            "MalformedInput",
        ),
        (
            f"<DistributionConfig {NS}><Comment>r</Comment></DistributionConfig>".encode(),
            "MalformedInput",  # required elements missing
        ),
        (b"", "MissingBody"),
    ],
)
def test_bad_xml(api: ApiThread, body: bytes, expected: str) -> None:
    status, _, answer = raw_request(api.url, "POST", DIST, body)
    assert (status, error_code(answer)) == (400, expected)


def test_xml_entity_expansion_is_refused(api: ApiThread) -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<DistributionConfig><Comment>&b;</Comment></DistributionConfig>"
    )
    status, _, answer = raw_request(api.url, "POST", DIST, laughs)
    assert (status, error_code(answer)) == (400, "MalformedInput")


def test_body_size_limit(api: ApiThread) -> None:
    big = b"<DistributionConfig>" + b" " * (api.settings.max_body_bytes + 1)
    status, _, answer = raw_request(api.url, "POST", DIST, big)
    assert (status, error_code(answer)) == (413, "RequestEntityTooLarge")


def test_routes(api: ApiThread) -> None:
    status, _, body = raw_request(api.url, "GET", "/2020-05-31/nothing-here")
    assert (status, error_code(body)) == (404, "UnknownOperation")
    status, _, body = raw_request(api.url, "PATCH", DIST)
    assert (status, error_code(body)) == (405, "MethodNotAllowed")
    status, _, body = raw_request(api.url, "GET", "/2020-05-31/function")
    assert (status, error_code(body)) == (501, "NotImplemented")
    status, _, body = raw_request(api.url, "GET", "/openfront/health", sign=False)
    assert (status, body) == (200, b"ok\n")


def test_aws_cli_style_xml_with_namespace_round_trips(api: ApiThread, cf: Any) -> None:
    created = cf.create_distribution(DistributionConfig=dist_config(unique()))
    dist_id = created["Distribution"]["Id"]
    status, headers, body = raw_request(api.url, "GET", f"{DIST}/{dist_id}/config")
    assert status == 200 and headers["ETag"] == created["ETag"]
    assert body.startswith(
        b'<?xml version="1.0" encoding="UTF-8"?>\n<DistributionConfig ' + NS.encode()
    )
    assert b"<Enabled>true</Enabled>" in body  # booleans in lower case
    status, headers, _ = raw_request(
        api.url, "PUT", f"{DIST}/{dist_id}/config", body, {"If-Match": created["ETag"]}
    )
    assert status == 200 and headers["ETag"] != created["ETag"]


def test_tags(cf: Any) -> None:
    created = cf.create_distribution_with_tags(
        DistributionConfigWithTags={
            "DistributionConfig": dist_config(unique()),
            "Tags": {"Items": [{"Key": "team", "Value": "media"}]},
        }
    )
    arn = created["Distribution"]["ARN"]
    assert cf.list_tags_for_resource(Resource=arn)["Tags"]["Items"] == [
        {"Key": "team", "Value": "media"}
    ]
    cf.tag_resource(Resource=arn, Tags={"Items": [{"Key": "env", "Value": "prod"}]})
    cf.untag_resource(Resource=arn, TagKeys={"Items": ["team"]})
    assert cf.list_tags_for_resource(Resource=arn)["Tags"]["Items"] == [
        {"Key": "env", "Value": "prod"}
    ]


def test_managed_policies_are_readable(cf: Any) -> None:
    optimized = "658327ea-f89d-4fab-a63d-7e88639e58f6"
    policy = cf.get_cache_policy(Id=optimized)
    config = policy["CachePolicy"]["CachePolicyConfig"]
    assert config["Name"] == "Managed-CachingOptimized"
    assert (config["MinTTL"], config["DefaultTTL"], config["MaxTTL"]) == (1, 86400, 31536000)
    assert cf.get_cache_policy_config(Id=optimized)["ETag"] == policy["ETag"]
    managed = cf.list_cache_policies(Type="managed")["CachePolicyList"]
    assert optimized in [i["CachePolicy"]["Id"] for i in managed["Items"]]
    assert cf.list_cache_policies(Type="custom")["CachePolicyList"]["Quantity"] == 0
    first = cf.list_cache_policies(MaxItems="2")["CachePolicyList"]
    rest = cf.list_cache_policies(Marker=first["NextMarker"])["CachePolicyList"]
    assert first["Quantity"] + rest["Quantity"] == managed["Quantity"]
    all_viewer = cf.get_origin_request_policy(Id="216adef6-5c7f-47e4-b989-5492eafa07d3")
    headers = all_viewer["OriginRequestPolicy"]["OriginRequestPolicyConfig"]["HeadersConfig"]
    assert headers["HeaderBehavior"] == "allViewer"
    with pytest.raises(cf.exceptions.NoSuchCachePolicy):
        cf.get_cache_policy(Id="no-such-policy")
