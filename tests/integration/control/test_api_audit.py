"""The audit trail: every mutating call, refused or not, with secrets redacted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.integration.control.helpers import (
    ROOT_KEY,
    ApiThread,
    client,
    dist_config,
    raw_request,
    unique,
)


def audit_lines(api: ApiThread, query: str) -> list[dict[str, Any]]:
    status, headers, body = raw_request(api.url, "GET", f"/openfront/audit?{query}")
    assert status == 200 and headers["Content-Type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in body.decode().splitlines()]


def test_changes_and_refusals_are_recorded(api: ApiThread, cf: Any) -> None:
    secret_value = unique("origin-secret")
    config = dist_config(unique(), Comment="private comment")
    config["Origins"]["Items"][0]["CustomHeaders"] = {
        "Quantity": 1,
        "Items": [{"HeaderName": "X-Origin-Token", "HeaderValue": secret_value}],
    }
    created = cf.create_distribution(DistributionConfig=config)
    dist_id = created["Distribution"]["Id"]
    request_id = created["ResponseMetadata"]["RequestId"]
    with pytest.raises(ClientError):
        cf.delete_distribution(Id=dist_id, IfMatch=created["ETag"])  # still enabled
    with pytest.raises(ClientError):
        client(api.url, key="AKOFSOMEONEELSE00001").delete_distribution(Id=dist_id, IfMatch="x")
    cf.get_distribution(Id=dist_id)  # reads are not recorded

    records = audit_lines(api, f"principal={ROOT_KEY}&action=CreateDistribution")
    mine = [r for r in records if r["resource"] == dist_id]
    assert len(mine) == 1
    record = mine[0]
    assert record["requestId"] == request_id
    assert record["result"] == "Success" and record["httpStatus"] == 201
    assert record["sourceIp"] == "127.0.0.1"
    assert record["userAgent"].startswith("Boto3/")
    sent = record["parameters"]["DistributionConfig"]
    assert sent["CallerReference"] == config["CallerReference"]
    header = sent["Origins"]["Items"][0]["CustomHeaders"]["Items"][0]
    assert header == {"HeaderName": "X-Origin-Token", "HeaderValue": "*** redacted ***"}
    assert sent["Comment"] == "*** redacted ***"  # the model marks comments sensitive too

    deletes = [r for r in audit_lines(api, "action=DeleteDistribution") if r["resource"] == dist_id]
    assert [(r["principal"], r["result"], r["httpStatus"]) for r in deletes] == [
        (ROOT_KEY, "DistributionNotDisabled", 409),
        ("AKOFSOMEONEELSE00001", "InvalidClientTokenId", 403),
    ]
    everything = json.dumps(audit_lines(api, "limit=10000"))
    assert secret_value not in everything
    assert not [r for r in audit_lines(api, "limit=10000") if r["action"] == "GetDistribution"]


def test_time_filters(api: ApiThread) -> None:
    # Query values are percent-encoded, as SigV4's canonical query requires.
    assert audit_lines(api, "since=2999-01-01T00%3A00%3A00Z") == []
    assert audit_lines(api, "until=2000-01-01T00%3A00%3A00Z") == []
    assert audit_lines(api, "since=2000-01-01T00%3A00%3A00Z&limit=1") != []
    status, _, _ = raw_request(api.url, "GET", "/openfront/audit?since=yesterday")
    assert status == 400
    status, _, _ = raw_request(api.url, "GET", "/openfront/audit", sign=False)
    assert status == 403
