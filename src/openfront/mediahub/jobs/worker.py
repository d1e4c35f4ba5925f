"""The worker: claims due jobs, runs their pipeline, holds their leases, records the outcome.

It runs inside the API server (``processing.worker``) or alone (``openfront mediahub worker``);
any number of them share the queue. While a job runs, a keeper task renews its lease and writes
the progress (throttled); when a renewal finds the lease taken, the job is cancelled, which
kills its ffmpeg, because another worker now owns the video.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import shutil
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from openfront._aio import create_task
from openfront.config.mediahub import MediaHubConfig
from openfront.errors import OpenFrontError
from openfront.media import MediaRejected, Settings, TranscodeFailed
from openfront.mediahub.database import Database
from openfront.mediahub.jobs.pipeline import LeaseLost, Pipeline, SourceGone, delete_outputs
from openfront.mediahub.jobs.queue import Claimed, JobQueue
from openfront.mediahub.jobs.rules import (
    ErrorKind,
    GiveUp,
    RetryPolicy,
    progress_due,
    renew_every,
)
from openfront.mediahub.models import Video
from openfront.storage.client import describe_error, s3_client
from openfront.storage.credentials import read_credentials_file
from openfront.storage.versioning import StampClock

_log = logging.getLogger("openfront.mediahub.jobs")
KEEPER_TICK = 0.25  # seconds between the keeper's looks at the clock


def retry_policy(cfg: MediaHubConfig) -> RetryPolicy:
    p = cfg.processing
    return RetryPolicy(max_attempts=p.max_attempts, base=p.retry_base, cap=p.retry_cap)


def job_queue(cfg: MediaHubConfig, db: Database) -> JobQueue:
    return JobQueue(db, cfg.region, retry_policy(cfg))


def classify(exc: BaseException) -> tuple[ErrorKind, str]:
    """The rules' kind of a pipeline failure, and the line to record."""
    if isinstance(exc, MediaRejected):
        return ErrorKind.REJECTED, exc.reason
    if isinstance(exc, SourceGone):
        return ErrorKind.GONE, "the uploaded file is not in the bucket"
    if isinstance(exc, TranscodeFailed):
        return ErrorKind.TRANSIENT, exc.reason
    if isinstance(exc, ClientError | BotoCoreError):
        return ErrorKind.TRANSIENT, f"media store: {describe_error(exc)}"
    if isinstance(exc, OSError):
        return ErrorKind.TRANSIENT, f"{exc.strerror or exc}"
    return ErrorKind.TRANSIENT, f"internal error ({type(exc).__name__})"


class _Progress:
    """The latest progress of a job, set from any thread, written by the keeper."""

    def __init__(self) -> None:
        self.value = 0.0

    def set(self, value: float) -> None:
        self.value = max(self.value, value)


