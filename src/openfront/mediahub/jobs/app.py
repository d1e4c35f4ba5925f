"""Wiring of processing and playback into the API server: completed uploads become jobs, the
in-process worker (``processing.worker``) runs while the server does, and the playback route
and URL filling are registered."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from openfront.config.mediahub import MediaHubConfig
from openfront.mediahub.database import Database
from openfront.mediahub.jobs.queue import JobQueue
from openfront.mediahub.jobs.worker import Worker, job_queue
from openfront.mediahub.routes import playback
from openfront.mediahub.video_context import VIDEOS

_log = logging.getLogger("openfront.mediahub.jobs")
WORKER = web.AppKey("worker", Worker)


class Enqueuer:
    """The upload service's ``on_queued`` hook: a job per completed upload (in its thread)."""

    def __init__(self, queue: JobQueue, worker: Worker | None) -> None:
        self.queue = queue
        self.worker = worker

    def __call__(self, video_id: uuid.UUID) -> None:
        try:
            self.queue.enqueue(video_id, time.time())
        except SQLAlchemyError as exc:  # the workers' sweep adds the job later
            _log.warning("video %s: job not added yet: %s", video_id, exc)
        if self.worker is not None:
            self.worker.wake()


def install_processing(app: web.Application, cfg: MediaHubConfig, db: Database) -> None:
    playback.setup(app)
    app.middlewares.append(playback.video_urls)
    worker = Worker(cfg, db) if cfg.processing.worker and cfg.storage is not None else None
    service = app[VIDEOS]
    service.on_queued = Enqueuer(job_queue(cfg, db), worker)
    if worker is None:
        return
    app[WORKER] = worker
    service.on_deleted.append(worker.forget)

    async def lifetime(_app: web.Application) -> AsyncIterator[None]:
        await worker.start(strict=False)
        yield
        await worker.stop()

    app.cleanup_ctx.append(lifetime)
