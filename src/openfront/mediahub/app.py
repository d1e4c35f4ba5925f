"""The aiohttp application: route modules, JSON errors for everything, no-store responses."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus

from aiohttp import web

from openfront.config.mediahub import MediaHubConfig
from openfront.mediahub import errors
from openfront.mediahub.auth import AuthService
from openfront.mediahub.context import AUTH, CONFIG, DATABASE
from openfront.mediahub.database import Database
from openfront.mediahub.jobs.app import install_processing
from openfront.mediahub.routes import auth, status, tus, videos
from openfront.mediahub.routes.web import web_app
from openfront.mediahub.uploads_app import install_uploads

ROUTE_MODULES = (auth, status, videos, tus)
_log = logging.getLogger("openfront.mediahub")
_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure as ``{"error", "message"}`` JSON; a bug is a 500 that reveals nothing."""
    try:
        return await handler(request)
    except errors.ApiError as exc:
        return exc.response()
    except web.HTTPException as exc:  # the router's 404/405, aiohttp's own 413
        if exc.status < 400:
            raise
        code = _CODES.get(exc.status, HTTPStatus(exc.status).phrase.lower().replace(" ", "_"))
        message = f"{exc.reason}: {request.method} {request.path}"
        if exc.status == 413:
            message = f"the request body is larger than {request.app[CONFIG].max_body_bytes} bytes"
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return web.json_response(
            {"error": code, "message": message}, status=exc.status, headers=headers
        )
    except asyncio.CancelledError:
        raise
    except Exception:
        _log.exception("unhandled error in %s %s", request.method, request.path)
        return web.json_response(
            {"error": "internal_error", "message": "internal error"}, status=500
        )


async def _no_store(request: web.Request, response: web.StreamResponse) -> None:
    # Tokens and account data must never sit in a CDN or browser cache (RFC 6749 §5.1).
    response.headers.setdefault("Cache-Control", "no-store")


def make_app(cfg: MediaHubConfig, db: Database, auth_service: AuthService) -> web.Application:
    app = web.Application(middlewares=[json_errors, web_app], client_max_size=cfg.max_body_bytes)
    app[CONFIG] = cfg
    app[DATABASE] = db
    app[AUTH] = auth_service
    for module in ROUTE_MODULES:
        app.add_routes(module.routes)
    app.on_response_prepare.append(_no_store)
    install_uploads(app, cfg, db)
    install_processing(app, cfg, db)
    return app
