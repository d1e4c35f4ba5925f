"""Account-level resources through boto3 on each database: policies, keys, key groups, OACs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from tests.integration.control.helpers import (
    CACHING_OPTIMIZED,
    ApiThread,
    client,
    dist_config,
    start_api,
    unique,
)

from openfront.control.audit import query as audit_query

ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"
SIMPLE_CORS = "60669652-455b-4ae9-85a4-c4c02393f86c"


def code_of(call: Callable[..., Any], **params: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return str(caught.value.response["Error"]["Code"])


def cache_policy(name: str, *, default_ttl: int = 60, headers: list[str] | None = None) -> Any:
    hdrs = headers or []
    return {
        "Name": name,
        "Comment": "test",
        "MinTTL": 0,
        "DefaultTTL": default_ttl,
        "MaxTTL": 3600,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": True,
            "HeadersConfig": {
                "HeaderBehavior": "whitelist" if hdrs else "none",
                **({"Headers": {"Quantity": len(hdrs), "Items": hdrs}} if hdrs else {}),
            },
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "none"},
        },
    }


def public_key_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def with_behavior(ref: str, **behavior: Any) -> dict[str, Any]:
    config = dist_config(ref)
    config["DefaultCacheBehavior"].update(behavior)
    return config


def test_cache_policy_life_cycle(cf: Any, api: ApiThread) -> None:
    name = unique("cp")
    made = cf.create_cache_policy(CachePolicyConfig=cache_policy(name))
    policy = made["CachePolicy"]
    pid, etag = policy["Id"], made["ETag"]
    assert made["Location"].endswith(f"/2020-05-31/cache-policy/{pid}")
    assert policy["CachePolicyConfig"]["DefaultTTL"] == 60
    got = cf.get_cache_policy(Id=pid)
    assert (got["ETag"], got["CachePolicy"]["CachePolicyConfig"]["Name"]) == (etag, name)
    assert cf.get_cache_policy_config(Id=pid)["CachePolicyConfig"]["MaxTTL"] == 3600

    custom = cf.list_cache_policies(Type="custom")["CachePolicyList"]
    assert pid in [i["CachePolicy"]["Id"] for i in custom["Items"]]
    assert {i["Type"] for i in custom["Items"]} == {"custom"}
    managed = cf.list_cache_policies(Type="managed")["CachePolicyList"]
    assert CACHING_OPTIMIZED in [i["CachePolicy"]["Id"] for i in managed["Items"]]
    assert pid not in [i["CachePolicy"]["Id"] for i in managed["Items"]]
    first = cf.list_cache_policies(MaxItems="1")["CachePolicyList"]
    after = cf.list_cache_policies(Marker=first["NextMarker"])["CachePolicyList"]
    assert first["Quantity"] == 1 and after["Items"][0]["CachePolicy"]["Id"] > first["NextMarker"]

    # Errors, as CloudFront answers them.
    assert code_of(cf.create_cache_policy, CachePolicyConfig=cache_policy(name)) == (
        "CachePolicyAlreadyExists"
    )
    managed_name = cache_policy("CachingOptimized")
    assert code_of(cf.create_cache_policy, CachePolicyConfig=managed_name) == (
        "CachePolicyAlreadyExists"
    )
    many = cache_policy(unique("cp"), headers=[f"x-h{i}" for i in range(11)])
    assert code_of(cf.create_cache_policy, CachePolicyConfig=many) == "TooManyHeadersInCachePolicy"
    bad_ttls = {**cache_policy(unique("cp")), "MinTTL": 100, "DefaultTTL": 10}
    assert code_of(cf.create_cache_policy, CachePolicyConfig=bad_ttls) == "InvalidTTLOrder"
    assert code_of(cf.get_cache_policy, Id="no-such-id") == "NoSuchCachePolicy"
    update = cache_policy(name, default_ttl=120)
    assert code_of(cf.update_cache_policy, Id=pid, IfMatch="", CachePolicyConfig=update) == (
        "InvalidIfMatchVersion"
    )
    assert code_of(cf.update_cache_policy, Id=pid, IfMatch="E0", CachePolicyConfig=update) == (
        "PreconditionFailed"
    )
    assert code_of(
        cf.update_cache_policy, Id=CACHING_OPTIMIZED, IfMatch="E0", CachePolicyConfig=update
    ) == ("IllegalUpdate")
    assert code_of(cf.delete_cache_policy, Id=CACHING_OPTIMIZED, IfMatch="E0") == "IllegalDelete"

    # In use by a distribution: an update reaches it as a new version; a delete is refused.
    dist = cf.create_distribution(DistributionConfig=with_behavior(unique(), CachePolicyId=pid))
    dist_id = dist["Distribution"]["Id"]
    updated = cf.update_cache_policy(Id=pid, IfMatch=etag, CachePolicyConfig=update)
    assert updated["CachePolicy"]["CachePolicyConfig"]["DefaultTTL"] == 120
    assert updated["ETag"] != etag
    now = cf.get_distribution(Id=dist_id)
    assert now["ETag"] != dist["ETag"]  # a new version carries the policy to the edges
    code = code_of(cf.delete_cache_policy, Id=pid, IfMatch=updated["ETag"])
    assert code == "CachePolicyInUse"

    by_name = cf.create_distribution(DistributionConfig=with_behavior(unique(), CachePolicyId=name))
    renamed = {**update, "Name": unique("cp")}
    code = code_of(
        cf.update_cache_policy, Id=pid, IfMatch=updated["ETag"], CachePolicyConfig=renamed
    )
    assert code == "InvalidArgument"  # the distribution naming it by Name would lose it
    off = by_name["Distribution"]["DistributionConfig"] | {"Enabled": False}
    off_etag = cf.update_distribution(
        Id=by_name["Distribution"]["Id"], IfMatch=by_name["ETag"], DistributionConfig=off
    )["ETag"]
    cf.delete_distribution(Id=by_name["Distribution"]["Id"], IfMatch=off_etag)

    # Once no distribution uses it, it goes.
    config = now["Distribution"]["DistributionConfig"]
    config["DefaultCacheBehavior"]["CachePolicyId"] = CACHING_OPTIMIZED
    cf.update_distribution(Id=dist_id, IfMatch=now["ETag"], DistributionConfig=config)
    cf.delete_cache_policy(Id=pid, IfMatch=updated["ETag"])
    assert code_of(cf.get_cache_policy, Id=pid) == "NoSuchCachePolicy"

    with api.state.db.read() as session:
        records = audit_query(session, action="DeleteCachePolicy")
    results = [r["result"] for r in records if r["resource"] == pid]
    assert results == ["CachePolicyInUse", "Success"]


def test_origin_request_and_response_headers_policies(cf: Any) -> None:
    orp = cf.create_origin_request_policy(
        OriginRequestPolicyConfig={
            "Name": unique("orp"),
            "HeadersConfig": {
                "HeaderBehavior": "whitelist",
                "Headers": {"Quantity": 1, "Items": ["x-tenant"]},
            },
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "all"},
        }
    )
    orp_id = orp["OriginRequestPolicy"]["Id"]
    listed = cf.list_origin_request_policies()["OriginRequestPolicyList"]["Items"]
    assert {("custom", orp_id), ("managed", ALL_VIEWER)} <= {
        (i["Type"], i["OriginRequestPolicy"]["Id"]) for i in listed
    }
    rhp = cf.create_response_headers_policy(
        ResponseHeadersPolicyConfig={
            "Name": unique("rhp"),
            "CustomHeadersConfig": {
                "Quantity": 1,
                "Items": [{"Header": "x-served-by", "Value": "openfront", "Override": True}],
            },
        }
    )
    rhp_id = rhp["ResponseHeadersPolicy"]["Id"]
    managed = cf.list_response_headers_policies(Type="managed")["ResponseHeadersPolicyList"]
    assert SIMPLE_CORS in [i["ResponseHeadersPolicy"]["Id"] for i in managed["Items"]]
    assert cf.get_response_headers_policy(Id=SIMPLE_CORS)["ResponseHeadersPolicy"][
        "ResponseHeadersPolicyConfig"
    ]["Name"] == ("Managed-SimpleCORS")

    dist = cf.create_distribution(
        DistributionConfig=with_behavior(
            unique(), OriginRequestPolicyId=orp_id, ResponseHeadersPolicyId=rhp_id
        )
    )
    behavior = dist["Distribution"]["DistributionConfig"]["DefaultCacheBehavior"]
    assert (behavior["OriginRequestPolicyId"], behavior["ResponseHeadersPolicyId"]) == (
        orp_id,
        rhp_id,
    )
    assert code_of(cf.delete_origin_request_policy, Id=orp_id, IfMatch=orp["ETag"]) == (
        "OriginRequestPolicyInUse"
    )
    assert code_of(cf.delete_response_headers_policy, Id=rhp_id, IfMatch=rhp["ETag"]) == (
        "ResponseHeadersPolicyInUse"
    )
    too_many = {
        "Name": unique("rhp"),
        "CustomHeadersConfig": {
            "Quantity": 11,
            "Items": [{"Header": f"x-h{i}", "Value": "v", "Override": True} for i in range(11)],
        },
    }
    code = code_of(cf.create_response_headers_policy, ResponseHeadersPolicyConfig=too_many)
    assert code == "TooManyCustomHeadersInResponseHeadersPolicy"


def test_distributions_refuse_unknown_references(cf: Any) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"CachePolicyId": "8a5f1c9e-0000-4000-8000-000000000000"}, "NoSuchCachePolicy"),
        (
            {"OriginRequestPolicyId": "8a5f1c9e-0000-4000-8000-000000000000"},
            "NoSuchOriginRequestPolicy",
        ),
        (
            {"TrustedKeyGroups": {"Enabled": True, "Quantity": 1, "Items": ["nope"]}},
            "TrustedKeyGroupDoesNotExist",
        ),
    ]
    for behavior, expected in cases:
        config = with_behavior(unique(), **behavior)
        assert code_of(cf.create_distribution, DistributionConfig=config) == expected
    config = dist_config(unique())
    config["Origins"]["Items"][0] = {
        "Id": "app",
        "DomainName": "bucket.s3.us-east-1.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
        "OriginAccessControlId": "ENOSUCHOAC0000",
    }
    assert code_of(cf.create_distribution, DistributionConfig=config) == (
        "NoSuchOriginAccessControl"
    )


def test_public_keys_and_key_groups(cf: Any, api: ApiThread) -> None:
    pem = public_key_pem()
    ref = unique("pk")
    key_config = {"CallerReference": ref, "Name": unique("key"), "EncodedKey": pem}
    made = cf.create_public_key(PublicKeyConfig=key_config)
    key_id = made["PublicKey"]["Id"]
    assert key_id.startswith("K") and made["PublicKey"]["CreatedTime"]
    again = cf.create_public_key(PublicKeyConfig=key_config)  # the same request, idempotent
    assert again["PublicKey"]["Id"] == key_id
    other = {**key_config, "Name": unique("key")}
    assert code_of(cf.create_public_key, PublicKeyConfig=other) == "PublicKeyAlreadyExists"
    private = {**key_config, "CallerReference": unique(), "EncodedKey": "-----BEGIN PRIVATE KEY"}
    assert code_of(cf.create_public_key, PublicKeyConfig=private) == "InvalidArgument"
    assert key_id in [k["Id"] for k in cf.list_public_keys()["PublicKeyList"]["Items"]]

    commented = cf.update_public_key(
        Id=key_id, IfMatch=made["ETag"], PublicKeyConfig={**key_config, "Comment": "rotated"}
    )
    assert cf.get_public_key_config(Id=key_id)["PublicKeyConfig"]["Comment"] == "rotated"
    renamed = {**key_config, "Name": unique("key")}
    code = code_of(
        cf.update_public_key, Id=key_id, IfMatch=commented["ETag"], PublicKeyConfig=renamed
    )
    assert code == "CannotChangeImmutablePublicKeyFields"

    group_name = unique("kg")
    unknown = {"Name": group_name, "Items": ["KNOSUCHKEY0000"]}
    assert code_of(cf.create_key_group, KeyGroupConfig=unknown) == "InvalidArgument"
    six = {"Name": group_name, "Items": [key_id] * 6}
    assert code_of(cf.create_key_group, KeyGroupConfig=six) == "TooManyPublicKeysInKeyGroup"
    group = cf.create_key_group(KeyGroupConfig={"Name": group_name, "Items": [key_id]})
    group_id = group["KeyGroup"]["Id"]
    assert cf.get_key_group_config(Id=group_id)["KeyGroupConfig"]["Items"] == [key_id]
    listed = cf.list_key_groups()["KeyGroupList"]["Items"]
    assert group_id in [g["KeyGroup"]["Id"] for g in listed]
    assert code_of(cf.get_key_group, Id="no-such-group") == "NoSuchResource"
    assert code_of(cf.delete_public_key, Id=key_id, IfMatch=commented["ETag"]) == ("PublicKeyInUse")

    trusted = {"Enabled": True, "Quantity": 1, "Items": [group_id]}
    dist = cf.create_distribution(
        DistributionConfig=with_behavior(unique(), TrustedKeyGroups=trusted)
    )
    active = dist["Distribution"]["ActiveTrustedKeyGroups"]
    assert active["Enabled"] and active["Items"] == [
        {"KeyGroupId": group_id, "KeyPairIds": {"Quantity": 1, "Items": [key_id]}}
    ]
    assert code_of(cf.delete_key_group, Id=group_id, IfMatch=group["ETag"]) == "ResourceInUse"

    # Disabled and deleted, the distribution lets the group and then the key go.
    dist_id = dist["Distribution"]["Id"]
    config = dist["Distribution"]["DistributionConfig"]
    config["Enabled"] = False
    off = cf.update_distribution(Id=dist_id, IfMatch=dist["ETag"], DistributionConfig=config)
    cf.delete_distribution(Id=dist_id, IfMatch=off["ETag"])
    cf.delete_key_group(Id=group_id, IfMatch=group["ETag"])
    cf.delete_public_key(Id=key_id, IfMatch=commented["ETag"])
    assert code_of(cf.get_public_key, Id=key_id) == "NoSuchPublicKey"
    with api.state.db.read() as session:
        made_records = audit_query(session, action="CreatePublicKey")
    mine = [r for r in made_records if r["parameters"]["PublicKeyConfig"]["CallerReference"] == ref]
    assert [r["result"] for r in mine] == ["Success", "Success", "PublicKeyAlreadyExists"]
    assert mine[0]["resource"] == key_id


def test_origin_access_controls(cf: Any) -> None:
    name = unique("oac")
    oac_config = {
        "Name": name,
        "Description": "bucket",
        "SigningProtocol": "sigv4",
        "SigningBehavior": "always",
        "OriginAccessControlOriginType": "s3",
    }
    made = cf.create_origin_access_control(OriginAccessControlConfig=oac_config)
    oac_id = made["OriginAccessControl"]["Id"]
    assert made["Location"].endswith(f"/origin-access-control/{oac_id}")
    code = code_of(cf.create_origin_access_control, OriginAccessControlConfig=oac_config)
    assert code == "OriginAccessControlAlreadyExists"
    mediastore = {
        **oac_config,
        "Name": unique("oac"),
        "OriginAccessControlOriginType": "mediastore",
    }
    code = code_of(cf.create_origin_access_control, OriginAccessControlConfig=mediastore)
    assert code == "InvalidArgument"
    listed = cf.list_origin_access_controls(MaxItems="100")["OriginAccessControlList"]
    assert listed["IsTruncated"] is False
    assert {"Id": oac_id, **oac_config} in listed["Items"]

    changed = cf.update_origin_access_control(
        Id=oac_id,
        IfMatch=made["ETag"],
        OriginAccessControlConfig={**oac_config, "SigningBehavior": "no-override"},
    )
    got = cf.get_origin_access_control(Id=oac_id)["OriginAccessControl"]
    assert got["OriginAccessControlConfig"]["SigningBehavior"] == "no-override"

    config = dist_config(unique())
    config["Origins"]["Items"][0] = {
        "Id": "app",
        "DomainName": "bucket.s3.us-east-1.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
        "OriginAccessControlId": oac_id,
    }
    dist = cf.create_distribution(DistributionConfig=config)
    origin = dist["Distribution"]["DistributionConfig"]["Origins"]["Items"][0]
    assert origin["OriginAccessControlId"] == oac_id
    code = code_of(cf.delete_origin_access_control, Id=oac_id, IfMatch=changed["ETag"])
    assert code == "OriginAccessControlInUse"
    assert code_of(cf.get_origin_access_control, Id="ENOSUCH") == "NoSuchOriginAccessControl"


def test_custom_policy_quota(tmp_path: Path) -> None:
    server = start_api(tmp_path, f"sqlite:///{tmp_path / 'control.db'}")
    try:
        cf = client(server.url)
        for i in range(20):
            cf.create_cache_policy(CachePolicyConfig=cache_policy(f"p{i}"))
        code = code_of(cf.create_cache_policy, CachePolicyConfig=cache_policy("p20"))
        assert code == "TooManyCachePolicies"
        assert cf.list_cache_policies(Type="custom")["CachePolicyList"]["Quantity"] == 20
    finally:
        server.stop()
