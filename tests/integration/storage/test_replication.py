"""Two real stores and a real `weed filer.sync` between two of their buckets: replication both
ways, the known one-second divergence repaired by the auditor, recorded deletes, and crashes
(kill -9 of filer.sync mid-copy of a multi-MiB object, kill -9 of a store)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.support.weed import (
    SyncProcess,
    WeedStore,
    bucket_region,
    kill_store,
    start_store,
    sync_side,
    wait_for,
)

from openfront.config.storage import ReplicationConfig
from openfront.storage.audit import Auditor
from openfront.storage.events import EventSubscriber
from openfront.storage.fsck import run_fsck
from openfront.storage.replication import SyncPair, write_plan
from openfront.storage.versioning import VERSION_META, StampClock

BUCKET_A, BUCKET_B = "rep-a", "rep-b"
REGION_A, REGION_B = "ap-northeast-2", "sa-east-1"


@dataclass
class Pair:
    a: WeedStore
    b: WeedStore
    sync: SyncProcess
    pair: SyncPair

    def clients(self) -> tuple[Any, Any]:
        return self.a.client(), self.b.client()

    def auditor(self, grace: float = 0.0, *, repair: bool = True, deep: bool = False) -> Auditor:
        return Auditor([self.pair], grace=grace, repair=repair, deep=deep, weed=self.a.region.weed)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("replication")
    a = start_store(root / "a", bucket_region(REGION_A, BUCKET_A))
    b = start_store(root / "b", bucket_region(REGION_B, BUCKET_B))
    sync_pair = SyncPair("test", sync_side(a, BUCKET_A), sync_side(b, BUCKET_B))
    sync = SyncProcess(sync_pair, a.region.weed, root).start()
    try:
        yield Pair(a, b, sync, sync_pair)
    finally:
        sync.kill()
        for store in (a, b):
            # Throwaway stores: a SIGTERM stop sometimes takes weed 20 s after these tests.
            if store.process is not None and store.process.poll() is None:
                kill_store(store)


def _head(client: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        meta: dict[str, Any] = client.head_object(Bucket=bucket, Key=key)
    except client.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return meta


def _body(client: Any, bucket: str, key: str) -> bytes:
    data: bytes = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return data


def test_objects_metadata_and_deletes_replicate_both_ways(pair: Pair) -> None:
    ca, cb = pair.clients()
    stamp = str(StampClock(REGION_A).stamp(time.time_ns()))
    ca.put_object(
        Bucket=BUCKET_A,
        Key="both/from-a.txt",
        Body=b"seoul",
        ContentType="text/plain",
        CacheControl="max-age=60",
        Metadata={VERSION_META: stamp},
    )
    cb.put_object(Bucket=BUCKET_B, Key="both/from-b.txt", Body=b"sao paulo")
    got = wait_for(lambda: _head(cb, BUCKET_B, "both/from-a.txt"), "a's object in b")
    assert got["Metadata"] == {VERSION_META: stamp}
    assert got["ContentType"] == "text/plain" and got["CacheControl"] == "max-age=60"
    assert wait_for(lambda: _head(ca, BUCKET_A, "both/from-b.txt"), "b's object in a")
    ca.delete_object(Bucket=BUCKET_A, Key="both/from-b.txt")
    wait_for(lambda: _head(cb, BUCKET_B, "both/from-b.txt") is None, "the delete in b")
    report = pair.auditor(grace=60.0, repair=False, deep=True).run()
    (result,) = report["pairs"]
    assert result["errors"] == [] and result["divergent"] == 0
    # a's object names its writer in its stamp (read in deep mode): COMPLETED in a, REPLICA in b.
    assert result["counts"]["REPLICA"] >= 1


def _diverge(ca: Any, cb: Any, key: str) -> bytes:
    """Write `key` in both regions within one second, b's stamp the newer one; returns b's body.
    (filer.sync 4.48 sometimes re-replicates such a pair into agreement and sometimes not, so
    the test writes both while it is down: the divergence is then certain.)"""
    clock_a, clock_b = StampClock(REGION_A), StampClock(REGION_B)
    while True:
        second = int(time.time())
        stamp_a = clock_a.stamp(time.time_ns())
        ca.put_object(
            Bucket=BUCKET_A, Key=key, Body=b"A" * 10, Metadata={VERSION_META: str(stamp_a)}
        )
        stamp_b = clock_b.stamp(time.time_ns())
        cb.put_object(
            Bucket=BUCKET_B, Key=key, Body=b"B" * 20, Metadata={VERSION_META: str(stamp_b)}
        )
        if int(time.time()) == second:
            return b"B" * 20


def _synced_marker(pair: Pair, name: str) -> None:
    """Wait until filer.sync has passed everything written before now, both ways."""
    ca, cb = pair.clients()
    ca.put_object(Bucket=BUCKET_A, Key=f"markers/{name}-a", Body=b"m")
    cb.put_object(Bucket=BUCKET_B, Key=f"markers/{name}-b", Body=b"m")
    wait_for(lambda: _head(cb, BUCKET_B, f"markers/{name}-a"), "the marker in b")
    wait_for(lambda: _head(ca, BUCKET_A, f"markers/{name}-b"), "the marker in a")


def test_same_second_writes_diverge_and_the_auditor_repairs_to_the_newer_stamp(
    pair: Pair,
) -> None:
    ca, cb = pair.clients()
    key = "race/clip.mp4"
    pair.sync.kill()
    try:
        newer = _diverge(ca, cb, key)
        assert _body(ca, BUCKET_A, key) != _body(cb, BUCKET_B, key)
        before = pair.auditor(grace=0.0, repair=False).run()["pairs"][0]
        (entry,) = [o for o in before["objects"] if o["key"] == key]
        assert entry["status"] == "FAILED"
        assert entry["repair"] == {"action": "copy", "target_region": REGION_A}
        report = pair.auditor(grace=0.0, repair=True).run()["pairs"][0]
    finally:
        pair.sync.start()
    assert report["repaired"]["copy"] >= 1
    for client, bucket in ((ca, BUCKET_A), (cb, BUCKET_B)):
        assert _body(client, bucket, key) == newer
        assert _head(client, bucket, key)["Metadata"][VERSION_META].endswith(REGION_B)
    _synced_marker(pair, "race")  # replication resumed and replayed the outage: still newer
    after = pair.auditor(grace=0.0, repair=False).run()["pairs"][0]
    assert not [o for o in after["objects"] if o["key"] == key]
    for client, bucket in ((ca, BUCKET_A), (cb, BUCKET_B)):
        assert _body(client, bucket, key) == newer


def test_same_second_writes_with_replication_running_end_at_the_newer_stamp(pair: Pair) -> None:
    """Whatever filer.sync makes of the race (either side may win, or none), after an audit
    both sides hold the newer stamp."""
    ca, cb = pair.clients()
    key = "race/live.mp4"
    newer = _diverge(ca, cb, key)
    _synced_marker(pair, "live")
    pair.auditor(grace=0.0, repair=True).run()
    _synced_marker(pair, "live-after")
    for client, bucket in ((ca, BUCKET_A), (cb, BUCKET_B)):
        assert _body(client, bucket, key) == newer


def test_missing_side_is_recopied_unless_a_newer_delete_was_recorded(pair: Pair) -> None:
    ca, cb = pair.clients()
    pair.sync.kill()  # replication down: the two sides drift apart
    try:
        ca.put_object(Bucket=BUCKET_A, Key="gap/lost.txt", Body=b"only in a")
        ca.put_object(Bucket=BUCKET_A, Key="gap/deleted.txt", Body=b"old copy")
        cb.put_object(Bucket=BUCKET_B, Key="gap/deleted.txt", Body=b"old copy")
        cb.delete_object(Bucket=BUCKET_B, Key="gap/deleted.txt")
        report = pair.auditor(grace=0.0, repair=True).run()["pairs"][0]
    finally:
        pair.sync.start()
    assert report["errors"] == []
    assert _body(cb, BUCKET_B, "gap/lost.txt") == b"only in a"
    assert _head(ca, BUCKET_A, "gap/deleted.txt") is None  # the later delete won
    # At least: lost.txt copied, deleted.txt deleted. (A filer.sync restarted before its first
    # checkpoint replays history and may resurrect an object deleted earlier; the same
    # recorded-delete rule removes it again.)
    assert report["repaired"]["copy"] >= 1 and report["repaired"]["delete"] >= 1


def test_filer_sync_kill_9_mid_copy_shows_no_partial_object_and_resumes(pair: Pair) -> None:
    ca, cb = pair.clients()
    body = os.urandom(16 << 20)
    digest = hashlib.md5(body).hexdigest()
    ca.put_object(Bucket=BUCKET_A, Key="big/video.bin", Body=body)
    pair.sync.kill()  # while it copies the 16 MiB to b (or just before)
    seen = _head(cb, BUCKET_B, "big/video.bin")
    assert seen is None or (seen["ContentLength"] == len(body) and digest in seen["ETag"])
    pair.sync.start()
    got = wait_for(lambda: _head(cb, BUCKET_B, "big/video.bin"), "the object after the restart")
    assert got["ContentLength"] == len(body)
    assert hashlib.md5(_body(cb, BUCKET_B, "big/video.bin")).hexdigest() == digest
    # Orphaned chunks the killed copy may have left: deleted by fsck, live data untouched.
    info = pair.b.region.info()
    args = (
        pair.b.region.weed,
        info["master_address"],
        info["filer_address"],
        Path(info["data_dir"]) / "run" / "fsck",
    )
    run_fsck(*args, apply=True, cutoff="1ms")
    after = run_fsck(*args, cutoff="1ms")
    assert after.orphans == 0 and after.entries is not None and after.entries >= 1
    assert hashlib.md5(_body(cb, BUCKET_B, "big/video.bin")).hexdigest() == digest


def test_store_kill_9_loses_nothing_and_replication_catches_up(pair: Pair) -> None:
    ca, cb = pair.clients()
    kill_store(pair.b)
    written = []
    for i in range(10):
        key = f"outage/{i}.txt"
        ca.put_object(Bucket=BUCKET_A, Key=key, Body=f"object {i}".encode())
        written.append(key)
    pair.b.start()
    cb = pair.b.client()
    for key in written:
        wait_for(lambda key=key: _head(cb, BUCKET_B, key), f"{key} in b after the crash")
    assert _body(cb, BUCKET_B, "outage/9.txt") == b"object 9"


def test_events_of_replicated_writes_are_marked_as_echoes(pair: Pair, tmp_path: Path) -> None:
    import asyncio

    subscriber = EventSubscriber(
        pair.b.region.weed,
        pair.b.region.info()["filer_address"],
        BUCKET_B,
        REGION_B,
        tmp_path / "offset.json",
    )

    async def collect() -> list[Any]:
        got = []
        async with contextlib.aclosing(subscriber.events()) as events:
            async for event in events:
                if event.key.startswith("echo/"):
                    got.append(event)
                    if len(got) == 2:
                        return got
        return got

    async def main() -> list[Any]:
        task = asyncio.ensure_future(collect())
        await asyncio.sleep(0)  # the subscriber fixes its start offset before the writes
        ca, cb = pair.clients()
        await asyncio.to_thread(cb.put_object, Bucket=BUCKET_B, Key="echo/local", Body=b"l")
        await asyncio.to_thread(ca.put_object, Bucket=BUCKET_A, Key="echo/remote", Body=b"r")
        return await asyncio.wait_for(task, 30)

    events = asyncio.run(main())
    by_key = {e.key: e for e in events}
    assert by_key["echo/local"].from_replication is False
    assert by_key["echo/remote"].from_replication is True
    assert {e.region for e in events} == {REGION_B}


def test_auditor_kill_9_mid_repair_leaves_whole_objects_and_the_next_audit_repairs(
    pair: Pair, tmp_path: Path
) -> None:
    """The repair of a 16 MiB object is a multipart upload on the loser: kill -9 the auditor
    while it is in flight, then check the loser still shows the old whole object."""
    ca, cb = pair.clients()
    key = "crash/movie.bin"
    old, new = os.urandom(1 << 20), os.urandom(16 << 20)
    data = tmp_path / "data"
    write_plan(data, [pair.pair], ReplicationConfig())
    pair.sync.kill()
    try:
        clock_a, clock_b = StampClock(REGION_A), StampClock(REGION_B)
        stamp_a = str(clock_a.stamp(time.time_ns()))
        ca.put_object(Bucket=BUCKET_A, Key=key, Body=old, Metadata={VERSION_META: stamp_a})
        stamp_b = str(clock_b.stamp(time.time_ns()))
        cb.put_object(Bucket=BUCKET_B, Key=key, Body=new, Metadata={VERSION_META: stamp_b})
        argv = [sys.executable, "-m", "openfront", "storage", "audit", "--data", str(data)]
        auditor = subprocess.Popen(
            [*argv, "--repair", "--grace", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(
                lambda: (
                    ca.list_multipart_uploads(Bucket=BUCKET_A).get("Uploads")
                    or auditor.poll() is not None
                ),
                "the repair's multipart upload",
            )
        finally:
            auditor.kill()
            auditor.wait()
        seen = _head(ca, BUCKET_A, key)
        assert seen is not None and seen["Metadata"][VERSION_META] in (stamp_a, stamp_b)
        assert _body(ca, BUCKET_A, key) == (
            old if seen["Metadata"][VERSION_META] == stamp_a else new
        )
        again = subprocess.run([*argv, "--repair", "--grace", "0"], capture_output=True, timeout=60)
        assert again.returncode == 0, again.stdout + again.stderr
    finally:
        pair.sync.start()
    assert _body(ca, BUCKET_A, key) == new
    assert _head(ca, BUCKET_A, key)["Metadata"][VERSION_META] == stamp_b


def test_fsck_command_reports_counts_dry_run_and_apply(pair: Pair, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from openfront.cli.main import main
    from openfront.stack.stackfile import StackFile

    info = pair.b.region.info()
    StackFile(tmp_path / "stack.json").set(
        pair.b.region.service, url=info.pop("url"), pid=pair.b.process.pid, **info
    )
    base = ["storage", "fsck", "--data", str(tmp_path), "--region", REGION_B, "--cutoff", "1ms"]
    for extra in ([], ["--apply"], []):
        result = CliRunner().invoke(main, [*base, *extra])
        assert result.exit_code == 0, result.output
        assert result.output.startswith(f"{REGION_B}: ")
        assert "no orphaned chunks" in result.output or (
            "orphaned" in result.output and ("dry run" in result.output or extra)
        )
    assert "no orphaned chunks" in result.output  # after --apply
    refused = CliRunner().invoke(
        main, ["storage", "fsck", "--data", str(tmp_path), "--region", "x"]
    )
    assert refused.exit_code == 2