class Worker:
    def __init__(
        self,
        cfg: MediaHubConfig,
        db: Database,
        *,
        s3: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if cfg.storage is None:
            raise ValueError("processing needs the region's media bucket: set storage")
        self.cfg = cfg
        self.db = db
        self.queue = job_queue(cfg, db)
        self.clock = clock
        tag = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.owner = f"{socket.gethostname()[:64]}:{tag}"
        self.work_root = cfg.work_dir / tag
        self._s3 = s3
        self._running: dict[int, tuple[Claimed, asyncio.Task[None]]] = {}
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task[None] | None = None
        self._stopping = False
        self._store_broken = False
        self._deleted: set[uuid.UUID] = set()  # videos being deleted while their job ran
        # When set, transcoded jobs wait for it before they upload (lets tests and operators
        # hold a job between its transcode and its first write to the bucket).
        self.hold_uploads: asyncio.Event | None = None
        self.stamps = StampClock(cfg.region)  # the outputs' version stamps (this region writes)

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            storage = self.cfg.storage
            assert storage is not None
            creds = read_credentials_file(storage.credentials_file)
            self._s3 = s3_client(storage.endpoint, creds, storage.signing_region or self.cfg.region)
        return self._s3

    # -- life cycle ----------------------------------------------------------------------------

    async def start(self, *, strict: bool = True) -> None:
        """Start polling; ``strict``: unreadable store credentials raise instead of being
        logged and retried at each poll (a worker process should stop, a server keep serving)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        await asyncio.to_thread(_remove_dead_workdirs, self.cfg.work_dir)
        if strict:
            await asyncio.to_thread(lambda: self.s3)
        self._main = create_task(self._poll(), name="mediahub-worker")
        _log.info("worker %s: region %s, %d at a time", self.owner, self.cfg.region, self.slots)

    async def stop(self) -> None:
        """Cancel running jobs (their ffmpeg killed, the jobs given back to the queue)."""
        self._stopping = True
        if self._main is not None:
            self._main.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._main
        tasks = [task for _, task in self._running.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.to_thread(shutil.rmtree, self.work_root, True)

    @property
    def running(self) -> int:
        """Jobs this worker is running now."""
        return len(self._running)

    @property
    def slots(self) -> int:
        return self.cfg.processing.concurrency

    def wake(self) -> None:
        """Look for jobs now (callable from any thread: the upload service's pool)."""
        if self._loop is not None and self._wake is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    def forget(self, video_id: uuid.UUID) -> None:
        """The video is being deleted: stop processing it (from any thread)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._cancel_video, video_id)

    def _cancel_video(self, video_id: uuid.UUID) -> None:
        for job, task in self._running.values():
            if job.video_id == video_id:
                self._deleted.add(video_id)
                task.cancel()

    # -- the loop ------------------------------------------------------------------------------

    async def _poll(self) -> None:
        assert self._wake is not None
        interval = self.cfg.processing.poll_interval
        while not self._stopping:
            self._wake.clear()
            free = self.slots - len(self._running)
            if free > 0 and await self._store_ready():
                for job in await self._claim(free):
                    task = create_task(self._run(job), name=f"mediahub-job-{job.job_id}")
                    self._running[job.job_id] = (job, task)
                    task.add_done_callback(functools.partial(self._ended, job.job_id))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)

    def _ended(self, job_id: int, _task: object) -> None:
        self._running.pop(job_id, None)
        if self._wake is not None:
            self._wake.set()  # a slot is free

    async def _store_ready(self) -> bool:
        """Whether the store's client can be made; claiming without it would burn attempts."""
        if self._s3 is not None:
            return True
        try:
            await asyncio.to_thread(lambda: self.s3)
        except OpenFrontError as exc:
            if not self._store_broken:
                _log.error("worker: no media store client, not taking jobs: %s", exc)
            self._store_broken = True
            return False
        self._store_broken = False
        return True

    async def _claim(self, free: int) -> list[Claimed]:
        now = self.clock()
        lease = self.cfg.processing.lease
        try:
            await asyncio.to_thread(self.queue.enqueue_orphans, now)
            return await asyncio.to_thread(self.queue.claim, self.owner, now, lease, free)
        except SQLAlchemyError as exc:
            _log.warning("worker: the database failed: %s", str(exc).splitlines()[0])
            return []

    # -- one job -------------------------------------------------------------------------------

    def _pipeline(self) -> Pipeline:
        p = self.cfg.processing
        return Pipeline(
            self.s3,
            self.work_root,
            Settings(preset=p.preset),
            stamp=lambda: self.stamps.stamp(time.time_ns()),
            timeout=p.timeout,
        )

    async def _run(self, job: Claimed) -> None:
        _log.info("job %d: video %s, attempt %d", job.job_id, job.video_id, job.attempts)
        progress = _Progress()
        lease = self.cfg.processing.lease

        async def still_ours() -> bool:
            if self.hold_uploads is not None:
                await self.hold_uploads.wait()
            try:
                return await asyncio.to_thread(
                    self.queue.renew, job.job_id, self.owner, self.clock(), lease
                )
            except SQLAlchemyError:
                return True  # the database is away: the lease is still running, go on

        work = create_task(self._pipeline().run(job, progress.set, still_ours))
        keeper = create_task(self._keep(job, progress))
        try:
            await asyncio.wait({work, keeper}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            await _cancel(work, keeper)
            try:
                await asyncio.to_thread(self.queue.release, job, self.owner, self.clock())
            except SQLAlchemyError as exc:  # the lease runs out and another worker retries
                _log.warning("job %d: not given back: %s", job.job_id, exc)
            await self._if_deleted(job)
            raise
        lost = work.done() and isinstance(work.exception(), LeaseLost)
        if not work.done() or lost:  # the lease was found taken (keeper or before uploading)
            _log.warning("job %d: lost its lease to another worker; stopped", job.job_id)
            await _cancel(work, keeper)
            await self._if_deleted(job)
            return
        await _cancel(keeper)
        try:
            await self._record(job, work)
        except SQLAlchemyError as exc:  # the lease runs out and the job is tried again
            _log.warning("job %d: outcome not recorded: %s", job.job_id, exc)

    async def _keep(self, job: Claimed, progress: _Progress) -> None:
        """Renew the lease and write progress until the lease is found taken."""
        p = self.cfg.processing
        renewed = self.clock()
        written: tuple[float | None, float | None] = (None, None)
        while True:
            await asyncio.sleep(KEEPER_TICK)
            now = self.clock()
            try:
                if now - renewed >= renew_every(p.lease):
                    if not await asyncio.to_thread(
                        self.queue.renew, job.job_id, self.owner, now, p.lease
                    ):
                        return
                    renewed = now
                value = progress.value
                if progress_due(*written, value, now):
                    if not await asyncio.to_thread(self.queue.report, job, self.owner, value, now):
                        return
                    written = (value, now)
            except SQLAlchemyError as exc:  # keep trying: the lease outlives a short outage
                _log.warning("job %d: the database failed: %s", job.job_id, exc)

    async def _record(self, job: Claimed, work: asyncio.Task[Any]) -> None:
        now = self.clock()
        exc = work.exception()
        if exc is None:
            outcome = work.result()
            if await asyncio.to_thread(self.queue.finish, job, self.owner, outcome.duration, now):
                _log.info(
                    "job %d: video %s ready (%.1f s)", job.job_id, job.video_id, outcome.duration
                )
            else:
                await self._if_deleted(job)
            return
        kind, message = classify(exc)
        if kind is ErrorKind.TRANSIENT and message.startswith("internal error"):
            _log.error("job %d failed", job.job_id, exc_info=exc)
        decision = await asyncio.to_thread(self.queue.fail, job, self.owner, kind, message, now)
        if isinstance(decision, GiveUp):
            _log.info("job %d: video %s failed: %s", job.job_id, job.video_id, decision.reason)
        elif decision is not None:
            wait = decision.at - now
            _log.warning("job %d: %s; next attempt in %.0f s", job.job_id, message, wait)

    async def _if_deleted(self, job: Claimed) -> None:
        """A video deleted while its job ran: remove what the job uploaded after the delete."""

        def check_and_clean() -> None:
            if job.video_id not in self._deleted:
                with self.db.read() as s:
                    if s.scalar(select(Video.id).where(Video.id == job.video_id)) is not None:
                        return
            delete_outputs(self.s3, job.bucket, job.key)

        try:
            await asyncio.to_thread(check_and_clean)
        except (SQLAlchemyError, ClientError, BotoCoreError) as exc:
            _log.warning("job %d: cleaning up after a deleted video: %s", job.job_id, exc)
        finally:
            self._deleted.discard(job.video_id)


async def _cancel(*tasks: asyncio.Task[Any]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _remove_dead_workdirs(root: Path) -> None:
    """Work folders of workers on this host that are gone (kill -9, power loss)."""
    if not root.is_dir():
        return
    for entry in root.iterdir():
        pid_text = entry.name.partition("-")[0]
        if not pid_text.isdigit():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except PermissionError:
            pass  # alive, someone else's
