"""``/uploads/``: tus 1.0.0 (creation, creation-with-upload, HEAD, PATCH, termination, checksum,
expiration) in front of an S3 multipart upload; see :mod:`openfront.mediahub.tus`."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from email.utils import format_datetime

from aiohttp import web

from openfront.mediahub import errors
from openfront.mediahub.context import AUTH, CONFIG
from openfront.mediahub.tus import Staged
from openfront.mediahub.tus_protocol import (
    ALGORITHMS,
    EXTENSIONS,
    OFFSET_CONTENT_TYPE,
    TUS_VERSION,
    TusHeaderError,
    encode_metadata,
    method_of,
    parse_checksum,
    parse_length,
    parse_metadata,
)
from openfront.mediahub.uploads import UploadRequest, guess_video_type, not_found
from openfront.mediahub.video_context import TUS, VIDEOS
from openfront.mediahub.videos import Owned, video_json

routes = web.RouteTableDef()
_log = logging.getLogger("openfront.mediahub.tus")
READ_CHUNK = 256 * 1024
TUS_HEADERS = {"Tus-Resumable": TUS_VERSION}


def _discovery(request: web.Request) -> web.Response:
    headers = {
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": ",".join(EXTENSIONS),
        "Tus-Max-Size": str(request.app[CONFIG].uploads.max_file_size),
        "Tus-Checksum-Algorithm": ",".join(ALGORITHMS),
    }
    return web.Response(status=204, headers=headers)


async def _tus(
    request: web.Request, handlers: dict[str, Callable[[web.Request], Awaitable[web.Response]]]
) -> web.Response:
    method = method_of(request.method, request.headers.get("X-HTTP-Method-Override"))
    if method == "OPTIONS":
        return _discovery(request)
    try:
        if request.headers.get("Tus-Resumable") != TUS_VERSION:
            raise errors.ApiError(
                412,
                "unsupported_version",
                f"send Tus-Resumable: {TUS_VERSION}",
                headers={"Tus-Version": TUS_VERSION},
            )
        handler = handlers.get(method)
        if handler is None:
            raise errors.ApiError(
                405,
                "method_not_allowed",
                f"{method} is not a tus method here",
                headers={"Allow": ", ".join(["OPTIONS", *handlers])},
            )
        try:
            response = await handler(request)
        except TusHeaderError as exc:
            raise errors.ApiError(exc.status, "invalid_header", str(exc)) from None
    except errors.ApiError as exc:
        exc.headers.update(TUS_HEADERS)
        raise
    response.headers.update(TUS_HEADERS)
    return response


async def _user(request: web.Request) -> uuid.UUID:
    return (await request.app[AUTH].authenticate(request.headers.get("Authorization"))).id


def _expires(request: web.Request, now: datetime) -> str:
    after = timedelta(seconds=request.app[CONFIG].uploads.abandon_after)
    return format_datetime(now + after, usegmt=True)


async def _chunks(request: web.Request) -> AsyncIterator[bytes]:
    while True:
        chunk = await request.content.read(READ_CHUNK)
        if not chunk:
            return
        yield chunk


async def _append(request: web.Request, owned: Owned, state: Staged) -> Staged:
    """The body of a PATCH (or a creation-with-upload POST) written at ``state.offset``;
    the upload finishes when the last byte is in."""
    if request.content_type != OFFSET_CONTENT_TYPE:
        raise errors.ApiError(
            415, "unsupported_media_type", f"send the body as {OFFSET_CONTENT_TYPE}"
        )
    checksum = parse_checksum(request.headers.get("Upload-Checksum"))
    v = owned.video
    length = request.content_length
    if length is not None and state.offset + length > v.size:
        raise errors.ApiError(
            413, "payload_too_large", f"the body runs past Upload-Length ({v.size} bytes)"
        )
    tus = request.app[TUS]
    service = request.app[VIDEOS]
    state = await tus.write(owned, state, _chunks(request), checksum)
    tus.settle(v.id)
    if state.offset == v.size:
        await service.run(tus.finish, owned, state)
    else:
        await service.run(service.store.touch, v.id, service.now())
    return state


async def create(request: web.Request) -> web.Response:
    user = await _user(request)
    if request.headers.get("Upload-Defer-Length") is not None:
        raise TusHeaderError("Upload-Defer-Length is not supported: send Upload-Length")
    size = parse_length(request.headers.get("Upload-Length"), "Upload-Length")
    meta = parse_metadata(request.headers.get("Upload-Metadata"))
    filename = meta.get("filename") or meta.get("name") or ""
    content_type = meta.get("filetype") or meta.get("type") or guess_video_type(filename)
    req = UploadRequest(filename, size, content_type, meta.get("title", ""))
    service = request.app[VIDEOS]
    tus = request.app[TUS]
    owned = await service.run(service.create_row, user, req, "tus")
    location = request.url.with_path(f"/uploads/{owned.video.id}").with_query(None)
    headers = {
        "Location": str(location),
        "Upload-Expires": _expires(request, service.now()),
    }
    if request.content_type == OFFSET_CONTENT_TYPE and request.body_exists:
        async with tus.exclusive(owned.video.id, stoppable=True):
            state = await service.run(tus.staged, owned.video)
            try:
                state = await _append(request, owned, state)
            except errors.ApiError as exc:
                # The upload exists either way: answer 201 with what was kept (tus
                # creation-with-upload), so the client resumes instead of starting over.
                _log.info("upload %s: first chunk refused: %s", owned.video.id, exc.message)
                fresh = await service.run(service.store.get, owned.video.id)
                state = await service.run(tus.staged, (fresh or owned).video)
        headers["Upload-Offset"] = str(state.offset)
    done = await service.run(service.store.get, owned.video.id)
    return web.json_response(video_json(done or owned), status=201, headers=headers)


async def _load(request: web.Request) -> tuple[uuid.UUID, uuid.UUID]:
    user = await _user(request)
    try:
        return user, uuid.UUID(request.match_info["id"])
    except ValueError:
        raise not_found() from None


async def head(request: web.Request) -> web.Response:
    user, video_id = await _load(request)
    tus = request.app[TUS]
    service = request.app[VIDEOS]
    async with tus.exclusive(video_id):
        owned, state = await service.run(tus.load, user, video_id)
        v = owned.video
        if v.status == "uploading" and state.offset == v.size:
            await service.run(tus.finish, owned, state)  # a crash came between the two
    offset = v.size if v.status != "uploading" else state.offset
    meta = {"filename": v.filename, "filetype": v.content_type, "title": v.title}
    headers = {
        "Upload-Offset": str(offset),
        "Upload-Length": str(v.size),
        "Upload-Metadata": encode_metadata(meta),
    }
    if v.status == "uploading":
        headers["Upload-Expires"] = _expires(request, v.updated_at)
    return web.Response(status=200, headers=headers)


async def patch(request: web.Request) -> web.Response:
    user, video_id = await _load(request)
    claimed = parse_length(request.headers.get("Upload-Offset"), "Upload-Offset")
    tus = request.app[TUS]
    service = request.app[VIDEOS]
    async with tus.exclusive(video_id, stoppable=True):
        owned, state = await service.run(tus.load, user, video_id)
        v = owned.video
        offset = v.size if v.status != "uploading" else state.offset
        if claimed != offset:
            raise errors.ApiError(
                409,
                "offset_mismatch",
                f"Upload-Offset is {claimed} but the upload is at {offset}: HEAD, then resume",
                extra={"offset": offset},
            )
        if v.status == "uploading":
            state = await _append(request, owned, state)
            offset = state.offset
    headers = {"Upload-Offset": str(offset)}
    if offset < v.size:
        headers["Upload-Expires"] = _expires(request, service.now())
    return web.Response(status=204, headers=headers)


async def terminate(request: web.Request) -> web.Response:
    user, video_id = await _load(request)
    tus = request.app[TUS]
    async with tus.exclusive(video_id):
        await request.app[TUS].service.run(tus.load, user, video_id)
        await request.app[VIDEOS].delete(user, video_id)
    return web.Response(status=204)


@routes.route("*", "/uploads")
@routes.route("*", "/uploads/")
async def collection(request: web.Request) -> web.Response:
    return await _tus(request, {"POST": create})


@routes.route("*", "/uploads/{id}")
async def upload(request: web.Request) -> web.Response:
    return await _tus(request, {"HEAD": head, "PATCH": patch, "DELETE": terminate})
