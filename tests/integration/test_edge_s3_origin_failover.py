"""An origin group of two regions' buckets: a stopped region fails over to the other, each member
signed with its own credentials and region."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from tests.support.client import request
from tests.support.edge import FOLLOW_ORIGIN, config
from tests.support.s3stores import KINDS, S3Store, start_s3

KEY = "video/seg-001.ts"


@pytest.fixture(params=KINDS)
def regions(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[S3Store, S3Store]]:
    kind = request.param
    seoul = start_s3(kind, tmp_path_factory.mktemp("seoul"), "ap-northeast-2", "media-seoul")
    try:
        saopaulo = start_s3(kind, tmp_path_factory.mktemp("sp"), "sa-east-1", "media-saopaulo")
    except BaseException:
        seoul.stop()
        raise
    yield seoul, saopaulo
    seoul.stop()
    saopaulo.stop()


def _origin(oid: str, store: S3Store) -> dict[str, Any]:
    return {
        "Id": oid,
        "DomainName": store.domain,
        "ConnectionAttempts": 1,
        "ConnectionTimeout": 1,
        "S3OriginConfig": {"OriginReadTimeout": 5},
        "OriginAccessControlId": "EOAC1",
    }


async def test_stopped_region_fails_over_to_the_other(
    regions: tuple[S3Store, S3Store], make_edge: Any
) -> None:
    seoul, saopaulo = regions
    for store, body in ((seoul, b"from seoul"), (saopaulo, b"from sao paulo")):
        store.client().put_object(Bucket=store.bucket, Key=KEY, Body=body)
    policy = copy.deepcopy(FOLLOW_ORIGIN)  # TTL 0: every request goes to the origin group
    dist = {
        "Origins": [_origin("seoul", seoul), _origin("saopaulo", saopaulo)],
        "OriginGroups": [
            {
                "Id": "media",
                "FailoverCriteria": {"StatusCodes": [500, 502, 503, 504]},
                "Members": ["seoul", "saopaulo"],
            }
        ],
        "DefaultCacheBehavior": {"TargetOriginId": "media", "CachePolicyConfig": policy},
    }
    oac = {"Id": "EOAC1", "OriginAccessControlConfig": {"Name": "media"}}
    cfg = config(
        dist,
        top={"OriginAccessControls": [oac]},
        s3_origins=[seoul.edge_entry(), saopaulo.edge_entry()],
    )
    edge = await make_edge(cfg=cfg)
    r = await request(edge.port, path=f"/{KEY}")
    assert (r.status, r.body) == (200, b"from seoul")
    seoul.stop()
    r = await request(edge.port, path=f"/{KEY}")
    assert (r.status, r.body) == (200, b"from sao paulo")  # signed for sa-east-1 with its key
