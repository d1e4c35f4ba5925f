"""CORS for the upload and videos routes, so the web app may call them from another origin.

Only origins listed in ``uploads.cors_origins`` get the headers; credentials are Bearer tokens
in a header, never cookies, so ``Access-Control-Allow-Credentials`` is not needed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from openfront.mediahub.context import CONFIG

PATHS = ("/videos", "/uploads")
METHODS = "GET, HEAD, POST, PATCH, DELETE, OPTIONS"
EXPOSED = (
    "Location, Upload-Offset, Upload-Length, Upload-Metadata, Upload-Expires, Tus-Resumable, "
    "Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm"
)
MAX_AGE = "600"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _allowed(request: web.Request) -> str | None:
    origin = request.headers.get("Origin")
    if origin is None or not request.path.startswith(PATHS):
        return None
    origins = request.app[CONFIG].uploads.cors_origins
    if "*" in origins:
        return "*"
    return origin if origin in origins else None


@web.middleware
async def preflight(request: web.Request, handler: Handler) -> web.StreamResponse:
    wanted = request.headers.get("Access-Control-Request-Method")
    if request.method != "OPTIONS" or wanted is None or not request.path.startswith(PATHS):
        return await handler(request)
    response = web.Response(status=204)
    if _allowed(request) is not None:
        response.headers["Access-Control-Allow-Methods"] = METHODS
        asked = request.headers.get("Access-Control-Request-Headers")
        if asked:
            response.headers["Access-Control-Allow-Headers"] = asked
        response.headers["Access-Control-Max-Age"] = MAX_AGE
    return response


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith(PATHS):
        response.headers.add("Vary", "Origin")
    allowed = _allowed(request)
    if allowed is not None:
        response.headers["Access-Control-Allow-Origin"] = allowed
        response.headers["Access-Control-Expose-Headers"] = EXPOSED
