"""Presigned uploads against a real `weed mini`: single PUT, multipart parts, completion."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

import httpx
from tests.integration.mediahub.conftest import MakeHub
from tests.integration.mediahub.uploads_helpers import MiB, pattern, sign_in, store, upload_hub
from tests.support.weed import MEDIA_BUCKET, WeedStore

from openfront.mediahub.video_context import VIDEOS

__all__ = ["store"]


async def test_single_put_then_complete(
    make_hub: MakeHub, sqlite_database: str, store: WeedStore, client: httpx.AsyncClient
) -> None:
    hub = await upload_hub(make_hub, sqlite_database, store)
    auth = await sign_in(client, hub)
    data = pattern(1000 + 3)
    r = await client.post(
        f"{hub.url}/videos/upload-url",
        headers=auth,
        json={
            "filename": "../My Trip/서울 밤.MP4",
            "size": len(data),
            "content_type": "video/mp4",
            "title": "Seoul at night",
        },
    )
    assert r.status_code == 201, r.text
    answer = r.json()
    upload = answer["upload"]
    assert upload["kind"] == "single" and upload["method"] == "PUT"
    assert answer["key"].endswith("_video.MP4") and answer["key"].startswith("videos/")
    r = await client.put(upload["url"], content=data, headers=upload["headers"])
    assert r.status_code == 200, r.text
    assert hub.runner is not None
    queued: list[uuid.UUID] = []
    hub.runner.app[VIDEOS].on_queued = queued.append
    both = await asyncio.gather(
        *(
            client.post(
                f"{hub.url}/videos/complete", headers=auth, json={"video_id": answer["video_id"]}
            )
            for _ in range(2)
        )
    )  # two tabs finishing at once
    assert [r.status_code for r in both] == [200, 200] and both[0].json() == both[1].json()
    assert queued == [uuid.UUID(answer["video_id"])]  # handed to processing once
    video = both[0].json()
    assert video["status"] == "queued" and video["size"] == len(data)
    assert video["title"] == "Seoul at night" and video["filename"] == "../My Trip/서울 밤.MP4"
    head = store.client().head_object(Bucket=MEDIA_BUCKET, Key=answer["key"])
    assert head["ContentLength"] == len(data) and head["ContentType"] == "video/mp4"
    again = await client.post(
        f"{hub.url}/videos/complete", headers=auth, json={"video_id": answer["video_id"]}
    )
    assert again.status_code == 200 and again.json() == video


async def test_multipart_with_presigned_parts_then_complete(
    make_hub: MakeHub, sqlite_database: str, store: WeedStore, client: httpx.AsyncClient
) -> None:
    hub = await upload_hub(make_hub, sqlite_database, store)
    auth = await sign_in(client, hub)
    data = pattern(12 * MiB + 123, seed=3)
    r = await client.post(
        f"{hub.url}/videos/upload-url",
        headers=auth,
        json={"filename": "big.mov", "size": len(data), "content_type": "video/quicktime"},
    )
    assert r.status_code == 201, r.text
    answer = r.json()
    upload = answer["upload"]
    assert upload["kind"] == "multipart" and upload["part_size"] == 5 * MiB
    assert [p["part_number"] for p in upload["parts"]] == [1, 2, 3]
    etags = []
    for part in upload["parts"]:
        start = (part["part_number"] - 1) * upload["part_size"]
        r = await client.put(part["url"], content=data[start : start + upload["part_size"]])
        assert r.status_code == 200, r.text
        etags.append({"part_number": part["part_number"], "etag": r.headers["ETag"]})
    incomplete = await client.post(
        f"{hub.url}/videos/complete",
        headers=auth,
        json={"video_id": answer["video_id"], "parts": etags[:2]},
    )
    assert incomplete.status_code == 400
    assert incomplete.json()["error"] == "missing_parts" and incomplete.json()["missing"] == [3]
    r = await client.post(
        f"{hub.url}/videos/complete",
        headers=auth,
        json={"video_id": answer["video_id"], "parts": etags},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "queued"
    obj = store.client().get_object(Bucket=MEDIA_BUCKET, Key=answer["key"])
    assert hashlib.sha256(obj["Body"].read()).digest() == hashlib.sha256(data).digest()


async def test_a_multipart_upload_resumes_with_fresh_urls_after_a_reload(
    make_hub: MakeHub, sqlite_database: str, store: WeedStore, client: httpx.AsyncClient
) -> None:
    hub = await upload_hub(make_hub, sqlite_database, store)
    auth = await sign_in(client, hub)
    data = pattern(11 * MiB, seed=11)
    r = await client.post(
        f"{hub.url}/videos/upload-url",
        headers=auth,
        json={"filename": "resume.mp4", "size": len(data), "content_type": "video/mp4"},
    )
    answer = r.json()
    size = answer["upload"]["part_size"]
    first = answer["upload"]["parts"][0]
    assert (await client.put(first["url"], content=data[:size])).status_code == 200
    # The page reloads: the app asks which parts are still missing, with new URLs for them.
    r = await client.post(f"{hub.url}/videos/{answer['video_id']}/upload-url", headers=auth)
    assert r.status_code == 200, r.text
    again = r.json()["upload"]
    assert [p["part_number"] for p in again["uploaded"]] == [1]
    assert [p["part_number"] for p in again["parts"]] == [2, 3]
    for part in again["parts"]:
        start = (part["part_number"] - 1) * size
        assert (
            await client.put(part["url"], content=data[start : start + size])
        ).status_code == 200
    done = await client.post(
        f"{hub.url}/videos/complete", headers=auth, json={"video_id": answer["video_id"]}
    )
    assert done.status_code == 200 and done.json()["status"] == "queued"
    r = await client.post(f"{hub.url}/videos/{answer['video_id']}/upload-url", headers=auth)
    assert r.status_code == 409 and r.json()["error"] == "upload_finished"
    obj = store.client().get_object(Bucket=MEDIA_BUCKET, Key=answer["key"])
    assert obj["Body"].read() == data
