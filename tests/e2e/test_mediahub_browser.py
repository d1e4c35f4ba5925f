"""MediaHub in a real browser: Debian's Chromium, driven by Playwright, signs up, uploads a
generated clip, waits for it to be ready, plays and seeks it through the media edge, and
switches language; a screenshot at each step is kept (the folder is printed at the end).

The stack is started here the way tests/integration/mediahub/ starts it: a real `weed mini`
bucket, a MediaHub server (Seoul, Korean) with its in-process processing worker, and an
OpenFront edge whose origin is the bucket, requiring the API's signatures for HLS.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e import mediahub_flow as flow
from tests.e2e.browser import Shots, chromium, require_browser
from tests.integration.mediahub.conftest import hub_config
from tests.integration.mediahub.uploads_helpers import storage_settings, store
from tests.support.edge import config
from tests.support.keys import ec_key_pair
from tests.support.weed import MEDIA_BUCKET, WeedStore

from openfront.edge.server import RunningEdge
from openfront.mediahub.routes import web as web_routes
from openfront.mediahub.server import RunningMediaHub

__all__ = ["store"]
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]
KEY_ID = "K2JCJMDEHXQW5F"


def _edge_config(store: WeedStore, public_pem: str) -> Any:
    """The bucket behind the edge (Origin Access Control), HLS restricted to the key group,
    and CORS: hls.js on the app's origin fetches playlists and segments from this one."""
    domain = f"{MEDIA_BUCKET}.s3.{store.region.name}.amazonaws.com"
    origin = {
        "Id": "media",
        "DomainName": domain,
        "ConnectionAttempts": 1,
        "S3OriginConfig": {"OriginAccessIdentity": ""},
        "OriginAccessControlId": "EOACMEDIA",
    }
    behavior = {
        "TargetOriginId": "media",
        "CachePolicyId": "CachingOptimized",
        "ResponseHeadersPolicyId": "cors",
    }
    dist = {
        "Origins": [origin],
        "DefaultCacheBehavior": behavior,
        "CacheBehaviors": [
            {"PathPattern": "videos/*/hls/*", **behavior, "TrustedKeyGroups": ["kg-media"]}
        ],
    }
    cors = {
        "AccessControlAllowOrigins": ["*"],
        "AccessControlAllowHeaders": ["*"],
        "AccessControlAllowMethods": ["GET", "HEAD", "OPTIONS"],
        "AccessControlAllowCredentials": False,
        "OriginOverride": True,
    }
    top = {
        "OriginAccessControls": [
            {
                "Id": "EOACMEDIA",
                "OriginAccessControlConfig": {
                    "Name": "media",
                    "SigningProtocol": "sigv4",
                    "SigningBehavior": "always",
                    "OriginAccessControlOriginType": "s3",
                },
            }
        ],
        "PublicKeys": [
            {"Id": KEY_ID, "PublicKeyConfig": {"Name": "mediahub", "EncodedKey": public_pem}}
        ],
        "KeyGroups": [{"Id": "kg-media", "KeyGroupConfig": {"Name": "media", "Items": [KEY_ID]}}],
        "ResponseHeadersPolicies": [
            {"Id": "cors", "ResponseHeadersPolicyConfig": {"Name": "cors", "CorsConfig": cors}}
        ],
    }
    entry = {
        "domain_name": domain,
        "endpoint": store.endpoint,
        "region_dir": str(store.region.paths.root),
    }
    return config(dist, top=top, s3_origins=[entry])


@pytest.fixture(scope="module", autouse=True)
def browser() -> None:
    """Skip before starting anything when there is no browser."""
    require_browser()


@pytest.fixture
async def seoul(store: WeedStore, tmp_path: Path) -> AsyncIterator[flow.Site]:
    """Seoul's MediaHub (API, app, worker) and its media edge, on free ports."""
    if not (web_routes.WEBAPP_DIR / "index.html").exists():
        pytest.skip("the web app is not built: make web (needs Node.js 18+)")
    pem, public = ec_key_pair(tmp_path)
    edge = RunningEdge(_edge_config(store, public))
    await edge.start()
    cdn = f"http://127.0.0.1:{edge.port}"
    playback = {"cdn_url": cdn, "key_pair_id": KEY_ID, "private_key_file": str(pem)}
    processing = {"worker": True, "poll_interval": 0.1, "preset": "ultrafast", "lease": 10}
    hub = RunningMediaHub(
        hub_config(
            f"sqlite:///{tmp_path / 'mediahub.db'}",
            tmp_path / "data",
            region="ap-northeast-2",
            storage=storage_settings(store),
            processing=processing,
            playback=playback,
        )
    )
    try:
        await hub.start()
        yield flow.Site(url=hub.url, cdn_url=cdn)
    finally:
        await hub.close()
        await edge.close()


async def test_sign_up_upload_watch_and_switch_language(
    seoul: flow.Site, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    shots = Shots.for_test(request.node.name)
    clip = flow.make_clip(tmp_path / "han-river.mp4")
    traffic = flow.Traffic()
    account = flow.Account()
    async with chromium(tmp_path / "profile") as context:
        page = await context.new_page()
        traffic.watch(page)
        try:
            await flow.sign_up(page, seoul, shots, account)
            await flow.upload(page, shots, traffic, clip)
            video_id = await flow.wait_until_ready(page, shots)
            await flow.watch(page, seoul, shots, traffic, video_id)
            await flow.switch_languages(page, seoul, shots, account)
            await flow.share_publicly(page, seoul, shots, traffic)
        except BaseException:
            await shots.take(page, "failure")
            raise
        finally:
            shots.note("traffic.log", traffic.lines())
    assert traffic.page_errors == []
    assert len(shots.taken) >= 12
