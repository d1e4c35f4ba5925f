"""Every object an upload writes carries the version stamp of its key, against a real `weed
mini`: a presigned PUT signs the stamp (one without it is refused and stores nothing), and
multipart and tus uploads hand it to CreateMultipartUpload."""

from __future__ import annotations

import base64
from typing import Any

import httpx
from tests.integration.mediahub.conftest import MakeHub
from tests.integration.mediahub.uploads_helpers import MiB, pattern, sign_in, store, upload_hub
from tests.support.weed import MEDIA_BUCKET, WeedStore

from openfront.storage.versioning import VERSION_HEADER, VERSION_META, key_stamp

__all__ = ["store"]
REGION = "ap-northeast-2"  # the hubs' default region


def _metadata(store: WeedStore, key: str) -> dict[str, str] | None:
    client = store.client()
    try:
        head: dict[str, Any] = client.head_object(Bucket=MEDIA_BUCKET, Key=key)
    except client.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    meta: dict[str, str] = head["Metadata"]
    return meta


def _stamp_of(key: str) -> str:
    stamp = key_stamp(key)
    assert stamp is not None and stamp.region == REGION, key
    return str(stamp)


async def test_a_presigned_put_must_send_the_signed_stamp(
    make_hub: MakeHub, sqlite_database: str, store: WeedStore, client: httpx.AsyncClient
) -> None:
    hub = await upload_hub(make_hub, sqlite_database, store)
    auth = await sign_in(client, hub)
    data = pattern(2048)
    r = await client.post(
        f"{hub.url}/videos/upload-url",
        headers=auth,
        json={"filename": "stamped.mp4", "size": len(data), "content_type": "video/mp4"},
    )
    assert r.status_code == 201, r.text
    answer = r.json()
    upload, key = answer["upload"], answer["key"]
    stamp = _stamp_of(key)
    assert upload["headers"] == {"Content-Type": "video/mp4", VERSION_HEADER: stamp}
    assert VERSION_HEADER in upload["url"]  # X-Amz-SignedHeaders names it

    unstamped = await client.put(upload["url"], content=data, headers={"Content-Type": "video/mp4"})
    assert unstamped.status_code == 403 and b"SignatureDoesNotMatch" in unstamped.content
    forged = await client.put(
        upload["url"], content=data, headers=upload["headers"] | {VERSION_HEADER: stamp[:-1] + "3"}
    )
    assert forged.status_code == 403 and b"SignatureDoesNotMatch" in forged.content
    assert _metadata(store, key) is None  # nothing stored, stamped or not
    incomplete = await client.post(
        f"{hub.url}/videos/complete", headers=auth, json={"video_id": answer["video_id"]}
    )
    assert incomplete.status_code == 409 and incomplete.json()["error"] == "upload_incomplete"

    # A reload asks for the URL again: the same stamp, so any of the URLs stores the same object.
    r = await client.post(f"{hub.url}/videos/{answer['video_id']}/upload-url", headers=auth)
    assert r.status_code == 200 and r.json()["upload"]["headers"] == upload["headers"]
    sent = await client.put(r.json()["upload"]["url"], content=data, headers=upload["headers"])
    assert sent.status_code == 200, sent.text
    assert _metadata(store, key) == {VERSION_META: stamp}
    done = await client.post(
        f"{hub.url}/videos/complete", headers=auth, json={"video_id": answer["video_id"]}
    )
    assert done.status_code == 200 and done.json()["status"] == "queued"


async def test_a_multipart_upload_is_stamped_when_it_is_created(
    make_hub: MakeHub, sqlite_database: str, store: WeedStore, client: httpx.AsyncClient
) -> None:
    hub = await upload_hub(make_hub, sqlite_database, store)
    auth = await sign_in(client, hub)
    data = pattern(9 * MiB, seed=5)
    r = await client.post(
        f"{hub.url}/videos/upload-url",
        headers=auth,
        json={"filename": "parts.mp4", "size": len(data), "content_type": "video/mp4"},
    )
    assert r.status_code == 201, r.text
    answer = r.json()
    upload = answer["upload"]
    assert upload["kind"] == "multipart"
    size = upload["part_size"]
    for part in upload["parts"]:  # parts carry no metadata of their own
        start = (part["part_number"] - 1) * size
        sent = await client.put(part["url"], content=data[start : start + size])
        assert sent.status_code == 200, sent.text
    done = await client.post(
        f"{hub.url}/videos/complete", headers=auth, json={"video_id": answer["video_id"]}
    )
    assert done.status_code == 200, done.text
    assert _metadata(store, answer["key"]) == {VERSION_META: _stamp_of(answer["key"])}


async def test_a_tus_upload_is_stamped(
    make_hub: MakeHub, sqlite_database: str, store: WeedStore, client: httpx.AsyncClient
) -> None:
    hub = await upload_hub(make_hub, sqlite_database, store)
    auth = await sign_in(client, hub)
    data = pattern(6 * MiB + 7, seed=9)  # two parts of 5 MiB and the rest
    filename = base64.b64encode(b"tus.mp4").decode()
    r = await client.post(
        f"{hub.url}/uploads/",
        content=data,
        headers=auth
        | {
            "Tus-Resumable": "1.0.0",
            "Content-Type": "application/offset+octet-stream",
            "Upload-Length": str(len(data)),
            "Upload-Metadata": f"filename {filename}",
        },
    )
    assert r.status_code == 201, r.text
    video = r.json()
    assert video["status"] == "queued"
    assert _metadata(store, video["key"]) == {VERSION_META: _stamp_of(video["key"])}
