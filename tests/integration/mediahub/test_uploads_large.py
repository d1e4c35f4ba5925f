"""A 1 GiB video through presigned multipart parts, generated part by part (never whole in
memory) and checked by size and multipart ETag in the store."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from tests.integration.mediahub.conftest import MakeHub
from tests.integration.mediahub.uploads_helpers import MiB, sign_in, store, upload_hub
from tests.support.weed import MEDIA_BUCKET, WeedStore

__all__ = ["store"]
GiB = 1024 * MiB


def _part(number: int, size: int) -> bytes:
    body = bytearray(size)  # zeros cost nothing to make; a marker makes each part distinct
    body[:8] = number.to_bytes(8, "big")
    return bytes(body)


@pytest.mark.slow
async def test_one_gib_through_multipart(
    make_hub: MakeHub, sqlite_database: str, store: WeedStore, client: httpx.AsyncClient
) -> None:
    hub = await upload_hub(make_hub, sqlite_database, store, part_size=64 * MiB)
    auth = await sign_in(client, hub)
    r = await client.post(
        f"{hub.url}/videos/upload-url",
        headers=auth,
        json={"filename": "long.mkv", "size": GiB, "content_type": "video/x-matroska"},
    )
    assert r.status_code == 201, r.text
    video_id, upload = r.json()["video_id"], r.json()["upload"]
    assert upload["kind"] == "multipart" and len(upload["parts"]) == 16
    digests = []
    for part in upload["parts"]:  # one at a time: parallel parts are slower on one weed
        body = _part(part["part_number"], upload["part_size"])
        digests.append(hashlib.md5(body).digest())
        r = await client.put(part["url"], content=body)
        assert r.status_code == 200, r.text
        del body
    r = await client.post(f"{hub.url}/videos/complete", headers=auth, json={"video_id": video_id})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "queued" and r.json()["size"] == GiB
    head = store.client().head_object(Bucket=MEDIA_BUCKET, Key=r.json()["key"])
    assert head["ContentLength"] == GiB
    expected = hashlib.md5(b"".join(digests)).hexdigest() + "-16"
    assert head["ETag"].strip('"') == expected
