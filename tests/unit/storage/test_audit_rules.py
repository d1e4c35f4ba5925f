"""The auditor's decisions as tables: statuses, winners, repairs, tombstones, listing merge."""

from __future__ import annotations

import pytest

from openfront.storage.audit_rules import (
    Action,
    ActionKind,
    ObjectState,
    Status,
    Tally,
    decide,
    merge_listings,
    needs_metadata,
    same_object,
    winner,
)

REGIONS = {"a": "ap-northeast-2", "b": "sa-east-1"}
NOW = 1_000_000.0
GRACE = 60.0
SEOUL = "1000000000000000000-ap-northeast-2"
SAO_PAULO_LATER = "1000000000000000001-sa-east-1"
SEOUL_SAME_NS = "1000000000000000001-ap-northeast-2"


def obj(
    etag: str = "e1", size: int = 10, age: float = 600.0, version: str | None = None
) -> ObjectState:
    meta = {"openfront-version": version} if version else {}
    return ObjectState(f'"{etag}"', size, NOW - age, version, meta if version else None)


@pytest.mark.parametrize(
    ("a", "b", "deleted_at", "status", "action", "source"),
    [
        # equal: COMPLETED; the stamp names the writer (REPLICA on the other side)
        (obj(version=SEOUL), obj(version=SEOUL), None, Status.COMPLETED, None, "a"),
        (obj(), obj(), None, Status.COMPLETED, None, None),
        (obj(age=700), obj(age=600), None, Status.COMPLETED, None, "a"),
        # a copy the auditor made of a multipart object: another ETag, same stamp and size
        (obj("m-2", version=SEOUL), obj("md5", version=SEOUL), None, Status.COMPLETED, None, "a"),
        # differ, recent: PENDING; old: FAILED and the newer stamp wins
        (obj("x", age=5), obj("y", age=5), None, Status.PENDING, None, "b"),  # ETag tie-break
        (
            obj("x", version=SEOUL),
            obj("y", version=SAO_PAULO_LATER),
            None,
            Status.FAILED,
            Action(ActionKind.COPY, target="a", source="b"),
            "b",
        ),
        # same nanosecond: the region name breaks the tie (sa-east-1 > ap-northeast-2)
        (
            obj("x", version=SEOUL_SAME_NS),
            obj("y", version=SAO_PAULO_LATER),
            None,
            Status.FAILED,
            Action(ActionKind.COPY, target="a", source="b"),
            "b",
        ),
        # no stamps: the later LastModified wins
        (
            obj("x", age=100),
            obj("y", age=200),
            None,
            Status.FAILED,
            Action(ActionKind.COPY, target="b", source="a"),
            "a",
        ),
        # same body, different metadata (read by HEAD): FAILED, newer stamp wins
        (
            obj(version=SAO_PAULO_LATER),
            obj(version=SEOUL),
            None,
            Status.FAILED,
            Action(ActionKind.COPY, target="b", source="a"),
            "a",
        ),
        # missing on one side
        (obj(age=5), None, None, Status.PENDING, None, "a"),
        (obj(), None, None, Status.FAILED, Action(ActionKind.COPY, target="b", source="a"), "a"),
        (None, obj(), None, Status.FAILED, Action(ActionKind.COPY, target="a", source="b"), "b"),
        # a delete recorded after the copy was written: the delete is the last writer
        (obj(age=600), None, NOW - 300, Status.FAILED, Action(ActionKind.DELETE, "a"), "a"),
        # ... but a delete older than the copy never removes it
        (obj(age=300), None, NOW - 600, Status.FAILED, Action(ActionKind.COPY, "b", "a"), "a"),
        # a recent delete keeps the key PENDING (it may still be replicating)
        (obj(age=600), None, NOW - 5, Status.PENDING, None, "a"),
    ],
)
def test_decide(
    a: ObjectState | None,
    b: ObjectState | None,
    deleted_at: float | None,
    status: Status,
    action: Action | None,
    source: str | None,
) -> None:
    verdict = decide("k", a, b, regions=REGIONS, now=NOW, grace=GRACE, deleted_at=deleted_at)
    assert (verdict.status, verdict.action, verdict.source) == (status, action, source)


def test_replica_side_reports_replica() -> None:
    verdict = decide(
        "k", obj(version=SEOUL), obj(version=SEOUL), regions=REGIONS, now=NOW, grace=GRACE
    )
    assert verdict.side_status("a") is Status.COMPLETED
    assert verdict.side_status("b") is Status.REPLICA


def test_the_winner_is_the_same_whichever_side_is_a() -> None:
    x, y = obj("x", version=SEOUL), obj("y", version=SAO_PAULO_LATER)
    assert winner(x, y) == "b" and winner(y, x) == "a"
    p, q = obj("p", age=100), obj("q", age=100)  # equal times: the ETag decides
    assert {winner(p, q), winner(q, p)} == {"a", "b"}


def test_metadata_is_read_only_where_needed() -> None:
    assert not needs_metadata(obj(), obj(), deep=False)
    assert needs_metadata(obj(), obj(), deep=True)
    assert needs_metadata(obj("x"), obj("y"), deep=False)
    assert needs_metadata(obj(), None, deep=False)


def test_same_object_compares_versions_when_metadata_was_not_read() -> None:
    plain = ObjectState("e", 1, 0.0)
    assert same_object(plain, plain)
    assert not same_object(ObjectState("e", 1, 0.0, "v1"), ObjectState("e", 1, 0.0, "v2"))
    assert not same_object(ObjectState("e", 1, 0.0), ObjectState("e", 2, 0.0))


def test_merge_listings_joins_by_utf8_order() -> None:
    a = [("a", obj()), ("b", obj()), ("é", obj())]
    b = [("b", obj()), ("c", obj()), ("z", obj())]
    merged = [(k, x is not None, y is not None) for k, x, y in merge_listings(a, b)]
    assert merged == [
        ("a", True, False),
        ("b", True, True),
        ("c", False, True),
        ("z", False, True),
        ("é", True, False),
    ]


def test_decide_refuses_a_key_neither_side_holds() -> None:
    with pytest.raises(ValueError):
        decide("k", None, None, regions=REGIONS, now=NOW, grace=GRACE)


def test_tally_counts_lag_and_divergence() -> None:
    tally = Tally()
    for a, b in (
        (obj(version=SEOUL), obj(version=SEOUL)),
        (obj("x", age=5), obj("y", age=5)),
        (obj("x", age=20), None),
        (obj("x"), obj("y")),
    ):
        tally.add(decide("k", a, b, regions=REGIONS, now=NOW, grace=GRACE))
    assert tally.counts == {"PENDING": 2, "COMPLETED": 1, "FAILED": 1, "REPLICA": 1}
    assert tally.lag == 20.0 and tally.divergent == 1
