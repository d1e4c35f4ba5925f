"""The videos API against a real `weed mini`: limits and quotas, listings and paging,
visibility, edits, deletion of objects, and the sweep of abandoned uploads."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update
from tests.integration.mediahub.conftest import MakeHub
from tests.integration.mediahub.uploads_helpers import MiB, pattern, sign_in, store, upload_hub
from tests.support.weed import MEDIA_BUCKET, WeedStore

from openfront.mediahub.cleanup import sweep
from openfront.mediahub.models import Video
from openfront.mediahub.server import RunningMediaHub
from openfront.mediahub.video_context import TUS, VIDEOS

__all__ = ["store"]


async def _ask(
    client: httpx.AsyncClient, hub: RunningMediaHub, auth: dict[str, str], **fields: Any
) -> httpx.Response:
    body = {"filename": "clip.mp4", "size": 100, "content_type": "video/mp4"} | fields
    return await client.post(f"{hub.url}/videos/upload-url", headers=auth, json=body)


async def _uploaded(
    client: httpx.AsyncClient, hub: RunningMediaHub, auth: dict[str, str], title: str
) -> dict[str, Any]:
    data = pattern(200)
    answer = (await _ask(client, hub, auth, size=len(data), title=title)).json()
    r = await client.put(answer["upload"]["url"], content=data, headers=answer["upload"]["headers"])
    assert r.status_code == 200
    r = await client.post(
        f"{hub.url}/videos/complete", headers=auth, json={"video_id": answer["video_id"]}
    )
    assert r.status_code == 200, r.text
    video: dict[str, Any] = r.json()
    return video


def _publish(hub: RunningMediaHub, video_id: str, visibility: str = "public") -> None:
    assert hub.db is not None
    with hub.db.write() as s:
        s.execute(
            update(Video)
            .where(Video.id == uuid.UUID(video_id))
            .values(status="ready", visibility=visibility)
        )


async def test_limits_types_and_quotas(
    make_hub: MakeHub, sqlite_database: str, store: WeedStore, client: httpx.AsyncClient
) -> None:
    hub = await upload_hub(
        make_hub, sqlite_database, store, max_file_size=1000, quota_bytes=1500, quota_videos=2
    )
    auth = await sign_in(client, hub)
    assert (await _ask(client, hub, {})).status_code == 401
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        ({"size": 1001}, 413, "file_too_large", "size"),
        ({"size": 0}, 400, "invalid_field", "size"),
        ({"size": "12"}, 400, "wrong_type", "size"),
        ({"filename": " "}, 400, "missing_field", "filename"),
        ({"content_type": "image/png"}, 415, "unsupported_type", "content_type"),
        ({"filename": "clip.exe"}, 415, "unsupported_type", "filename"),
    ]
    for fields, status, code, field in cases:
        r = await _ask(client, hub, auth, **fields)
        assert (r.status_code, r.json()["error"], r.json().get("field")) == (status, code, field)
    assert (await _ask(client, hub, auth, size=900)).status_code == 201
    r = await _ask(client, hub, auth, size=700)
    assert r.status_code == 413 and r.json()["limit"] == "bytes" and r.json()["used"] == 900
    assert (await _ask(client, hub, auth, size=600)).status_code == 201
    r = await _ask(client, hub, auth, size=1)
    assert r.status_code == 403 and r.json()["error"] == "quota_exceeded"
    assert r.json()["limit"] == "videos"


async def test_complete_refuses_what_is_not_there(
    make_hub: MakeHub, sqlite_database: str, store: WeedStore, client: httpx.AsyncClient
) -> None:
    hub = await upload_hub(make_hub, sqlite_database, store)
    auth = await sign_in(client, hub)
    answer = (await _ask(client, hub, auth, size=100)).json()
    done = f"{hub.url}/videos/complete"
    r = await client.post(done, headers=auth, json={"video_id": answer["video_id"]})
    assert r.status_code == 409 and r.json()["error"] == "upload_incomplete"
    await client.put(
        answer["upload"]["url"], content=b"x" * 99, headers=answer["upload"]["headers"]
    )
    r = await client.post(done, headers=auth, json={"video_id": answer["video_id"]})
    assert r.status_code == 400 and r.json()["error"] == "size_mismatch"
    assert (r.json()["expected"], r.json()["actual"]) == (100, 99)
    other = await sign_in(client, hub, "other")
    r = await client.post(done, headers=other, json={"video_id": answer["video_id"]})
    assert r.status_code == 404
    r = await client.post(done, headers=auth, json={"video_id": "nope"})
    assert r.status_code == 400 and r.json()["field"] == "video_id"


async def test_listing_paging_visibility_and_edits(
    make_hub: MakeHub, sqlite_database: str, store: WeedStore, client: httpx.AsyncClient
) -> None:
    hub = await upload_hub(make_hub, sqlite_database, store)
    auth = await sign_in(client, hub)
    other = await sign_in(client, hub, "other")
    made = [await _uploaded(client, hub, auth, f"v{i}") for i in range(5)]
    pending = (await _ask(client, hub, auth, title="half")).json()
    for video in made[:3]:
        _publish(hub, video["id"])
    _publish(hub, made[3]["id"], "private")

    titles, cursor = [], None
    while True:
        query = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(f"{hub.url}/videos", headers=auth, params=query)).json()
        titles += [v["title"] for v in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert titles == ["half", "v4", "v3", "v2", "v1", "v0"]  # newest first, uploads included
    assert (await client.get(f"{hub.url}/videos", headers=other)).json()["items"] == []

    public = (await client.get(f"{hub.url}/videos/public", params={"limit": "2"})).json()
    assert [v["title"] for v in public["items"]] == ["v2", "v1"]
    rest = await client.get(f"{hub.url}/videos/public", params={"cursor": public["next_cursor"]})
    assert [v["title"] for v in rest.json()["items"]] == ["v0"]
    assert rest.json()["next_cursor"] is None
    assert all(v["owner"]["username"].startswith("user") for v in public["items"])
    bad = await client.get(f"{hub.url}/videos/public", params={"cursor": "!!"})
    assert bad.status_code == 400 and bad.json()["field"] == "cursor"
    assert (await client.get(f"{hub.url}/videos/public", params={"limit": "0"})).status_code == 400

    assert (await client.get(f"{hub.url}/videos/{made[0]['id']}")).status_code == 200
    for hidden in (made[3]["id"], made[4]["id"], pending["video_id"]):
        assert (await client.get(f"{hub.url}/videos/{hidden}")).status_code == 404
        assert (await client.get(f"{hub.url}/videos/{hidden}", headers=other)).status_code == 404
        assert (await client.get(f"{hub.url}/videos/{hidden}", headers=auth)).status_code == 200
    assert (await client.get(f"{hub.url}/videos/not-an-id")).status_code == 404

    url = f"{hub.url}/videos/{made[3]['id']}"
    r = await client.patch(url, headers=auth, json={"title": " Renamed ", "visibility": "public"})
    assert r.status_code == 200 and r.json()["title"] == "Renamed"
    assert r.json()["visibility"] == "public"
    assert (await client.get(url)).status_code == 200
    r = await client.patch(url, headers=auth, json={"visibility": "unlisted"})
    assert r.status_code == 400 and r.json()["field"] == "visibility"
    assert (await client.patch(url, headers=other, json={"title": "x"})).status_code == 404


async def test_delete_removes_objects_and_aborts_uploads(
    make_hub: MakeHub, sqlite_database: str, store: WeedStore, client: httpx.AsyncClient
) -> None:
    hub = await upload_hub(make_hub, sqlite_database, store)
    auth = await sign_in(client, hub)
    s3 = store.client()
    video = await _uploaded(client, hub, auth, "gone")
    derived = video["key"] + "/hls/master.m3u8"
    s3.put_object(Bucket=MEDIA_BUCKET, Key=derived, Body=b"#EXTM3U\n")
    neighbour = video["key"] + ".other"
    s3.put_object(Bucket=MEDIA_BUCKET, Key=neighbour, Body=b"keep")
    other = await sign_in(client, hub, "other")
    assert (
        await client.delete(f"{hub.url}/videos/{video['id']}", headers=other)
    ).status_code == 404
    assert (await client.delete(f"{hub.url}/videos/{video['id']}", headers=auth)).status_code == 204
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=MEDIA_BUCKET, Prefix=video["key"]).get("Contents", [])
    ]
    assert keys == [neighbour]
    assert (await client.get(f"{hub.url}/videos/{video['id']}", headers=auth)).status_code == 404

    multi = (await _ask(client, hub, auth, size=9 * MiB)).json()
    assert multi["upload"]["kind"] == "multipart"
    await client.put(multi["upload"]["parts"][0]["url"], content=pattern(5 * MiB))
    r = await client.delete(f"{hub.url}/videos/{multi['video_id']}", headers=auth)
    assert r.status_code == 204
    uploads = s3.list_multipart_uploads(Bucket=MEDIA_BUCKET, Prefix=multi["key"]).get("Uploads", [])
    assert uploads == []


async def test_cleanup_removes_abandoned_uploads_only(
    make_hub: MakeHub, sqlite_database: str, store: WeedStore, client: httpx.AsyncClient
) -> None:
    hub = await upload_hub(make_hub, sqlite_database, store, abandon_after=3600)
    auth = await sign_in(client, hub)
    s3 = store.client()
    finished = await _uploaded(client, hub, auth, "kept")
    single = (await _ask(client, hub, auth, size=300)).json()
    await client.put(
        single["upload"]["url"], content=pattern(100), headers=single["upload"]["headers"]
    )
    multi = (await _ask(client, hub, auth, size=9 * MiB)).json()
    r = await client.post(
        f"{hub.url}/uploads/",
        headers=auth
        | {
            "Tus-Resumable": "1.0.0",
            "Upload-Length": "1000",
            "Upload-Metadata": "filename YS5tcDQ=",
        },
    )
    tus_id = r.json()["id"]
    await client.patch(
        r.headers["Location"],
        content=b"x" * 10,
        headers=auth
        | {
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert hub.runner is not None
    service, tus = hub.runner.app[VIDEOS], hub.runner.app[TUS]
    assert len(tus.files_of(uuid.UUID(tus_id))) == 1

    soon = service.now() + timedelta(seconds=3000)
    assert await asyncio.to_thread(sweep, service, tus, soon) == []
    later = service.now() + timedelta(seconds=3700)
    removed = await asyncio.to_thread(sweep, service, tus, later)
    assert {str(v) for v in removed} == {single["video_id"], multi["video_id"], tus_id}

    mine = (await client.get(f"{hub.url}/videos", headers=auth)).json()["items"]
    assert [v["id"] for v in mine] == [finished["id"]]
    assert tus.files_of(uuid.UUID(tus_id)) == []
    assert "Contents" not in s3.list_objects_v2(Bucket=MEDIA_BUCKET, Prefix=single["key"])
    prefix = multi["key"]
    assert s3.list_multipart_uploads(Bucket=MEDIA_BUCKET, Prefix=prefix).get("Uploads", []) == []


async def test_cors_for_the_web_app_and_no_storage(
    make_hub: MakeHub, sqlite_database: str, store: WeedStore, client: httpx.AsyncClient
) -> None:
    app = "http://127.0.0.1:5173"
    hub = await upload_hub(make_hub, sqlite_database, store, cors_origins=[app])
    preflight = await client.options(
        f"{hub.url}/uploads/abc",
        headers={
            "Origin": app,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, tus-resumable, upload-offset",
        },
    )
    assert preflight.status_code == 204
    assert "PATCH" in preflight.headers["Access-Control-Allow-Methods"]
    assert "upload-offset" in preflight.headers["Access-Control-Allow-Headers"]
    r = await client.get(f"{hub.url}/videos/public", headers={"Origin": app})
    assert r.headers["Access-Control-Allow-Origin"] == app
    assert "Upload-Offset" in r.headers["Access-Control-Expose-Headers"]
    r = await client.get(f"{hub.url}/videos/public", headers={"Origin": "http://evil.test"})
    assert "Access-Control-Allow-Origin" not in r.headers

    bare = await make_hub(sqlite_database)
    auth = await sign_in(client, bare, "bare")
    r = await _ask(client, bare, auth)
    assert r.status_code == 503 and r.json()["error"] == "storage_not_configured"
