"""Reading a JSON request body: type, size, syntax, then typed fields, each failure a clear 4xx."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from openfront.mediahub import errors


async def json_object(request: web.Request, limit: int) -> dict[str, Any]:
    """The body as a JSON object; 415, 413 or 400 (malformed_json) otherwise."""
    if request.content_type != "application/json":
        raise errors.ApiError(
            415,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        )
    if request.content_length is not None and request.content_length > limit:
        raise errors.too_large(limit)
    try:
        raw = await request.read()  # the app's client_max_size stops a chunked body at `limit`
    except web.HTTPRequestEntityTooLarge:
        raise errors.too_large(limit) from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise errors.ApiError(
            400,
            "malformed_json",
            f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
        ) from None
    except (ValueError, RecursionError):  # not UTF-8/16/32 text, or nested absurdly deep
        raise errors.ApiError(400, "malformed_json", "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise errors.ApiError(400, "malformed_json", "the body must be a JSON object {…}")
    return data


def string(data: dict[str, Any], name: str) -> str:
    """A required string field (null counts as missing)."""
    value = data.get(name)
    if value is None:
        raise errors.missing(name)
    if not isinstance(value, str):
        raise errors.wrong_type(name, "a string")
    return value


def optional_string(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise errors.wrong_type(name, "a string")
    return value
