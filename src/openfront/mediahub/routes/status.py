"""``/healthz``: for supervisors and health checks; names the region and its language."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import text

from openfront.mediahub.context import CONFIG, DATABASE

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    cfg = request.app[CONFIG]
    db = request.app[DATABASE]

    def ping() -> None:
        with db.read() as s:
            s.execute(text("SELECT 1"))

    try:
        await asyncio.to_thread(ping)
    except Exception:
        body = {"status": "unavailable", "region": cfg.region, "reason": "database unreachable"}
        return web.json_response(body, status=503)
    return web.json_response({"status": "ok", "region": cfg.region, "language": cfg.language})
