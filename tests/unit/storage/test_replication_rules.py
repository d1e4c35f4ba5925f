"""Version stamps, collision-free keys, filer.sync's command line, the Replication config,
filer.meta.tail parsing and volume.fsck's totals."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from openfront.config.storage import default_storage, parse_storage
from openfront.errors import ConfigError, StorageError
from openfront.storage.events import ObjectEvent, Offset, RecordSplitter, parse_record
from openfront.storage.fsck import fsck_script, parse_fsck
from openfront.storage.replication import SyncPair, SyncSide, sync_command
from openfront.storage.versioning import (
    StampClock,
    VersionStamp,
    key_region,
    next_stamp,
    parse_stamp,
    upload_key,
)


def test_stamps_are_totally_ordered_and_round_trip() -> None:
    a = VersionStamp(5, "ap-northeast-2")
    b = VersionStamp(5, "sa-east-1")
    assert a < b < VersionStamp(6, "ap-northeast-2")
    assert parse_stamp(str(b)) == b
    assert str(a) == "0000000000000000005-ap-northeast-2"
    for bad in (None, "", "5-sa-east-1", "0000000000000000005-nowhere", "x" * 30):
        assert parse_stamp(bad) is None


def test_the_clock_never_goes_back() -> None:
    clock = StampClock("sa-east-1")
    first = clock.stamp(1000)
    assert clock.stamp(900).ns == 1001  # wall clock stepped back
    assert clock.stamp(1000).ns == 1002
    assert clock.stamp(5000).ns == 5000 > first.ns
    assert next_stamp(None, 7, "sa-east-1") == VersionStamp(7, "sa-east-1")


def test_upload_keys_name_the_writing_region() -> None:
    stamp = VersionStamp(1_795_628_836_528_308_734, "sa-east-1")
    key = upload_key("42", "../My Clip (1).mp4", stamp)
    assert key == "videos/42/1795628836528308734-sa-east-1_My_Clip_1_.mp4"
    assert key_region(key) == "sa-east-1"
    other = upload_key("42", "../My Clip (1).mp4", VersionStamp(stamp.ns, "ap-northeast-2"))
    assert other != key  # the same second, the same file, two regions: two keys
    assert key_region("videos/42/clip.mp4") is None
    with pytest.raises(ValueError):
        upload_key("///", "x.mp4", stamp)


def _pair(bidirectional: bool = True) -> SyncPair:
    a = SyncSide("ap-northeast-2", "m-a", "http://a", "/a.json", "127.0.0.1:1.2")
    b = SyncSide("sa-east-1", "m-b", "http://b", "/b.json", "127.0.0.1:3.4")
    return SyncPair("media", a, b, bidirectional)


def test_filer_sync_command_line() -> None:
    argv = sync_command("weed", _pair(), log_dir=Path("/d/run/x"), metrics_port=9999)
    assert argv == (
        "weed",
        "-logdir=/d/run/x",
        "-alsologtostderr=false",
        "filer.sync",
        "-a=127.0.0.1:1.2",
        "-b=127.0.0.1:3.4",
        "-a.path=/buckets/m-a",
        "-b.path=/buckets/m-b",
        "-metricsIp=127.0.0.1",
        "-metricsPort=9999",
    )
    assert _pair().service == "replication-ap-northeast-2-sa-east-1"
    one_way = sync_command("weed", _pair(False), log_dir=Path("/x"), metrics_port=1)
    assert one_way[-1] == "-isActivePassive"
    assert SyncPair.from_json(_pair().to_json()) == _pair()


def test_the_demo_replicates_its_two_media_buckets() -> None:
    config = default_storage(["http://localhost:8080"])
    (rule,) = config.enabled_rules()
    assert (rule.source.bucket, rule.destination.bucket) == (
        "mediahub-ap-northeast-2",
        "mediahub-sa-east-1",
    )
    assert rule.bidirectional


def _storage(rules: list[dict[str, Any]], external: bool = False) -> dict[str, Any]:
    second: dict[str, Any] = {"Name": "sa-east-1", "Buckets": [{"Name": "b-bucket"}]}
    if external:
        second |= {"Managed": False, "Endpoint": "https://s3.example"}
    return {
        "Regions": [{"Name": "ap-northeast-2", "Buckets": [{"Name": "a-bucket"}]}, second],
        "Replication": {"Rules": rules},
    }


RULE = {
    "ID": "r1",
    "Source": {"Region": "ap-northeast-2", "Bucket": "a-bucket"},
    "Destination": {"Region": "sa-east-1", "Bucket": "b-bucket"},
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Destination": {"Region": "eu-west-1", "Bucket": "b-bucket"}}, "not a listed region"),
        ({"Destination": {"Region": "sa-east-1", "Bucket": "nope"}}, "is not a bucket of"),
        ({"Destination": {"Region": "ap-northeast-2", "Bucket": "a-bucket"}}, "in one region"),
        ({"ID": "bad id!"}, "ID"),
    ],
)
def test_replication_rules_are_checked(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_storage(_storage([RULE | change]), "test")


def test_one_rule_per_region_pair_and_managed_stores_only() -> None:
    second = RULE | {"ID": "r2"}
    with pytest.raises(ConfigError, match="already replicates"):
        parse_storage(_storage([RULE, second]), "test")
    with pytest.raises(ConfigError, match="is external"):
        parse_storage(_storage([RULE], external=True), "test")
    disabled = parse_storage(_storage([RULE | {"Status": "Disabled"}]), "test")
    assert disabled.enabled_rules() == []


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _record(
    old: Any, new: Any, *, echo: bool = False, ts: int = 10, d: str = "/buckets/m/v"
) -> Any:
    return {
        "directory": d,
        "eventNotification": {
            "oldEntry": old,
            "newEntry": new,
            "newParentPath": d,
            "isFromOtherCluster": echo,
        },
        "tsNs": str(ts),
    }


ENTRY = {
    "name": "clip.mp4",
    "isDirectory": False,
    "attributes": {"fileSize": "100", "mime": "video/mp4", "md5": ""},
    "extended": {
        "Seaweed-X-Amz-ETag": _b64("abc-2"),
        "X-Amz-Meta-Openfront-Version": _b64("0000000000000000005-sa-east-1"),
    },
}


def test_filer_records_become_object_events() -> None:
    (created,) = parse_record(_record(None, ENTRY), "sa-east-1")
    assert created == ObjectEvent(
        "create",
        "m",
        "v/clip.mp4",
        "sa-east-1",
        10,
        100,
        "abc-2",
        "0000000000000000005-sa-east-1",
        "video/mp4",
        False,
    )
    (updated,) = parse_record(_record(ENTRY, ENTRY, echo=True), "sa-east-1")
    assert (updated.kind, updated.from_replication) == ("update", True)
    (deleted,) = parse_record(_record(ENTRY, None), "sa-east-1")
    assert deleted.kind == "delete"
    renamed = parse_record(_record(ENTRY, ENTRY | {"name": "new.mp4"}), "sa-east-1")
    assert [(e.kind, e.key) for e in renamed] == [("delete", "v/clip.mp4"), ("create", "v/new.mp4")]
    md5 = ENTRY | {"extended": {}, "attributes": {"md5": base64.b64encode(b"\x01\x02").decode()}}
    assert parse_record(_record(None, md5), "x")[0].etag == "0102"


@pytest.mark.parametrize(
    "record",
    [
        _record(None, ENTRY | {"isDirectory": True}),
        _record(None, ENTRY, d="/buckets/m/.uploads/123"),  # multipart parts
        _record(None, ENTRY, d="/etc/seaweedfs"),
        _record(None, None),
        {"tsNs": "not a number"},
    ],
)
def test_records_that_are_not_objects_give_no_events(record: Any) -> None:
    assert parse_record(record, "r") == []


def test_the_splitter_reassembles_pretty_printed_records() -> None:
    text = json.dumps({"a": 1}, indent=2) + "\n" + json.dumps({"b": "}{"}, indent=2)
    splitter = RecordSplitter()
    got = [r for i in range(0, len(text), 7) for r in splitter.feed(text[i : i + 7])]
    assert got == [{"a": 1}, {"b": "}{"}]
    assert list(RecordSplitter(limit=8).feed('{"never closed' + "x" * 20 + '{"c": 2}')) == [
        {"c": 2}
    ]


def test_the_offset_drops_replayed_events() -> None:
    e1 = ObjectEvent("create", "m", "k1", "r", 10)
    e2 = ObjectEvent("update", "m", "k1", "r", 10)
    e3 = ObjectEvent("delete", "m", "k1", "r", 11)
    offset = Offset()
    offset.advance(e1)
    assert offset.seen(e1) and not offset.seen(e2)
    offset.advance(e2)
    offset.advance(e3)
    assert offset.seen(e1) and offset.seen(e2) and offset.seen(e3)
    assert offset.ids == [e3.id]


def test_fsck_totals_are_parsed() -> None:
    output = (
        "total 7 directories, 4 files\n\nTotal\t\tentries:12\torphan:3\t25.00%\t3072B\n"
        "Total\t\tentries:4\torphan:0\t0.00%\t0B\n"
    )
    result = parse_fsck(output, applied=False)
    assert (result.entries, result.orphans, result.orphan_bytes) == (16, 3, 3072)
    assert parse_fsck("no orphan data\n", applied=True).orphans == 0
    purged = parse_fsck(
        "total 6 directories, 6 files\n"
        "dataNode:127.0.0.1:22482\tvolume:1\tentries:24\torphan:5\t20.83%\t20971580B\n"
        "purging orphan data for volume 1...\n",
        applied=True,
    )
    assert (purged.entries, purged.orphans, purged.orphan_bytes) == (24, 5, 20971580)
    assert purged.to_json()["deleted"] is True
    with pytest.raises(StorageError):
        parse_fsck("error: need to run lock first", applied=False)
    script = fsck_script(apply=True, cutoff="5m", temp_dir=Path("/t"))
    assert script.splitlines() == [
        "lock",
        "volume.fsck -cutoffTimeAgo=5m -tempPath=/t -reallyDeleteFromVolume",
        "unlock",
    ]
    assert "-reallyDeleteFromVolume" not in fsck_script(
        apply=False, cutoff="1s", temp_dir=Path("/t")
    )


def test_the_welcome_text_shows_replication() -> None:
    from openfront.storage.welcome import storage_welcome

    services = {
        "s3-ap-northeast-2": {"url": "http://127.0.0.1:1", "pid": 1, "region": "ap-northeast-2"},
        "replication-ap-northeast-2-sa-east-1": {
            "url": "http://127.0.0.1:2",
            "metrics_url": "http://127.0.0.1:2/metrics",
            "pid": 2,
            "a": {"region": "ap-northeast-2", "bucket": "m-a"},
            "b": {"region": "sa-east-1", "bucket": "m-b"},
        },
        "replication-audit": {"url": "http://127.0.0.1:3", "metrics_url": "http://x/metrics"},
    }
    welcome = storage_welcome(services, "data", "openfront")
    assert ("replication ap-northeast-2 <-> sa-east-1", "http://127.0.0.1:2/metrics", "2") in (
        welcome.rows
    )
    assert ("replication auditor", "http://x/metrics", "") in welcome.rows
    commands = [command for _, command in welcome.tries]
    assert "openfront storage audit --data data" in commands
    assert any(
        "s3://m-a/public/ap-northeast-2.html" in c and "s3://m-b/public/" in c for c in commands
    )


def test_the_offset_file_round_trips_and_ignores_a_damaged_file(tmp_path: Path) -> None:
    from openfront.storage.events import OffsetFile

    offsets = OffsetFile(tmp_path / "deep" / "offset.json")
    assert offsets.load() is None
    offsets.save(Offset(42, ["42:create:m/k"]))
    assert offsets.load() == Offset(42, ["42:create:m/k"])
    assert not list(offsets.path.parent.glob("*.tmp"))
    offsets.path.write_text('{"ids": []}')  # hand-edited: no ts_ns
    assert offsets.load() is None


def test_filer_sync_metrics_ports_are_stable_and_inside_the_source_step() -> None:
    from openfront.storage.replication import MAX_RULES, sync_metrics_port

    assert sync_metrics_port(18300, 0) == 18309  # weed mini uses 18300..18308
    assert sync_metrics_port(18300, MAX_RULES - 1) == 18319  # the next block starts at 18320
    with pytest.raises(ValueError):
        sync_metrics_port(18300, MAX_RULES)
