"""The web app's files from the API server: SPA fallback, caching, content types, no traversal."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from tests.integration.mediahub.conftest import MakeHub

from openfront.mediahub.routes import web as web_routes
from openfront.mediahub.server import RunningMediaHub

INDEX = b'<!doctype html><html><head><script type="module" src="/assets/index-Ab12.js"></script>'
SCRIPT = b"console.log('mediahub');\n"
STYLE = b"body { margin: 0 }\n"
SECRET = b"top secret outside the web root"


@pytest.fixture
def webroot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A built app in a temporary folder, with a secret next to it and a symlink pointing out."""
    root = tmp_path / "webapp"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_bytes(INDEX)
    (root / "assets" / "index-Ab12.js").write_bytes(SCRIPT)
    (root / "assets" / "index-Cd34.css").write_bytes(STYLE)
    (root / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
    (root / ".env").write_bytes(SECRET)
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (root / "assets" / "out.js").symlink_to(tmp_path / "secret.txt")
    monkeypatch.setattr(web_routes, "WEBAPP_DIR", root)
    return root


@pytest.fixture
async def hub(sqlite_database: str, make_hub: MakeHub, webroot: Path) -> RunningMediaHub:
    return await make_hub(sqlite_database)


async def raw_get(hub: RunningMediaHub, target: str) -> tuple[int, bytes]:
    """Send the request target byte for byte (httpx would tidy up the dot segments)."""
    reader, writer = await asyncio.open_connection(hub.host, hub.port)
    try:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        data = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = data.partition(b"\r\n\r\n")
    match = re.match(rb"HTTP/1\.1 (\d{3})", head)
    assert match, head
    return int(match.group(1)), body


async def test_index_and_client_side_paths_get_the_app(
    hub: RunningMediaHub, client: httpx.AsyncClient
) -> None:
    for path in ("/", "/signin", "/my-videos", "/watch/3f1c-aa", "/watch/abc?t=12"):
        r = await client.get(hub.url + path)
        assert r.status_code == 200, path
        assert r.content == INDEX
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert r.headers["cache-control"] == "no-cache"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "script-src 'self';" in r.headers["content-security-policy"]


async def test_the_page_allows_media_from_the_cdn(
    sqlite_database: str, make_hub: MakeHub, webroot: Path, client: httpx.AsyncClient
) -> None:
    hub = await make_hub(sqlite_database, playback={"cdn_url": "http://127.0.0.1:8443/media"})
    for path in ("/", "/index.html"):
        csp = (await client.get(hub.url + path)).headers["content-security-policy"]
        assert "media-src 'self' blob: http://127.0.0.1:8443;" in csp, path
    asset = await client.get(f"{hub.url}/assets/index-Ab12.js")
    assert "content-security-policy" not in asset.headers


async def test_hashed_assets_are_cached_for_a_year(
    hub: RunningMediaHub, client: httpx.AsyncClient
) -> None:
    r = await client.get(f"{hub.url}/assets/index-Ab12.js")
    assert r.status_code == 200 and r.content == SCRIPT
    assert r.headers["content-type"] == "text/javascript; charset=utf-8"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    r = await client.get(f"{hub.url}/assets/index-Cd34.css")
    assert r.headers["content-type"] == "text/css; charset=utf-8"
    # Revalidation and HEAD work as for any static file.
    etag = r.headers["etag"]
    again = await client.get(f"{hub.url}/assets/index-Cd34.css", headers={"If-None-Match": etag})
    assert again.status_code == 304
    head = await client.head(f"{hub.url}/assets/index-Ab12.js")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(SCRIPT))
    # Other top-level files are revalidated like index.html.
    icon = await client.get(f"{hub.url}/favicon.ico")
    assert icon.headers["content-type"] == "image/vnd.microsoft.icon"
    assert icon.headers["cache-control"] == "no-cache"


async def test_missing_files_and_api_paths_stay_404(
    hub: RunningMediaHub, client: httpx.AsyncClient
) -> None:
    for path in ("/assets/index-Old1.js", "/robots.txt", "/auth/nope", "/healthz/x"):
        r = await client.get(hub.url + path)
        assert r.status_code == 404, path
        assert r.json()["error"] == "not_found"
    # The API's own answers are untouched: a wrong method is still 405 with Allow.
    r = await client.get(f"{hub.url}/auth/signup")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    r = await client.get(f"{hub.url}/healthz")
    assert r.json()["status"] == "ok"
    # Only GET and HEAD get the app.
    r = await client.post(f"{hub.url}/watch/abc")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/assets/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/%2E%2E/%2e%2e/secret.txt",
        "/assets/..%2f..%2fsecret.txt",
        "/assets/..%5c..%5csecret.txt",
        "/assets/out.js",
        "/.env",
        "/assets/%00.js",
    ],
)
async def test_nothing_outside_the_root_is_served(hub: RunningMediaHub, target: str) -> None:
    status, body = await raw_get(hub, target)
    assert status == 404, target
    assert SECRET not in body and b'"not_found"' in body


async def test_without_a_build_the_server_says_so(
    hub: RunningMediaHub, client: httpx.AsyncClient, webroot: Path
) -> None:
    (webroot / "index.html").unlink()
    r = await client.get(f"{hub.url}/watch/abc")
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-store"
    assert "web app is not built" in r.text and "make install" in r.text
    assert (await client.get(f"{hub.url}/assets/index-Zz99.js")).status_code == 404
    assert (await client.get(f"{hub.url}/healthz")).status_code == 200


def test_the_real_bundle_is_consistent() -> None:
    """When `make install` has built the app, index.html's assets exist and are hashed."""
    index = web_routes.WEBAPP_DIR / "index.html"
    if not index.is_file():
        pytest.skip("the web app is not built (needs Node.js: make install)")
    html = index.read_text()
    assets = re.findall(r'(?:src|href)="/(assets/[^"]+)"', html)
    assert any(a.endswith(".js") for a in assets), html
    for asset in assets:
        assert (web_routes.WEBAPP_DIR / asset).is_file(), asset
        assert re.search(r"-[A-Za-z0-9_-]{8}\.\w+$", asset), f"{asset} is not content-hashed"
