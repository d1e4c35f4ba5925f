"""One job's work: download the upload, transcode it, upload the outputs next to it.

Everything happens in a folder of its own under the work dir, removed afterwards whatever
happened. boto3 calls block, so they run on threads; ``transcode`` is a coroutine (cancelling
it kills ffmpeg).

Every output is written with a version stamp of the worker's region (``stamp``, one per object,
in ``x-amz-meta-openfront-version``): a retry that writes a file again writes a newer stamp, and
the replication auditor repairs by it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openfront.media import Settings, TranscodeResult, transcode
from openfront.mediahub.jobs.outputs import cache_control, content_type, output_keys, upload_order
from openfront.mediahub.jobs.queue import Claimed
from openfront.mediahub.jobs.rules import Phases
from openfront.storage.client import error_code
from openfront.storage.versioning import VersionStamp, stamp_metadata

_log = logging.getLogger("openfront.mediahub.jobs")
SOURCE_NAME = "source"  # never the user's file name: ffmpeg's reading is by content
OUTPUT_NAME = "out"
UPLOAD_THREADS = 4
_MISSING = ("404", "NoSuchKey", "NotFound", "NoSuchBucket")


class SourceGone(Exception):
    """The uploaded object is not in the bucket (deleted, or never replicated here)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    duration: float
    files: int


class Pipeline:
    def __init__(
        self,
        s3: Any,
        work_root: Path,
        settings: Settings,
        *,
        stamp: Callable[[], VersionStamp],
        timeout: float | None = None,
        phases: Phases | None = None,
    ) -> None:
        self.s3 = s3
        self.stamp = stamp
        self.work_root = work_root
        self.settings = settings
        self.timeout = timeout
        self.phases = phases or Phases()

    async def run(
        self,
        job: Claimed,
        progress: Callable[[float], None],
        still_ours: Callable[[], Awaitable[bool]] | None = None,
    ) -> Outcome:
        """Raises MediaRejected, SourceGone, TranscodeFailed, LeaseLost, or what boto3 and the disk
        raise. ``still_ours`` is asked once more before anything is uploaded: a job whose lease
        was taken (or whose video was deleted) while it transcoded never writes to the bucket."""
        workdir = self.work_root / f"job-{job.job_id}-{job.attempts}"
        await asyncio.to_thread(_fresh_dir, workdir)
        try:
            source = workdir / SOURCE_NAME
            await asyncio.to_thread(self._download, job, source, progress)
            result = await transcode(
                source,
                workdir / OUTPUT_NAME,
                on_progress=lambda f: progress(self.phases.of_transcode(f)),
                settings=self.settings,
                timeout=self.timeout,
            )
            await asyncio.to_thread(source.unlink)  # the disk holds one copy less while uploading
            if still_ours is not None and not await still_ours():
                raise LeaseLost(job.job_id)
            await self._upload(job, result, progress)
            return Outcome(result.duration, len(result.files))
        finally:
            await asyncio.to_thread(shutil.rmtree, workdir, True)

    def _download(self, job: Claimed, target: Path, progress: Callable[[float], None]) -> None:
        done = 0

        def moved(count: int) -> None:
            nonlocal done
            done += count
            progress(self.phases.of_download(done / max(job.size, 1)))

        try:
            self.s3.download_file(job.bucket, job.key, str(target), Callback=moved)
        except Exception as exc:
            if error_code(exc) in _MISSING:
                raise SourceGone(job.key) from None
            raise

    async def _upload(
        self, job: Claimed, result: TranscodeResult, progress: Callable[[float], None]
    ) -> None:
        prefix = output_keys(job.key).prefix
        sizes = {name: (result.out_dir / name).stat().st_size for name in result.files}
        total = max(sum(sizes.values()), 1)
        sent = 0
        gate = asyncio.Semaphore(UPLOAD_THREADS)

        loop = asyncio.get_running_loop()
        inflight: set[asyncio.Future[None]] = set()

        async def put(name: str) -> None:
            nonlocal sent
            async with gate:
                upload = loop.run_in_executor(
                    None,
                    functools.partial(
                        self.s3.upload_file,
                        str(result.out_dir / name),
                        job.bucket,
                        prefix + name,
                        ExtraArgs={
                            "ContentType": content_type(name),
                            "CacheControl": cache_control(name),
                            "Metadata": stamp_metadata(self.stamp()),
                        },
                    ),
                )
                inflight.add(upload)
                upload.add_done_callback(inflight.discard)
                await asyncio.shield(upload)
            sent += sizes[name]
            progress(self.phases.of_upload(sent / total))

        try:
            for batch in upload_order(result.files):
                await asyncio.gather(*(put(name) for name in batch))
        except asyncio.CancelledError:
            # A cancel cannot stop boto3's threads: wait for them, so whoever cleans up after
            # this job (a deleted video, a lost lease) sees every object it wrote.
            if inflight:
                await asyncio.wait(set(inflight))
            raise
        _log.info("job %d: %d files under s3://%s/%s", job.job_id, len(sizes), job.bucket, prefix)


class LeaseLost(Exception):
    """Another worker holds the job now (or the video is gone): this one stops quietly."""

    def __init__(self, job_id: int) -> None:
        super().__init__(f"job {job_id}: the lease is no longer ours")


def delete_outputs(s3: Any, bucket: str, key: str) -> None:
    """Remove what a job uploaded for a video that was deleted while it ran."""
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=output_keys(key).prefix):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})


def _fresh_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)  # left by a crash of this same attempt number
    path.mkdir(parents=True)
