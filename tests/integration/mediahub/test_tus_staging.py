"""tus staging files on their own (no store): what a crash between recording a part and
removing its file leaves behind, and the sweep of staging files whose upload is gone."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from openfront.config.mediahub import MediaHubConfig
from openfront.mediahub.cleanup import sweep
from openfront.mediahub.database import Database, database_url
from openfront.mediahub.models import Video
from openfront.mediahub.tus import TusUploads
from openfront.mediahub.uploads import VideoService

MiB = 1024 * 1024


@pytest.fixture
def tus(tmp_path: Path) -> Iterator[TusUploads]:
    db = Database(database_url(f"sqlite:///{tmp_path / 'hub.db'}", tmp_path))
    db.migrate()
    cfg = MediaHubConfig.model_validate({"data_dir": tmp_path})
    service = VideoService(cfg, db)
    uploads = TusUploads(service, cfg.tus_dir)
    uploads.start()
    yield uploads
    service._pool.shutdown()
    db.close()


def test_a_recorded_parts_leftover_file_is_not_counted_twice(tus: TusUploads) -> None:
    video = Video(id=uuid.uuid4(), tus_parts=f'[[1, "etag1", {5 * MiB}]]')
    tus.staging_path(video.id, 1).write_bytes(b"x" * 5 * MiB)  # recorded, not yet removed
    tus.staging_path(video.id, 2).write_bytes(b"y" * 10)
    state = tus.staged(video)
    assert state.offset == 5 * MiB + 10 and state.next_part == 2
    assert tus.files_of(video.id) == [tus.staging_path(video.id, 2)]
    fresh = Video(id=uuid.uuid4(), tus_parts="[]")
    assert tus.staged(fresh).offset == 0


def test_the_sweep_removes_old_staging_files_without_an_upload(tus: TusUploads) -> None:
    orphan, recent = uuid.uuid4(), uuid.uuid4()
    tus.staging_path(orphan, 1).write_bytes(b"old")
    tus.staging_path(recent, 1).write_bytes(b"new")
    (tus.dir / "not-an-upload.txt").write_bytes(b"?")
    now = datetime(2030, 1, 1, tzinfo=UTC)
    day_ago = (now - timedelta(days=2)).timestamp()
    os.utime(tus.staging_path(orphan, 1), (day_ago, day_ago))
    os.utime(tus.staging_path(recent, 1), (now.timestamp(), now.timestamp()))
    assert sweep(tus.service, tus, now) == [orphan]
    assert tus.files_of(orphan) == [] and tus.files_of(recent) != []
    assert (tus.dir / "not-an-upload.txt").exists()
