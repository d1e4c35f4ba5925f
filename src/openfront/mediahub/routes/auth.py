"""``/auth/*``: the seed's sign-up and sign-in, plus refresh, sign-out and the current user."""

from __future__ import annotations

from aiohttp import web

from openfront.mediahub import body, errors
from openfront.mediahub.auth import user_json
from openfront.mediahub.context import AUTH, CONFIG

routes = web.RouteTableDef()


async def _json(request: web.Request) -> dict[str, object]:
    return await body.json_object(request, request.app[CONFIG].max_body_bytes)


@routes.post("/auth/signup")
async def signup(request: web.Request) -> web.Response:
    data = await _json(request)
    username = body.string(data, "username")
    email = body.string(data, "email")
    password = body.string(data, "password")
    account = await request.app[AUTH].signup(username, email, password)
    return web.json_response(user_json(account), status=201)


@routes.post("/auth/signin")
async def signin(request: web.Request) -> web.Response:
    data = await _json(request)
    username = body.optional_string(data, "username")
    email = body.optional_string(data, "email")
    if username is None and email is None:
        raise errors.ApiError(
            400, "missing_field", "username or email is required", field="username"
        )
    if username is not None and email is not None:
        raise errors.invalid("email", "give username or email, not both")
    password = body.string(data, "password")
    tokens = await request.app[AUTH].signin(
        username if username is not None else str(email),
        password,
        request.remote,
        request.headers.getall("X-Forwarded-For", []),
    )
    return web.json_response(tokens)


@routes.post("/auth/refresh")
async def refresh(request: web.Request) -> web.Response:
    token = body.string(await _json(request), "refresh_token")
    return web.json_response(await request.app[AUTH].refresh(token))


@routes.post("/auth/signout")
async def signout(request: web.Request) -> web.Response:
    token = body.string(await _json(request), "refresh_token")
    await request.app[AUTH].signout(token)
    return web.Response(status=204)


@routes.get("/auth/me")
async def me(request: web.Request) -> web.Response:
    account = await request.app[AUTH].authenticate(request.headers.get("Authorization"))
    return web.json_response(user_json(account))
