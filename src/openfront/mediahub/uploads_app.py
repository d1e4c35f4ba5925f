"""Wiring of the upload services into the aiohttp application: the services, CORS for the web
app, the cleanup sweep while the server runs, and closing the thread pool at the end."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from openfront.config.mediahub import MediaHubConfig
from openfront.mediahub import cors
from openfront.mediahub.cleanup import run_periodically
from openfront.mediahub.database import Database
from openfront.mediahub.tus import TusUploads
from openfront.mediahub.uploads import VideoService
from openfront.mediahub.video_context import TUS, VIDEOS


def install_uploads(app: web.Application, cfg: MediaHubConfig, db: Database) -> None:
    service = VideoService(cfg, db)
    tus = TusUploads(service, cfg.tus_dir)
    app[VIDEOS] = service
    app[TUS] = tus
    app.middlewares.append(cors.preflight)
    app.on_response_prepare.append(cors.add_headers)

    async def lifetime(_app: web.Application) -> AsyncIterator[None]:
        await asyncio.to_thread(tus.start)
        sweeper = None
        if cfg.storage is not None:
            sweeper = asyncio.get_running_loop().create_task(run_periodically(service, tus))
        yield
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        await service.close()

    app.cleanup_ctx.append(lifetime)
