"""tus 1.0.0 against a real `weed mini`: discovery, creation, checksums, offsets, resumption
after a dropped connection and after a server restart, termination."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from tests.integration.mediahub.conftest import MakeHub
from tests.integration.mediahub.uploads_helpers import MiB, pattern, sign_in, store, upload_hub
from tests.support.weed import MEDIA_BUCKET, WeedStore

from openfront.mediahub.server import RunningMediaHub

__all__ = ["store"]
TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = {"Content-Type": "application/offset+octet-stream"}


def _meta(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


async def _create(
    client: httpx.AsyncClient, hub: RunningMediaHub, auth: dict[str, str], size: int
) -> str:
    r = await client.post(
        f"{hub.url}/uploads/",
        headers=auth
        | TUS
        | {
            "Upload-Length": str(size),
            "Upload-Metadata": _meta(filename="clip.mp4", filetype="video/mp4", title="słońce"),
        },
    )
    assert r.status_code == 201, r.text
    assert r.headers["Tus-Resumable"] == "1.0.0"
    location = r.headers["Location"]
    assert location.endswith("/uploads/" + r.json()["id"])  # the URL names the video
    return location


async def _offset(client: httpx.AsyncClient, location: str, auth: dict[str, str]) -> int:
    r = await client.head(location, headers=auth | TUS)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    return int(r.headers["Upload-Offset"])


async def _patch(
    client: httpx.AsyncClient,
    location: str,
    auth: dict[str, str],
    offset: int,
    data: bytes,
    **headers: str,
) -> httpx.Response:
    return await client.patch(
        location,
        content=data,
        headers=auth | TUS | OCTETS | {"Upload-Offset": str(offset)} | headers,
    )


def _key(store: WeedStore, video: dict[str, object]) -> bytes:
    body = store.client().get_object(Bucket=MEDIA_BUCKET, Key=video["key"])["Body"].read()
    assert isinstance(body, bytes)
    return body


async def test_discovery_creation_checksums_and_offsets(
    make_hub: MakeHub, sqlite_database: str, store: WeedStore, client: httpx.AsyncClient
) -> None:
    hub = await upload_hub(make_hub, sqlite_database, store)
    auth = await sign_in(client, hub)
    r = await client.options(f"{hub.url}/uploads/")
    assert r.status_code == 204
    assert r.headers["Tus-Version"] == "1.0.0"
    assert {"creation", "termination", "checksum"} <= set(r.headers["Tus-Extension"].split(","))
    assert "sha1" in r.headers["Tus-Checksum-Algorithm"] and int(r.headers["Tus-Max-Size"]) > 0

    data = pattern(7 * MiB + 5, seed=9)
    location = await _create(client, hub, auth, len(data))
    assert await _offset(client, location, auth) == 0

    wrong = await _patch(client, location, auth, 10, data[:10])
    assert wrong.status_code == 409 and wrong.json()["offset"] == 0

    chunk = data[: 6 * MiB]
    bad = base64.b64encode(hashlib.sha1(b"other").digest()).decode()
    r = await _patch(client, location, auth, 0, chunk, **{"Upload-Checksum": f"sha1 {bad}"})
    assert r.status_code == 460 and r.json()["error"] == "checksum_mismatch"
    assert await _offset(client, location, auth) == 0

    good = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
    r = await _patch(client, location, auth, 0, chunk, **{"Upload-Checksum": f"sha256 {good}"})
    assert r.status_code == 204, r.text
    assert r.headers["Upload-Offset"] == str(len(chunk)) and "Upload-Expires" in r.headers
    unknown = await _patch(client, location, auth, len(chunk), b"x", **{"Upload-Checksum": "crc x"})
    assert unknown.status_code == 400

    r = await _patch(client, location, auth, len(chunk), data[len(chunk) :])
    assert r.status_code == 204 and r.headers["Upload-Offset"] == str(len(data))
    head = await client.head(location, headers=auth | TUS)
    assert head.headers["Upload-Length"] == str(len(data))
    assert _meta(filename="clip.mp4") in head.headers["Upload-Metadata"]

    video_id = urlsplit(location).path.rsplit("/", 1)[1]
    video = (await client.get(f"{hub.url}/videos/{video_id}", headers=auth)).json()
    assert video["status"] == "queued" and video["title"] == "słońce"
    assert _key(store, video) == data


async def test_refusals(
    make_hub: MakeHub, sqlite_database: str, store: WeedStore, client: httpx.AsyncClient
) -> None:
    hub = await upload_hub(make_hub, sqlite_database, store)
    auth = await sign_in(client, hub)
    base = f"{hub.url}/uploads/"
    r = await client.post(base, headers=auth | {"Upload-Length": "5"})
    assert r.status_code == 412 and r.headers["Tus-Version"] == "1.0.0"
    r = await client.post(base, headers=TUS | {"Upload-Length": "5"})
    assert r.status_code == 401
    r = await client.post(base, headers=auth | TUS | {"Upload-Metadata": _meta(filename="a.mp4")})
    assert r.status_code == 400 and "Upload-Length" in r.json()["message"]
    meta = {"Upload-Length": "5", "Upload-Metadata": _meta(filename="notes.txt")}
    r = await client.post(base, headers=auth | TUS | meta)
    assert r.status_code == 415 and r.json()["error"] == "unsupported_type"
    r = await client.post(base, headers=auth | TUS | {"Upload-Length": "5", "Upload-Metadata": "a"})
    assert r.status_code == 400  # no filename
    r = await client.post(
        base, headers=auth | TUS | {"Upload-Length": "5", "Upload-Metadata": "f !"}
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_header"

    location = await _create(client, hub, auth, 10)
    r = await client.patch(
        location,
        content=b"0123456789",
        headers=auth | TUS | {"Upload-Offset": "0", "Content-Type": "application/json"},
    )
    assert r.status_code == 415
    r = await _patch(client, location, auth, 0, b"01234567890")
    assert r.status_code == 413
    other = await sign_in(client, hub, "other")
    assert (await client.head(location, headers=other | TUS)).status_code == 404
    r = await client.post(location, headers=auth | TUS | {"X-HTTP-Method-Override": "DELETE"})
    assert r.status_code == 204  # termination, through the override tus requires
    assert (await client.head(location, headers=auth | TUS)).status_code == 404


async def test_creation_with_upload(
    make_hub: MakeHub, sqlite_database: str, store: WeedStore, client: httpx.AsyncClient
) -> None:
    hub = await upload_hub(make_hub, sqlite_database, store)
    auth = await sign_in(client, hub)
    data = pattern(1234)
    r = await client.post(
        f"{hub.url}/uploads/",
        content=data,
        headers=auth
        | TUS
        | OCTETS
        | {"Upload-Length": str(len(data)), "Upload-Metadata": _meta(filename="tiny.webm")},
    )
    assert r.status_code == 201, r.text
    assert r.headers["Upload-Offset"] == str(len(data))
    assert r.json()["status"] == "queued" and r.json()["content_type"] == "video/webm"
    assert _key(store, r.json()) == data

    bad = base64.b64encode(hashlib.sha1(b"other").digest()).decode()
    r = await client.post(
        f"{hub.url}/uploads/",
        content=data,
        headers=auth
        | TUS
        | OCTETS
        | {
            "Upload-Length": str(len(data)),
            "Upload-Metadata": _meta(filename="tiny.webm"),
            "Upload-Checksum": f"sha1 {bad}",
        },
    )
    assert r.status_code == 201  # created; the refused chunk is simply not there
    assert r.headers["Upload-Offset"] == "0" and r.json()["status"] == "uploading"
    r = await _patch(client, r.headers["Location"], auth, 0, data)
    assert r.status_code == 204 and r.headers["Upload-Offset"] == str(len(data))


async def _send_partially(location: str, auth: dict[str, str], total: int, data: bytes) -> None:
    """A PATCH announcing ``total`` bytes that sends ``data`` and then drops the connection."""
    url = urlsplit(location)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    head = (
        f"PATCH {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Authorization: {auth['Authorization']}\r\nTus-Resumable: 1.0.0\r\n"
        "Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n"
        f"Content-Length: {total}\r\n\r\n"
    )
    writer.write(head.encode() + data)
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    del reader


async def test_resumes_after_a_dropped_connection(
    make_hub: MakeHub, sqlite_database: str, store: WeedStore, client: httpx.AsyncClient
) -> None:
    hub = await upload_hub(make_hub, sqlite_database, store)
    auth = await sign_in(client, hub)
    data = pattern(11 * MiB + 77, seed=5)
    location = await _create(client, hub, auth, len(data))
    await _send_partially(location, auth, len(data), data[: 6 * MiB])
    offset = await _offset(client, location, auth)
    assert 0 <= offset <= 6 * MiB  # what the server had read when the HEAD stopped the PATCH
    r = await _patch(client, location, auth, offset, data[offset:])
    assert r.status_code == 204, r.text
    video_id = urlsplit(location).path.rsplit("/", 1)[1]
    video = (await client.get(f"{hub.url}/videos/{video_id}", headers=auth)).json()
    assert video["status"] == "queued"
    assert _key(store, video) == data


async def test_resumes_after_a_server_restart(
    make_hub: MakeHub,
    sqlite_database: str,
    store: WeedStore,
    client: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "hub"
    hub = await upload_hub(make_hub, sqlite_database, store, data_dir=data_dir)
    auth = await sign_in(client, hub)
    data = pattern(13 * MiB + 1, seed=7)
    location = await _create(client, hub, auth, len(data))
    first = 6 * MiB + 100  # one 5 MiB part in the store, the rest in the staging file
    r = await _patch(client, location, auth, 0, data[:first])
    assert r.status_code == 204
    await hub.close()

    again = await upload_hub(make_hub, sqlite_database, store, data_dir=data_dir)
    location = location.replace(hub.url, again.url)
    assert await _offset(client, location, auth) == first
    r = await _patch(client, location, auth, first, data[first:])
    assert r.status_code == 204, r.text
    video_id = urlsplit(location).path.rsplit("/", 1)[1]
    video = (await client.get(f"{again.url}/videos/{video_id}", headers=auth)).json()
    assert video["status"] == "queued"
    assert _key(store, video) == data
    assert list((data_dir / "mediahub" / "tus").iterdir()) == []
