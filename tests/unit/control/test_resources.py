"""Account resources as plain data: validation codes, what a distribution uses, the edge's merge."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from openfront.config import OpenFrontConfig
from openfront.control.compat import checked_config, model_document
from openfront.control.errors import ApiError
from openfront.control.resources import (
    CACHE,
    KEY_GROUP,
    OAC,
    PUBLIC_KEY,
    Account,
    Resource,
    active_key_groups,
    resolve,
    validate,
)
from openfront.edge.follow import merge_resources, snapshot_config, split_version

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
POLICY_ID = "11111111-2222-4333-8444-555555555555"


def pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def account() -> Account:
    key, _ = validate(PUBLIC_KEY, {"CallerReference": "r", "Name": "k", "EncodedKey": pem()})
    return Account.of(
        [
            Resource(POLICY_ID, CACHE, validate(CACHE, {"Name": "short", "MinTTL": 0})[0]),
            Resource("KAAAAAAAAAAAAA", PUBLIC_KEY, key),
            Resource("kg-1", KEY_GROUP, {"Name": "signers", "Items": ["KAAAAAAAAAAAAA"]}),
            Resource("EOAC", OAC, validate(OAC, {"Name": "bucket"})[0]),
        ]
    )


def doc(**behavior: Any) -> dict[str, Any]:
    return {
        "CallerReference": "r",
        "Comment": "",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "origin.example.com"}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "o",
            "ViewerProtocolPolicy": "allow-all",
            **behavior,
        },
    }


def test_validation_uses_the_edge_models_and_cloudfront_codes() -> None:
    config, ref = validate(CACHE, {"Name": "p", "MinTTL": 0})
    assert ref is None and (config["DefaultTTL"], config["MaxTTL"]) == (86_400, 31_536_000)
    too_many = {
        "Name": "p",
        "MinTTL": 0,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "HeadersConfig": {
                "HeaderBehavior": "whitelist",
                "Headers": [f"h{i}" for i in range(11)],
            }
        },
    }
    cases: list[tuple[str, dict[str, Any], str]] = [
        (CACHE, too_many, "TooManyHeadersInCachePolicy"),
        (CACHE, {"Name": "p", "MinTTL": 9, "DefaultTTL": 1}, "InvalidTTLOrder"),
        (CACHE, {"Name": "bad name", "MinTTL": 0}, "InvalidArgument"),
        (PUBLIC_KEY, {"Name": "k", "EncodedKey": pem()}, "InvalidArgument"),  # no CallerReference
        (PUBLIC_KEY, {"CallerReference": "r", "Name": "k", "EncodedKey": "x"}, "InvalidArgument"),
    ]
    for kind, document, code in cases:
        with pytest.raises(ApiError) as caught:
            validate(kind, document)
        assert caught.value.code == code, caught.value.message
    key, ref = validate(PUBLIC_KEY, {"CallerReference": "r", "Name": "k", "EncodedKey": pem()})
    assert ref == "r" and "CallerReference" not in key  # edges never see it


def test_a_distribution_carries_exactly_the_resources_it_uses() -> None:
    trusted = {"Enabled": True, "Quantity": 1, "Items": ["kg-1"]}
    model, resolved = checked_config(
        doc(CachePolicyId="short", TrustedKeyGroups=trusted), account()
    )
    assert resolved.used == {POLICY_ID, "kg-1"}  # by Name as edges allow, stored by Id
    assert sorted(resolved.entries) == ["CachePolicies", "KeyGroups", "PublicKeys"]
    assert [e["Id"] for e in resolved.entries["PublicKeys"]] == ["KAAAAAAAAAAAAA"]
    wrapped = resolved.edge_config({"Comment": ""})
    assert wrapped["DistributionConfig"] == {"Comment": ""}

    # Managed policies and no references: the bare document, as versions always were.
    _, plain = checked_config(doc(CachePolicyId=CACHING_OPTIMIZED), account())
    assert plain.used == frozenset() and plain.edge_config({"A": 1}) == {"A": 1}
    with pytest.raises(ApiError) as caught:
        resolve(model, Account())  # the account lost the policy: the same model is refused
    assert caught.value.code == "NoSuchCachePolicy"


@pytest.mark.parametrize(
    ("behavior", "code"),
    [
        ({"CachePolicyId": "nope"}, "NoSuchCachePolicy"),
        ({"OriginRequestPolicyId": "nope"}, "NoSuchOriginRequestPolicy"),
        ({"ResponseHeadersPolicyId": "nope"}, "NoSuchResponseHeadersPolicy"),
        ({"TrustedKeyGroups": ["nope"]}, "TrustedKeyGroupDoesNotExist"),
        ({"CachePolicyId": "kg-1"}, "NoSuchCachePolicy"),  # an id of another kind
    ],
)
def test_unknown_references_get_cloudfront_codes(behavior: dict[str, Any], code: str) -> None:
    with pytest.raises(ApiError) as caught:
        checked_config(doc(**behavior), account())
    assert caught.value.code == code


def test_active_key_groups_list_each_group_once_with_its_keys() -> None:
    trusted = {"Enabled": True, "Quantity": 1, "Items": ["kg-1"]}
    api_doc = {
        "DefaultCacheBehavior": {"TrustedKeyGroups": trusted},
        "CacheBehaviors": {"Quantity": 1, "Items": [{"TrustedKeyGroups": trusted}]},
    }
    assert active_key_groups(api_doc, account()) == [
        {"KeyGroupId": "kg-1", "KeyPairIds": {"Quantity": 1, "Items": ["KAAAAAAAAAAAAA"]}}
    ]
    assert active_key_groups({"DefaultCacheBehavior": {}}, account()) == []


def test_edges_split_versions_and_merge_resources_newest_first() -> None:
    bare = {"Comment": "old format"}
    assert split_version(bare) == (bare, {})
    wrapped = {"DistributionConfig": bare, "CachePolicies": [{"Id": "p", "v": 1}]}
    assert split_version(wrapped) == (bare, {"CachePolicies": [{"Id": "p", "v": 1}]})
    merged = merge_resources(
        [
            (7, {"CachePolicies": [{"Id": "p", "v": 2}], "KeyGroups": [{"Id": "g"}]}),
            (3, {"CachePolicies": [{"Id": "p", "v": 1}, {"Id": "q", "v": 1}]}),
            (9, {"Unknown": True}),
        ]
    )
    assert merged == {
        "CachePolicies": [{"Id": "p", "v": 2}, {"Id": "q", "v": 1}],
        "KeyGroups": [{"Id": "g"}],
        "Unknown": True,  # passed on, so the model refuses it by name
    }


def test_a_snapshot_mixes_old_bare_and_new_wrapped_versions() -> None:
    base = OpenFrontConfig.model_construct(distributions=())
    old = doc(CachePolicyId=CACHING_OPTIMIZED)
    model, resolved = checked_config(doc(CachePolicyId=POLICY_ID), account())
    new = resolved.edge_config(model_document(model))
    cfg = snapshot_config(
        base,
        {
            "E1": {"seq": 1, "config": {k: v for k, v in old.items() if k != "CallerReference"}},
            "E2": {"seq": 2, "config": new, "domain_name": "e2.example.net"},
        },
    )
    assert [d.id for d in cfg.distributions] == ["E1", "E2"]
    assert [p.id for p in cfg.cache_policies] == [POLICY_ID]
