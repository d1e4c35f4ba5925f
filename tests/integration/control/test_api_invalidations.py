"""Invalidations through boto3: idempotent CallerReference, path rules, quotas, listing."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.integration.control.helpers import ApiThread, dist_config, unique


@pytest.fixture(scope="module")
def dist_id(cf: Any) -> str:
    created = cf.create_distribution(DistributionConfig=dist_config(unique()))
    return str(created["Distribution"]["Id"])


def batch(ref: str, *paths: str) -> dict[str, Any]:
    return {"Paths": {"Quantity": len(paths), "Items": list(paths)}, "CallerReference": ref}


def code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response: Any = exc.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_create_get_and_idempotency(api: ApiThread, cf: Any, dist_id: str) -> None:
    ref = unique()
    made = cf.create_invalidation(DistributionId=dist_id, InvalidationBatch=batch(ref, "/a", "/b*"))
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
    inv = made["Invalidation"]
    assert inv["Id"].startswith("I") and len(inv["Id"]) == 14
    assert inv["Status"] == "Completed"  # no edge fleet yet: completed at once
    assert inv["InvalidationBatch"]["Paths"]["Items"] == ["/a", "/b*"]
    assert made["Location"] == (
        f"{api.url}/2020-05-31/distribution/{dist_id}/invalidation/{inv['Id']}"
    )
    got = cf.get_invalidation(DistributionId=dist_id, Id=inv["Id"])["Invalidation"]
    assert got["InvalidationBatch"]["CallerReference"] == ref
    # The same reference and paths (in any order) return the same invalidation.
    again = cf.create_invalidation(
        DistributionId=dist_id, InvalidationBatch=batch(ref, "/b*", "/a")
    )
    assert again["Invalidation"]["Id"] == inv["Id"]
    with pytest.raises(ClientError) as exc:
        cf.create_invalidation(DistributionId=dist_id, InvalidationBatch=batch(ref, "/c"))
    assert code(exc) == ("InvalidationBatchAlreadyExists", 409)
    waiter = cf.get_waiter("invalidation_completed")
    waiter.wait(DistributionId=dist_id, Id=inv["Id"], WaiterConfig={"Delay": 1, "MaxAttempts": 2})


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["no-slash"], "InvalidArgument"),
        (["/a*b"], "InvalidArgument"),
        (["/with space"], "InvalidArgument"),
        (["/" + "x" * 4000], "InvalidArgument"),
        ([f"/p{i}*" for i in range(16)], "BatchTooLarge"),
    ],
)
def test_bad_paths(cf: Any, dist_id: str, paths: list[str], expected: str) -> None:
    with pytest.raises(ClientError) as exc:
        cf.create_invalidation(DistributionId=dist_id, InvalidationBatch=batch(unique(), *paths))
    assert code(exc)[0] == expected


def test_inconsistent_quantity(cf: Any, dist_id: str) -> None:
    wrong = {"Paths": {"Quantity": 3, "Items": ["/a"]}, "CallerReference": unique()}
    with pytest.raises(ClientError) as exc:
        cf.create_invalidation(DistributionId=dist_id, InvalidationBatch=wrong)
    assert code(exc) == ("InconsistentQuantities", 400)


def test_unknown_distribution_and_invalidation(cf: Any, dist_id: str) -> None:
    with pytest.raises(ClientError) as exc:
        cf.create_invalidation(DistributionId="ENOSUCHDIST123", InvalidationBatch=batch("r", "/a"))
    assert code(exc) == ("NoSuchDistribution", 404)
    with pytest.raises(ClientError) as exc:
        cf.get_invalidation(DistributionId=dist_id, Id="INOSUCHINVALID")
    assert code(exc) == ("NoSuchInvalidation", 404)


def test_list_newest_first_with_paging(cf: Any) -> None:
    own = cf.create_distribution(DistributionConfig=dist_config(unique()))["Distribution"]["Id"]
    made = [
        cf.create_invalidation(DistributionId=own, InvalidationBatch=batch(unique(), f"/{i}"))[
            "Invalidation"
        ]["Id"]
        for i in range(5)
    ]
    seen: list[str] = []
    marker = ""
    while True:
        page = cf.list_invalidations(DistributionId=own, Marker=marker, MaxItems="2")
        listing = page["InvalidationList"]
        seen += [i["Id"] for i in listing.get("Items", [])]
        if not listing["IsTruncated"]:
            break
        marker = listing["NextMarker"]
    assert seen == made[::-1]
    with pytest.raises(ClientError) as exc:
        cf.list_invalidations(DistributionId=own, Marker="INOTANINVALID1")
    assert code(exc) == ("InvalidArgument", 400)
