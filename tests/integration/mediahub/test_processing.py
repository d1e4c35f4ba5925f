"""Processing end to end: a real `weed mini`, a MediaHub server with its in-process worker,
a generated clip uploaded through the API, transcoded, its outputs in the bucket, and played
through an OpenFront edge whose origin is the bucket, with the API's signed cookies. Every output is
written with a version stamp of the worker's region."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from tests.integration.mediahub.conftest import MakeHub
from tests.integration.mediahub.processing_helpers import (
    CLIP_SECONDS,
    clip,
    processing,
    upload,
    wait_for_video,
)
from tests.integration.mediahub.uploads_helpers import sign_in, storage_settings, store
from tests.support.client import Resp, request
from tests.support.edge import config
from tests.support.keys import ec_key_pair
from tests.support.weed import MEDIA_BUCKET, WeedStore

from openfront.mediahub.jobs.app import WORKER
from openfront.mediahub.jobs.queue import JobQueue
from openfront.mediahub.jobs.rules import Phases, RetryPolicy
from openfront.storage.versioning import VERSION_META, key_stamp, parse_stamp

__all__ = ["clip", "store"]
KEY_ID = "K2JCJMDEHXQW5F"


def _edge_config(store: WeedStore, public_pem: str) -> Any:
    """The bucket behind the edge (Origin Access Control), HLS restricted to the key group."""
    domain = f"{MEDIA_BUCKET}.s3.{store.region.name}.amazonaws.com"
    origin = {
        "Id": "media",
        "DomainName": domain,
        "ConnectionAttempts": 1,
        "S3OriginConfig": {"OriginAccessIdentity": ""},
        "OriginAccessControlId": "EOACMEDIA",
    }
    oac = {
        "Id": "EOACMEDIA",
        "OriginAccessControlConfig": {
            "Name": "media",
            "SigningProtocol": "sigv4",
            "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3",
        },
    }
    behavior = {"TargetOriginId": "media", "CachePolicyId": "CachingOptimized"}
    dist = {
        "Origins": [origin],
        "DefaultCacheBehavior": behavior,
        "CacheBehaviors": [
            {"PathPattern": "videos/*/hls/*", **behavior, "TrustedKeyGroups": ["kg-media"]}
        ],
    }
    top = {
        "OriginAccessControls": [oac],
        "PublicKeys": [
            {"Id": KEY_ID, "PublicKeyConfig": {"Name": "mediahub", "EncodedKey": public_pem}}
        ],
        "KeyGroups": [{"Id": "kg-media", "KeyGroupConfig": {"Name": "media", "Items": [KEY_ID]}}],
    }
    entry = {
        "domain_name": domain,
        "endpoint": store.endpoint,
        "region_dir": str(store.region.paths.root),
    }
    return config(dist, top=top, s3_origins=[entry])


def _final(video: dict[str, Any]) -> bool:
    return video["status"] in ("ready", "failed")


async def test_an_upload_becomes_an_hls_ladder_that_plays_through_the_edge(
    make_hub: MakeHub,
    make_edge: Any,
    sqlite_database: str,
    store: WeedStore,
    client: httpx.AsyncClient,
    clip: bytes,
    tmp_path: Path,
    monkeypatch: Any,
) -> None:
    # What the worker writes, seen where it writes it: polling the API can miss the window
    # between the last progress write and the end of the job.
    reported: list[float] = []
    report = JobQueue.report

    def recording(self: JobQueue, job: Any, owner: str, progress: float, now: float) -> bool:
        reported.append(progress)
        return report(self, job, owner, progress, now)

    monkeypatch.setattr(JobQueue, "report", recording)
    pem, public = ec_key_pair(tmp_path)
    edge = await make_edge(cfg=_edge_config(store, public))
    cdn_host = f"127.0.0.1:{edge.port}"
    playback = {"cdn_url": f"http://{cdn_host}", "key_pair_id": KEY_ID, "private_key_file": pem}
    hub = await make_hub(
        sqlite_database,
        storage=storage_settings(store),
        processing=processing(),
        playback=playback,
    )
    auth = await sign_in(client, hub)
    data = clip
    video = await upload(client, hub.url, auth, data, "Han river.mp4")
    assert video["status"] in ("queued", "processing")
    seen: list[dict[str, Any]] = []
    video = await wait_for_video(client, hub.url, auth, video["id"], _final, seen)
    assert video["status"] == "ready", video["failure_reason"]
    assert video["progress"] == 1.0 and video["failure_reason"] is None
    assert abs(video["duration"] - CLIP_SECONDS) < 0.2

    # Progress only grows, and the worker reported some between queued and ready.
    progress = [v["progress"] for v in seen]
    assert progress == sorted(progress)
    assert {v["status"] for v in seen} <= {"queued", "processing", "ready"}
    assert any(0 < p < 1 for p in reported), reported

    key = video["key"]
    cdn = f"http://{cdn_host}"
    assert video["hls_url"] == f"{cdn}/{key}/hls/master.m3u8"
    assert video["poster_url"] == f"{cdn}/{key}/poster.jpg"
    assert video["thumbnails_url"] == f"{cdn}/{key}/thumbs/thumbnails.vtt"

    s3 = store.client()
    listed = s3.list_objects_v2(Bucket=MEDIA_BUCKET, Prefix=key + "/")
    names = sorted(o["Key"].removeprefix(key + "/") for o in listed["Contents"])
    assert {"hls/master.m3u8", "poster.jpg", "thumbs/sprite.jpg", "thumbs/thumbnails.vtt"} <= set(
        names
    )
    for rendition in ("240p", "360p"):
        assert f"hls/{rendition}/index.m3u8" in names
        assert any(n.startswith(f"hls/{rendition}/init_") and n.endswith(".mp4") for n in names)
        assert sum(n.startswith(f"hls/{rendition}/seg_") for n in names) == 2
    expected = {
        "hls/master.m3u8": ("application/vnd.apple.mpegurl", "public, max-age=60"),
        "hls/240p/seg_00000.m4s": ("video/iso.segment", "public, max-age=31536000, immutable"),
        "poster.jpg": ("image/jpeg", "public, max-age=31536000, immutable"),
        "thumbs/thumbnails.vtt": ("text/vtt; charset=utf-8", "public, max-age=31536000, immutable"),
    }
    init = next(n for n in names if n.startswith("hls/240p/init_"))
    expected[init] = ("video/mp4", "public, max-age=31536000, immutable")
    for name, (ctype, cache) in expected.items():
        head = s3.head_object(Bucket=MEDIA_BUCKET, Key=f"{key}/{name}")
        assert (head["ContentType"], head["CacheControl"]) == (ctype, cache), name
    # Every output carries a version stamp of the worker's region, newer than the upload's,
    # and the master playlist, written last, the newest.
    source = key_stamp(key)
    assert source is not None and source.region == "ap-northeast-2"
    stamps = {}
    for name in names:
        meta = s3.head_object(Bucket=MEDIA_BUCKET, Key=f"{key}/{name}")["Metadata"]
        stamp = parse_stamp(meta.get(VERSION_META))
        assert stamp is not None and stamp.region == "ap-northeast-2" and stamp > source, name
        stamps[name] = stamp
    assert stamps["hls/master.m3u8"] == max(stamps.values())
    master = s3.get_object(Bucket=MEDIA_BUCKET, Key=f"{key}/hls/master.m3u8")["Body"].read()
    assert b"240p/index.m3u8" in master and b"360p/index.m3u8" in master
    # The upload itself is untouched.
    assert s3.head_object(Bucket=MEDIA_BUCKET, Key=key)["ContentLength"] == len(data)
    assert hub.db is not None
    [job] = JobQueue(hub.db, "ap-northeast-2", RetryPolicy()).jobs_of(uuid.UUID(video["id"]))
    assert (job.state, job.attempts, job.active_video_id) == ("done", 1, None)
    assert not list(hub.cfg.work_dir.glob("*/*"))  # the work folder is cleaned up

    # Playback through the edge: the streams need the API's signature, the poster does not.
    r = await client.post(f"{hub.url}/videos/{video['id']}/playback", headers=auth)
    assert r.status_code == 200, r.text
    cookie = "; ".join(f"{n}={v}" for n, v in r.json()["cookies"].items())
    signed_master = r.json()["signed_urls"]["hls_url"].removeprefix(cdn)

    async def get(path: str, **headers: str) -> Resp:
        return await request(edge.port, path=path, headers=headers, host=cdn_host)

    master = f"/{key}/hls/master.m3u8"
    refused = await get(master)
    assert refused.status == 403 and b"<Code>MissingKey</Code>" in refused.body
    played = await get(master, Cookie=cookie)
    assert played.status == 200 and b"360p/index.m3u8" in played.body
    assert played.h("content-type") == "application/vnd.apple.mpegurl"
    assert (await get(signed_master)).status == 200
    segment = f"/{key}/hls/360p/seg_00001.m4s"
    whole = await get(segment, Cookie=cookie)
    assert whole.status == 200 and whole.h("content-type") == "video/iso.segment"
    assert whole.h("cache-control") == "public, max-age=31536000, immutable"
    part = await get(segment, Cookie=cookie, Range="bytes=0-99")  # a player seeking
    assert part.status == 206 and part.body == whole.body[:100]
    assert part.x_cache == "Hit from cloudfront"
    other = await get(f"/videos/{uuid.uuid4()}/1_x.mp4/hls/master.m3u8", Cookie=cookie)
    assert other.status == 403  # the signature opens this video only
    poster = await get(f"/{key}/poster.jpg")
    assert poster.status == 200 and poster.h("content-type") == "image/jpeg"


async def test_a_file_that_is_not_a_video_fails_with_the_reason_and_no_retry(
    make_hub: MakeHub, sqlite_database: str, store: WeedStore, client: httpx.AsyncClient
) -> None:
    hub = await make_hub(sqlite_database, storage=storage_settings(store), processing=processing())
    auth = await sign_in(client, hub)
    video = await upload(client, hub.url, auth, b"not a video\n" * 100, "notes.mp4")
    video = await wait_for_video(client, hub.url, auth, video["id"], _final)
    assert video["status"] == "failed"
    assert video["failure_reason"] == (
        "not a video file: ffmpeg recognised no audio or video format in it"
    )
    assert video["hls_url"] is None
    assert hub.db is not None
    [job] = JobQueue(hub.db, "ap-northeast-2", RetryPolicy()).jobs_of(uuid.UUID(video["id"]))
    assert (job.state, job.attempts) == ("failed", 1)
    listed = store.client().list_objects_v2(Bucket=MEDIA_BUCKET, Prefix=video["key"] + "/")
    assert listed["KeyCount"] == 0


async def test_deleting_a_video_mid_transcode_stops_its_job(
    make_hub: MakeHub,
    sqlite_database: str,
    store: WeedStore,
    client: httpx.AsyncClient,
    clip: bytes,
) -> None:
    slow = processing(preset="slow")  # time to delete it in the middle
    hub = await make_hub(sqlite_database, storage=storage_settings(store), processing=slow)
    assert hub.runner is not None
    worker = hub.runner.app[WORKER]
    worker.hold_uploads = asyncio.Event()  # however fast the transcode, nothing is written yet
    auth = await sign_in(client, hub)
    video = await upload(client, hub.url, auth, clip, "gone.mp4")
    transcoding = Phases().of_transcode(0.0)
    await wait_for_video(
        client,
        hub.url,
        auth,
        video["id"],
        lambda v: v["status"] == "processing" and v["progress"] > transcoding,
    )
    r = await client.delete(f"{hub.url}/videos/{video['id']}", headers=auth)
    assert r.status_code == 204
    worker.hold_uploads.set()
    end = time.monotonic() + 30
    while worker.running:  # the job's task ends: ffmpeg killed, nothing uploaded
        assert time.monotonic() < end, "the job kept running"
        await asyncio.sleep(0.02)
    listed = store.client().list_objects_v2(Bucket=MEDIA_BUCKET, Prefix=video["key"])
    assert listed["KeyCount"] == 0
    assert not list(hub.cfg.work_dir.glob("*/*"))
