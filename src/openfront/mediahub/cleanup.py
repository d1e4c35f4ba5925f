"""Abandoned uploads: found by age, then aborted, deleted and forgotten.

An upload still ``uploading`` whose row was last touched (created, or a tus PATCH) more than
``uploads.abandon_after`` seconds before ``now`` is abandoned: its multipart upload is aborted,
its partial object and tus staging files deleted, its row removed. Each region sweeps only its
own uploads (they live in its bucket). The server runs :func:`sweep` every
``uploads.cleanup_interval`` seconds; tests call it with an explicit ``now``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import datetime, timedelta

from openfront.mediahub.errors import ApiError
from openfront.mediahub.tus import TusUploads
from openfront.mediahub.uploads import VideoService

_log = logging.getLogger("openfront.mediahub.cleanup")


def cutoff(now: datetime, abandon_after: int) -> datetime:
    """Uploads last touched before this instant are abandoned."""
    return now - timedelta(seconds=abandon_after)


def sweep(service: VideoService, tus: TusUploads, now: datetime) -> list[uuid.UUID]:
    """Remove this region's abandoned uploads (blocking); returns their ids."""
    before = cutoff(now, service.cfg.uploads.abandon_after)
    removed: list[uuid.UUID] = []
    for video in service.store.unfinished_before(before, service.cfg.region):
        try:
            service.discard(video.id)
        except ApiError as exc:  # the store is down: try again next sweep
            _log.warning("cleanup of upload %s failed: %s", video.id, exc.message)
            continue
        removed.append(video.id)
    removed += _orphan_files(service, tus, before)
    if removed:
        _log.info("removed %d abandoned uploads", len(removed))
    return removed


def _orphan_files(service: VideoService, tus: TusUploads, before: datetime) -> list[uuid.UUID]:
    """Staging files whose row is gone (deleted in another region, or a crash mid-delete)."""
    gone: list[uuid.UUID] = []
    if not tus.dir.is_dir():
        return gone
    for path in tus.dir.iterdir():
        try:
            video_id = uuid.UUID(path.name.partition(".")[0])
            old = path.stat().st_mtime < before.timestamp()
        except (ValueError, FileNotFoundError):
            continue
        if old and service.store.get(video_id) is None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            gone.append(video_id)
    return gone


async def run_periodically(service: VideoService, tus: TusUploads) -> None:
    """Sweep every ``cleanup_interval`` seconds until cancelled."""
    interval = service.cfg.uploads.cleanup_interval
    while True:
        try:
            await service.run(sweep, service, tus, service.now())
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("cleanup sweep failed")
        await asyncio.sleep(interval)
