"""Playback URLs and signed cookies from a real MediaHub server, checked with
openfront.signing.check_request as the edge checks them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
from tests.integration.mediahub.conftest import MakeHub
from tests.integration.mediahub.uploads_helpers import sign_in
from tests.support.keys import ec_key_pair

from openfront.mediahub.models import Video
from openfront.mediahub.server import RunningMediaHub
from openfront.signing import Allowed, check_request, load_public_key

CDN = "https://localhost:8443"
KEY_ID = "K2JCJMDEHXQW5F"


async def _video(
    hub: RunningMediaHub, client: httpx.AsyncClient, auth: dict[str, str], **values: object
) -> Video:
    """A video row as processing leaves it (ready unless told otherwise)."""
    me = (await client.get(f"{hub.url}/auth/me", headers=auth)).json()
    now = datetime.now(UTC)
    video_id, owner = uuid.uuid4(), uuid.UUID(me["id"])
    fields: dict[str, object] = {
        "id": video_id,
        "owner_id": owner,
        "key": f"videos/{owner}/{video_id.int % 10**13}_trip.mp4",
        "region": "ap-northeast-2",
        "bucket": "media",
        "title": "trip",
        "filename": "trip.mp4",
        "content_type": "video/mp4",
        "size": 1000,
        "status": "ready",
        "progress": 1.0,
        "failure_reason": None,
        "visibility": "private",
        "upload_kind": "single",
        "upload_id": None,
        "part_size": 0,
        "tus_parts": None,
        "duration": 5.0,
        "created_at": now,
        "updated_at": now,
        "completed_at": now,
    } | values
    video = Video(**fields)
    assert hub.db is not None
    with hub.db.write() as s:
        s.add(video)
    return video


async def test_a_private_video_plays_with_signed_cookies_or_signed_urls(
    make_hub: MakeHub, sqlite_database: str, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    pem, public = ec_key_pair(tmp_path)
    playback = {"cdn_url": CDN, "key_pair_id": KEY_ID, "private_key_file": str(pem), "ttl": 600}
    hub = await make_hub(sqlite_database, playback=playback)
    owner = await sign_in(client, hub, "o")
    video = await _video(hub, client, owner)
    base = f"{CDN}/{video.key}/"

    r = await client.get(f"{hub.url}/videos/{video.id}", headers=owner)
    assert r.json()["hls_url"] == base + "hls/master.m3u8"
    assert r.json()["thumbnails_url"] == base + "thumbs/thumbnails.vtt"
    assert (await client.get(f"{hub.url}/videos", headers=owner)).json()["items"][0][
        "poster_url"
    ] == base + "poster.jpg"

    r = await client.post(f"{hub.url}/videos/{video.id}/playback", headers=owner)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["signed"] is True and body["hls_url"] == base + "hls/master.m3u8"
    assert r.headers["Cache-Control"] == "no-store"
    lines = r.headers.get_list("Set-Cookie")
    assert len(lines) == 3
    jar: SimpleCookie = SimpleCookie()
    for line in lines:
        jar.load(line)
    cookies = {name: morsel.value for name, morsel in jar.items()}
    assert cookies == body["cookies"]
    for morsel in jar.values():
        assert morsel["path"] == urlsplit(base).path == body["cookie_path"]
        assert morsel["httponly"] and morsel["secure"] and morsel["samesite"] == "None"
        assert morsel["max-age"] == "600"

    trusted = {KEY_ID: load_public_key(public)}

    def allowed(url: str, query: list[tuple[str, str]], jar_: dict[str, str]) -> bool:
        now = datetime.now(UTC).timestamp()
        result = check_request(url, query, jar_, key_groups=trusted, now=now, client_ip="127.0.0.1")
        return isinstance(result, Allowed)

    for name in ("hls/master.m3u8", "hls/360p/index.m3u8", "hls/360p/seg_00001.m4s", "poster.jpg"):
        assert allowed(base + name, [], cookies), name
    assert not allowed(f"{CDN}/videos/{uuid.uuid4()}/1_x.mp4/hls/master.m3u8", [], cookies)
    signed_hls = body["signed_urls"]["hls_url"]
    url, _, query = signed_hls.partition("?")
    assert url == base + "hls/master.m3u8" and allowed(url, parse_qsl(query), {})
    segment_query = parse_qsl(body["signed_query"])
    assert allowed(base + "hls/240p/seg_00000.m4s", segment_query, {})

    stranger = await sign_in(client, hub, "s")
    for headers in (stranger, {}):
        r = await client.post(f"{hub.url}/videos/{video.id}/playback", headers=headers)
        assert r.status_code == 404 and r.json()["error"] == "not_found"

    # With a key pair every playback is signed: public videos for anyone, since public and
    # private videos share the videos/ prefix the edge restricts.
    public = await _video(hub, client, owner, visibility="public")
    r = await client.post(f"{hub.url}/videos/{public.id}/playback")
    assert r.status_code == 200 and r.json()["signed"] is True
    public_cookies = r.json()["cookies"]
    assert allowed(f"{CDN}/{public.key}/hls/master.m3u8", [], public_cookies)
    assert not allowed(base + "hls/master.m3u8", [], public_cookies)  # not the private one


async def test_public_ready_and_unfinished_videos(
    make_hub: MakeHub, sqlite_database: str, client: httpx.AsyncClient
) -> None:
    hub = await make_hub(sqlite_database, playback={"cdn_url": CDN + "/media/"})
    owner = await sign_in(client, hub)
    public = await _video(hub, client, owner, visibility="public")
    r = await client.post(f"{hub.url}/videos/{public.id}/playback")  # anyone
    assert r.status_code == 200, r.text
    assert "Set-Cookie" not in r.headers
    assert r.json() == {
        "visibility": "public",
        "signed": False,
        "hls_url": f"{CDN}/media/{public.key}/hls/master.m3u8",
        "poster_url": f"{CDN}/media/{public.key}/poster.jpg",
        "thumbnails_url": f"{CDN}/media/{public.key}/thumbs/thumbnails.vtt",
    }
    listed = (await client.get(f"{hub.url}/videos/public")).json()["items"]
    assert listed[0]["hls_url"] == f"{CDN}/media/{public.key}/hls/master.m3u8"

    busy = await _video(hub, client, owner, status="processing", progress=0.4)
    r = await client.post(f"{hub.url}/videos/{busy.id}/playback", headers=owner)
    assert r.status_code == 409 and r.json()["error"] == "not_ready"
    assert "processing" in r.json()["message"]
    r = await client.get(f"{hub.url}/videos/{busy.id}", headers=owner)
    assert r.json()["hls_url"] is None and r.json()["thumbnails_url"] is None

    private = await _video(hub, client, owner)
    r = await client.post(f"{hub.url}/videos/{private.id}/playback", headers=owner)
    assert r.status_code == 503 and r.json()["error"] == "signing_not_configured"
    r = await client.post(f"{hub.url}/videos/not-an-id/playback", headers=owner)
    assert r.status_code == 404


async def test_without_a_cdn_there_are_no_urls(
    make_hub: MakeHub, sqlite_database: str, client: httpx.AsyncClient
) -> None:
    hub = await make_hub(sqlite_database)
    owner = await sign_in(client, hub)
    video = await _video(hub, client, owner, visibility="public")
    r = await client.get(f"{hub.url}/videos/{video.id}")
    assert r.status_code == 200 and r.json()["hls_url"] is None
    assert "thumbnails_url" in r.json() and r.json()["thumbnails_url"] is None
    r = await client.post(f"{hub.url}/videos/{video.id}/playback", headers=owner)
    assert r.status_code == 503 and r.json()["error"] == "playback_not_configured"
