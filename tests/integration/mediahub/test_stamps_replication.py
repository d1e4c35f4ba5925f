"""Two real regions (two `weed mini`s and a `weed filer.sync` between their media buckets) and a
MediaHub server in Seoul: the object an upload writes replicates with its version stamp, and
when the two sides are forced apart the auditor repairs by that stamp, not by LastModified."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from tests.integration.mediahub.conftest import MakeHub
from tests.integration.mediahub.uploads_helpers import pattern, sign_in
from tests.support.weed import (
    SyncProcess,
    WeedStore,
    bucket_region,
    kill_store,
    start_store,
    sync_side,
    wait_for,
)

from openfront.storage.audit import Auditor
from openfront.storage.replication import SyncPair
from openfront.storage.versioning import VERSION_META, VersionStamp, key_stamp, stamp_metadata

SEOUL, SAO_PAULO = "ap-northeast-2", "sa-east-1"
BUCKET_A, BUCKET_B = "media-seoul", "media-sao-paulo"


@dataclass
class Regions:
    a: WeedStore
    b: WeedStore
    sync: SyncProcess
    pair: SyncPair

    def auditor(self, *, repair: bool, deep: bool = False) -> Auditor:
        return Auditor([self.pair], grace=0.0, repair=repair, deep=deep, weed=self.a.region.weed)

    def report(self, *, repair: bool, deep: bool = False) -> dict[str, Any]:
        (result,) = self.auditor(repair=repair, deep=deep).run()["pairs"]
        assert result["errors"] == []
        entry: dict[str, Any] = result
        return entry


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Regions]:
    root = tmp_path_factory.mktemp("two-regions")
    a = start_store(root / "a", bucket_region(SEOUL, BUCKET_A))
    b = start_store(root / "b", bucket_region(SAO_PAULO, BUCKET_B))
    pair = SyncPair("media", sync_side(a, BUCKET_A), sync_side(b, BUCKET_B))
    sync = SyncProcess(pair, a.region.weed, root).start()
    try:
        yield Regions(a, b, sync, pair)
    finally:
        sync.kill()
        for store in (a, b):
            if store.process is not None and store.process.poll() is None:
                kill_store(store)  # throwaway stores: a SIGTERM stop can take weed 20 s


def _head(store: WeedStore, bucket: str, key: str) -> dict[str, Any] | None:
    client = store.client()
    try:
        head: dict[str, Any] = client.head_object(Bucket=bucket, Key=key)
    except client.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return head


def _body(store: WeedStore, bucket: str, key: str) -> bytes:
    data: bytes = store.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    return data


def _synced(regions: Regions, name: str) -> None:
    """Wait until filer.sync has passed everything written before now, both ways."""
    regions.a.client().put_object(Bucket=BUCKET_A, Key=f"markers/{name}-a", Body=b"m")
    regions.b.client().put_object(Bucket=BUCKET_B, Key=f"markers/{name}-b", Body=b"m")
    wait_for(lambda: _head(regions.b, BUCKET_B, f"markers/{name}-a"), "the marker in b")
    wait_for(lambda: _head(regions.a, BUCKET_A, f"markers/{name}-b"), "the marker in a")


async def test_an_upload_replicates_with_its_stamp_and_divergence_is_repaired_by_it(
    regions: Regions, make_hub: MakeHub, sqlite_database: str, client: httpx.AsyncClient
) -> None:
    storage = {
        "endpoint": regions.a.endpoint,
        "bucket": BUCKET_A,
        "credentials_file": str(regions.a.region.paths.s3_config),
    }
    hub = await make_hub(sqlite_database, region=SEOUL, storage=storage)
    auth = await sign_in(client, hub)
    data = pattern(4096, seed=1)
    r = await client.post(
        f"{hub.url}/videos/upload-url",
        headers=auth,
        json={"filename": "replicated.mp4", "size": len(data), "content_type": "video/mp4"},
    )
    assert r.status_code == 201, r.text
    answer = r.json()
    key, upload = answer["key"], answer["upload"]
    sent = await client.put(upload["url"], content=data, headers=upload["headers"])
    assert sent.status_code == 200, sent.text
    stamp = key_stamp(key)
    assert stamp is not None and stamp.region == SEOUL

    replica = wait_for(lambda: _head(regions.b, BUCKET_B, key), "the upload in São Paulo")
    assert replica["Metadata"] == {VERSION_META: str(stamp)}
    assert _body(regions.b, BUCKET_B, key) == data
    # The stamp names the writer: COMPLETED in Seoul, REPLICA in São Paulo, nothing listed.
    clean = regions.report(repair=False, deep=True)
    assert clean["divergent"] == 0 and clean["counts"]["REPLICA"] >= 1
    assert not [o for o in clean["objects"] if o["key"] == key]

    # Forced apart with replication down: São Paulo gets a later write (a newer LastModified)
    # that carries an older stamp. Last writer by stamp is Seoul's upload.
    regions.sync.kill()
    try:
        stale = VersionStamp(stamp.ns - 1, SAO_PAULO)
        regions.b.client().put_object(
            Bucket=BUCKET_B,
            Key=key,
            Body=b"stale" * 10,
            ContentType="video/mp4",
            Metadata=stamp_metadata(stale),
        )
        a_head, b_head = _head(regions.a, BUCKET_A, key), _head(regions.b, BUCKET_B, key)
        assert a_head is not None and b_head is not None
        assert b_head["LastModified"] >= a_head["LastModified"]
        before = regions.report(repair=False)
        (entry,) = [o for o in before["objects"] if o["key"] == key]
        assert entry["status"] == "FAILED"
        assert entry["repair"] == {"action": "copy", "target_region": SAO_PAULO}
        repaired = regions.report(repair=True)
        assert repaired["repaired"]["copy"] >= 1
    finally:
        regions.sync.start()

    # filer.sync resumes from its checkpoint and may replay São Paulo's stale write before the
    # repair's copy; the auditor keeps running, so both sides must settle on Seoul's upload.
    def settled() -> bool:
        for store, bucket in ((regions.a, BUCKET_A), (regions.b, BUCKET_B)):
            head = _head(store, bucket, key)
            ok = head is not None and head["Metadata"] == {VERSION_META: str(stamp)}
            if not ok or _body(store, bucket, key) != data:
                regions.report(repair=True)
                return False
        return True

    wait_for(settled, "both regions to hold Seoul's stamped upload")
    _synced(regions, "after-repair")  # filer.sync replayed the outage: Seoul's upload stays
    after = regions.report(repair=False)
    assert not [o for o in after["objects"] if o["key"] == key]
    for store, bucket in ((regions.a, BUCKET_A), (regions.b, BUCKET_B)):
        assert _body(store, bucket, key) == data
