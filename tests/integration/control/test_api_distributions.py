"""boto3 drives distributions through their life cycle, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import copy
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.integration.control.helpers import ApiThread, client, dist_config, unique


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response: Any = exc.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def create(cf: Any, **over: Any) -> dict[str, Any]:
    result: dict[str, Any] = cf.create_distribution(
        DistributionConfig=dist_config(unique(), **over)
    )
    return result


def test_life_cycle(api: ApiThread, cf: Any) -> None:
    ref = unique()
    created = cf.create_distribution(DistributionConfig=dist_config(ref, Comment="v1"))
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    dist = created["Distribution"]
    dist_id, etag = dist["Id"], created["ETag"]
    assert dist_id.startswith("E") and len(dist_id) == 14 and dist_id.isupper()
    assert created["Location"] == f"{api.url}/2020-05-31/distribution/{dist_id}"
    assert dist["ARN"] == f"arn:aws:cloudfront::000000000000:distribution/{dist_id}"
    assert dist["DomainName"] == f"{dist_id.lower()}.cloudfront.openfront.local"
    assert dist["Status"] == "Deployed"  # no edge fleet yet: deployed at once
    assert dist["DistributionConfig"]["Comment"] == "v1"
    assert created["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]

    got = cf.get_distribution(Id=dist_id)
    assert got["ETag"] == etag
    assert got["Distribution"]["DistributionConfig"] == dist["DistributionConfig"]

    config = cf.get_distribution_config(Id=dist_id)
    assert config["ETag"] == etag
    new = copy.deepcopy(config["DistributionConfig"])
    new["Comment"] = "v2"
    updated = cf.update_distribution(Id=dist_id, IfMatch=etag, DistributionConfig=new)
    assert updated["ETag"] != etag
    assert updated["Distribution"]["DistributionConfig"]["Comment"] == "v2"
    assert cf.get_distribution_config(Id=dist_id)["DistributionConfig"]["Comment"] == "v2"

    with pytest.raises(ClientError) as stale:
        cf.update_distribution(Id=dist_id, IfMatch=etag, DistributionConfig=new)
    assert error_of(stale) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as missing:
        cf.update_distribution(Id=dist_id, DistributionConfig=new)
    assert error_of(missing) == ("InvalidIfMatchVersion", 400)

    with pytest.raises(ClientError) as enabled:
        cf.delete_distribution(Id=dist_id, IfMatch=updated["ETag"])
    assert error_of(enabled) == ("DistributionNotDisabled", 409)

    new["Enabled"] = False
    disabled = cf.update_distribution(Id=dist_id, IfMatch=updated["ETag"], DistributionConfig=new)
    assert disabled["Distribution"]["DistributionConfig"]["Enabled"] is False
    with pytest.raises(ClientError) as old_etag:
        cf.delete_distribution(Id=dist_id, IfMatch=updated["ETag"])
    assert error_of(old_etag) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as no_etag:
        cf.delete_distribution(Id=dist_id)
    assert error_of(no_etag) == ("InvalidIfMatchVersion", 400)

    deleted = cf.delete_distribution(Id=dist_id, IfMatch=disabled["ETag"])
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(cf.exceptions.NoSuchDistribution):
        cf.get_distribution(Id=dist_id)
    # The caller reference of a deleted distribution is free again.
    again = cf.create_distribution(DistributionConfig=dist_config(ref))
    assert again["Distribution"]["Id"] != dist_id


def test_caller_reference_is_idempotent(cf: Any) -> None:
    config = dist_config(unique())
    first = cf.create_distribution(DistributionConfig=config)
    second = cf.create_distribution(DistributionConfig=config)
    assert second["Distribution"]["Id"] == first["Distribution"]["Id"]
    assert second["ETag"] == first["ETag"]
    with pytest.raises(ClientError) as exc:
        cf.create_distribution(DistributionConfig={**config, "Comment": "different"})
    assert error_of(exc) == ("DistributionAlreadyExists", 409)


def test_caller_reference_cannot_change(cf: Any) -> None:
    created = create(cf)
    config = cf.get_distribution_config(Id=created["Distribution"]["Id"])
    changed = {**config["DistributionConfig"], "CallerReference": unique()}
    with pytest.raises(ClientError) as exc:
        cf.update_distribution(
            Id=created["Distribution"]["Id"], IfMatch=config["ETag"], DistributionConfig=changed
        )
    assert error_of(exc) == ("IllegalUpdate", 400)


def test_unknown_distribution(cf: Any) -> None:
    for call in (
        lambda: cf.get_distribution(Id="ENOSUCHDIST123"),
        lambda: cf.get_distribution_config(Id="ENOSUCHDIST123"),
        lambda: cf.update_distribution(
            Id="ENOSUCHDIST123", IfMatch="E1", DistributionConfig=dist_config(unique())
        ),
        lambda: cf.delete_distribution(Id="ENOSUCHDIST123", IfMatch="E1"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc) == ("NoSuchDistribution", 404)


def test_list_pages_with_marker(cf: Any) -> None:
    before = {d["Id"] for d in _all_items(cf, 1000)}
    made = {create(cf)["Distribution"]["Id"] for _ in range(5)}
    seen: list[str] = []
    marker = ""
    pages = 0
    while True:
        page = cf.list_distributions(Marker=marker, MaxItems="2")["DistributionList"]
        pages += 1
        assert page["MaxItems"] == 2 and page["Quantity"] == len(page.get("Items", []))
        seen += [d["Id"] for d in page.get("Items", [])]
        if not page["IsTruncated"]:
            assert "NextMarker" not in page
            break
        marker = page["NextMarker"]
        assert marker == seen[-1]
    assert set(seen) == before | made and len(seen) == len(set(seen))
    assert pages >= 3
    summary = cf.list_distributions(MaxItems="1")["DistributionList"]["Items"][0]
    assert {"Id", "ARN", "ETag", "Status", "DomainName", "Origins", "PriceClass"} <= set(summary)
    paginated = [
        d["Id"]
        for p in cf.get_paginator("list_distributions").paginate(PaginationConfig={"PageSize": 3})
        for d in p["DistributionList"].get("Items", [])
    ]
    assert paginated == seen
    with pytest.raises(ClientError) as exc:
        cf.list_distributions(MaxItems="zero")
    assert error_of(exc) == ("InvalidArgument", 400)


def _all_items(cf: Any, max_items: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = cf.list_distributions(MaxItems=str(max_items))[
        "DistributionList"
    ].get("Items", [])
    return items


def test_bad_configs_get_cloudfront_errors(cf: Any) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"Origins": {"Quantity": 2, "Items": dist_config("x")["Origins"]["Items"]}},
            "InconsistentQuantities",
        ),
        (
            {
                "DefaultCacheBehavior": {
                    "TargetOriginId": "nowhere",
                    "ViewerProtocolPolicy": "allow-all",
                }
            },
            "InvalidArgument",
        ),
        (
            {
                "DefaultCacheBehavior": {
                    "TargetOriginId": "app",
                    "ViewerProtocolPolicy": "allow-all",
                    "CachePolicyId": "00000000-0000-0000-0000-000000000000",
                }
            },
            "NoSuchCachePolicy",
        ),
        (
            {
                "DefaultCacheBehavior": {
                    "TargetOriginId": "app",
                    "ViewerProtocolPolicy": "allow-all",
                    "LambdaFunctionAssociations": {
                        "Quantity": 1,
                        "Items": [
                            {
                                "LambdaFunctionARN": "arn:aws:lambda:us-east-1:1:function:f:1",
                                "EventType": "viewer-request",
                            }
                        ],
                    },
                }
            },
            "InvalidArgument",  # a setting OpenFront cannot honour is refused, not ignored
        ),
    ]
    for over, code in cases:
        with pytest.raises(ClientError) as exc:
            create(cf, **over)
        assert error_of(exc)[0] == code, exc.value.response["Error"]


def test_cnames_are_unique_across_distributions(cf: Any) -> None:
    host = f"{unique('www')}.example.com"
    create(cf, Aliases={"Quantity": 1, "Items": [host]})
    with pytest.raises(ClientError) as exc:
        create(cf, Aliases={"Quantity": 1, "Items": [host.upper()]})
    assert error_of(exc) == ("CNAMEAlreadyExists", 409)


def test_cloudfront_fields_round_trip(cf: Any) -> None:
    """Fields with no effect here are kept and echoed; legacy TTL settings still work."""
    created = create(
        cf,
        PriceClass="PriceClass_100",
        IsIPV6Enabled=False,
        Logging={"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""},
        DefaultCacheBehavior={
            "TargetOriginId": "app",
            "ViewerProtocolPolicy": "redirect-to-https",
            "ForwardedValues": {
                "QueryString": True,
                "Cookies": {"Forward": "none"},
                "Headers": {"Quantity": 1, "Items": ["Origin"]},
            },
            "MinTTL": 5,
            "DefaultTTL": 60,
            "MaxTTL": 3600,
            "SmoothStreaming": False,
            "LambdaFunctionAssociations": {"Quantity": 0},
            "FieldLevelEncryptionId": "",
        },
    )
    config = cf.get_distribution_config(Id=created["Distribution"]["Id"])["DistributionConfig"]
    assert config["PriceClass"] == "PriceClass_100"
    assert config["IsIPV6Enabled"] is False
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ForwardedValues"]["Headers"]["Items"] == ["Origin"]
    assert (behavior["MinTTL"], behavior["DefaultTTL"], behavior["MaxTTL"]) == (5, 60, 3600)
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"]["Items"] == ["GET", "HEAD"]  # the model's default shown


def test_concurrent_updates_with_one_etag_one_wins(api: ApiThread, cf: Any) -> None:
    created = create(cf)
    dist_id, etag = created["Distribution"]["Id"], created["ETag"]
    config = cf.get_distribution_config(Id=dist_id)["DistributionConfig"]
    writers = 8
    barrier = threading.Barrier(writers)
    results: list[str] = []
    lock = threading.Lock()

    def update(n: int) -> None:
        mine = client(api.url)
        barrier.wait(10)
        try:
            mine.update_distribution(
                Id=dist_id, IfMatch=etag, DistributionConfig={**config, "Comment": f"writer {n}"}
            )
            outcome = f"ok {n}"
        except ClientError as exc:
            outcome = exc.response["Error"]["Code"]
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=update, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    winners = [r for r in results if r.startswith("ok")]
    assert len(winners) == 1, results
    assert results.count("PreconditionFailed") == writers - 1
    final = cf.get_distribution_config(Id=dist_id)["DistributionConfig"]
    assert final["Comment"] == f"writer {winners[0].split()[1]}"
