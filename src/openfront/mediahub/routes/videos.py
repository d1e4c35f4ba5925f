"""``/videos/*``: presigned uploads and their completion, listings, detail, edit, delete."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from openfront.mediahub import body, errors
from openfront.mediahub.context import AUTH, CONFIG
from openfront.mediahub.paging import BadPage, parse_limit
from openfront.mediahub.uploads import UploadRequest, not_found, parse_parts
from openfront.mediahub.video_context import TUS, VIDEOS
from openfront.mediahub.videos import VISIBILITIES, video_json

routes = web.RouteTableDef()


async def _json(request: web.Request) -> dict[str, Any]:
    return await body.json_object(request, request.app[CONFIG].max_body_bytes)


async def _user(request: web.Request) -> uuid.UUID:
    return (await request.app[AUTH].authenticate(request.headers.get("Authorization"))).id


def _video_id(value: object, field: str | None = None) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        if field is not None:
            raise errors.invalid(field, f"{field} is not a video id") from None
        raise not_found() from None


def _size(data: dict[str, Any]) -> int:
    value = data.get("size")
    if value is None:
        raise errors.missing("size")
    if not isinstance(value, int) or isinstance(value, bool):
        raise errors.wrong_type("size", "a whole number of bytes")
    return value


def _page_args(request: web.Request) -> tuple[int, str | None]:
    try:
        return parse_limit(request.query.get("limit")), request.query.get("cursor") or None
    except BadPage as exc:
        raise errors.invalid(exc.field, str(exc)) from None


async def _page(request: web.Request, owner: uuid.UUID | None) -> web.Response:
    limit, cursor = _page_args(request)
    try:
        page = await request.app[VIDEOS].page(owner, limit, cursor)
    except BadPage as exc:
        raise errors.invalid(exc.field, str(exc)) from None
    return web.json_response(page)


@routes.post("/videos/upload-url")
async def upload_url(request: web.Request) -> web.Response:
    user = await _user(request)
    data = await _json(request)
    filename = body.string(data, "filename")
    size = _size(data)
    content_type = body.string(data, "content_type")
    title = body.optional_string(data, "title") or ""
    req = UploadRequest(filename, size, content_type, title)
    return web.json_response(await request.app[VIDEOS].upload_url(user, req), status=201)


@routes.post("/videos/{id}/upload-url")
async def resume(request: web.Request) -> web.Response:
    user = await _user(request)
    video_id = _video_id(request.match_info["id"])
    return web.json_response(await request.app[VIDEOS].resume(user, video_id))


@routes.post("/videos/complete")
async def complete(request: web.Request) -> web.Response:
    user = await _user(request)
    data = await _json(request)
    video_id = _video_id(body.string(data, "video_id"), "video_id")
    parts = parse_parts(data.get("parts"))
    return web.json_response(video_json(await request.app[VIDEOS].complete(user, video_id, parts)))


@routes.get("/videos")
async def mine(request: web.Request) -> web.Response:
    return await _page(request, await _user(request))


@routes.get("/videos/public")
async def public(request: web.Request) -> web.Response:
    return await _page(request, None)


@routes.get("/videos/{id}")
async def detail(request: web.Request) -> web.Response:
    header = request.headers.get("Authorization")
    viewer = None if header is None else await _user(request)
    video_id = _video_id(request.match_info["id"])
    return web.json_response(video_json(await request.app[VIDEOS].visible(viewer, video_id)))


@routes.patch("/videos/{id}")
async def edit(request: web.Request) -> web.Response:
    user = await _user(request)
    video_id = _video_id(request.match_info["id"])
    data = await _json(request)
    values: dict[str, str] = {}
    title = body.optional_string(data, "title")
    if title is not None:
        if not title.strip() or len(title) > 200:
            raise errors.invalid("title", "title must have 1 to 200 characters")
        values["title"] = title.strip()
    visibility = body.optional_string(data, "visibility")
    if visibility is not None:
        if visibility not in VISIBILITIES:
            raise errors.invalid("visibility", "visibility must be public or private")
        values["visibility"] = visibility
    return web.json_response(video_json(await request.app[VIDEOS].edit(user, video_id, values)))


@routes.delete("/videos/{id}")
async def remove(request: web.Request) -> web.Response:
    user = await _user(request)
    video_id = _video_id(request.match_info["id"])
    async with request.app[TUS].exclusive(video_id):  # stops a tus PATCH still writing
        await request.app[VIDEOS].delete(user, video_id)
    return web.Response(status=204)
