"""``POST /videos/{id}/playback``: where to play a video, with signed cookies when private;
and the middleware that puts the CDN URLs into every video the ``/videos`` routes return."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import select

from openfront.config.mediahub import PlaybackConfig
from openfront.mediahub import errors
from openfront.mediahub.context import AUTH, CONFIG, DATABASE
from openfront.mediahub.database import Database
from openfront.mediahub.models import Video
from openfront.mediahub.playback import iso, playback_urls, sign_playback
from openfront.signing import PrivateKey, load_private_key

routes = web.RouteTableDef()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
URL_FIELDS = ("hls_url", "poster_url", "thumbnails_url")


class PlaybackSigner:
    """The CloudFront private key, read once on first use."""

    def __init__(self, cfg: PlaybackConfig) -> None:
        self.cfg = cfg
        self._key: PrivateKey | None = None
        self._lock = asyncio.Lock()

    async def key(self) -> PrivateKey:
        async with self._lock:
            if self._key is None:
                path = self.cfg.private_key_file
                assert path is not None
                try:
                    pem = await asyncio.to_thread(path.read_bytes)
                    self._key = load_private_key(pem)
                except (OSError, ValueError):
                    raise errors.ApiError(
                        503, "signing_unavailable", "the CDN signing key cannot be read"
                    ) from None
            return self._key


SIGNER = web.AppKey("playback_signer", PlaybackSigner)


def _video_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise errors.ApiError(404, "not_found", "no such video") from None


def _load(db: Database, video_id: uuid.UUID) -> Video | None:
    with db.read() as s:
        return s.scalar(select(Video).where(Video.id == video_id))


@routes.post("/videos/{id}/playback")
async def playback(request: web.Request) -> web.Response:
    cfg = request.app[CONFIG]
    header = request.headers.get("Authorization")
    viewer = None if header is None else (await request.app[AUTH].authenticate(header)).id
    video = await asyncio.to_thread(
        _load, request.app[DATABASE], _video_id(request.match_info["id"])
    )
    public = video is not None and video.visibility == "public" and video.status == "ready"
    if video is None or (video.owner_id != viewer and not public):
        raise errors.ApiError(404, "not_found", "no such video")
    if video.status != "ready":
        raise errors.ApiError(
            409, "not_ready", f"the video is {video.status}: it can be played once ready"
        )
    if cfg.playback.cdn_url is None:
        raise errors.ApiError(
            503, "playback_not_configured", "this server has no CDN URL (playback.cdn_url)"
        )
    urls = playback_urls(cfg.playback.cdn_url, video.key)
    body: dict[str, Any] = {"visibility": video.visibility, **urls.as_json(), "signed": False}
    if cfg.playback.key_pair_id is None:
        if video.visibility == "public":
            return web.json_response(body)  # an edge that trusts no key serves it as is
        raise errors.ApiError(
            503,
            "signing_not_configured",
            "private videos need a CloudFront key pair (playback.key_pair_id, "
            "playback.private_key_file)",
        )
    signed = sign_playback(
        urls,
        cfg.playback.key_pair_id,
        await request.app[SIGNER].key(),
        now=time.time(),
        ttl=cfg.playback.ttl,
        cookie_domain=cfg.playback.cookie_domain,
    )
    body |= {
        "signed": True,
        "expires_at": iso(signed.expires),
        "cookies": signed.cookies,
        "cookie_path": signed.cookie_path,
        "cookie_domain": cfg.playback.cookie_domain,
        "signed_query": signed.query,
        "signed_urls": {name: signed.signed_url(url) for name, url in urls.as_json().items()},
    }
    response = web.json_response(body)
    for line in signed.set_cookie:
        response.headers.add("Set-Cookie", line)
    return response


def _fill(value: Any, cdn_url: str | None) -> None:
    """Every video object in a response gets its CDN URLs (null until it is ready)."""
    if isinstance(value, list):
        for item in value:
            _fill(item, cdn_url)
    elif isinstance(value, dict):
        if "key" in value and "status" in value and "hls_url" in value:
            ready = value["status"] == "ready" and isinstance(value["key"], str)
            urls = playback_urls(cdn_url, value["key"]).as_json() if ready and cdn_url else {}
            for name in URL_FIELDS:
                value[name] = urls.get(name)
            return
        for item in value.values():
            _fill(item, cdn_url)


@web.middleware
async def video_urls(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if (
        not request.path.startswith("/videos")
        or not isinstance(response, web.Response)
        or response.content_type != "application/json"
        or not 200 <= response.status < 300
        or not isinstance(response.body, bytes)
    ):
        return response
    data = json.loads(response.body)
    _fill(data, request.app[CONFIG].playback.cdn_url)
    response.body = json.dumps(data).encode()
    return response


def setup(app: web.Application) -> None:
    """Register the route and the signer (the middleware goes in the application's list)."""
    app[SIGNER] = PlaybackSigner(app[CONFIG].playback)
    app.add_routes(routes)
