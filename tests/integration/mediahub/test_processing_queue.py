"""The job queue on every database, with explicit times: claiming, leases, retries, give-ups."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from tests.integration.mediahub.conftest import hub_config

from openfront.mediahub.database import Database
from openfront.mediahub.jobs.queue import Claimed, JobQueue
from openfront.mediahub.jobs.rules import ErrorKind, GiveUp, Retry, RetryPolicy
from openfront.mediahub.jobs.worker import Worker
from openfront.mediahub.models import Job, User, Video
from openfront.storage.client import s3_client
from openfront.storage.credentials import S3Credentials

REGION = "ap-northeast-2"
T0 = 1_900_000_000.0
LEASE = 60.0
POLICY = RetryPolicy(max_attempts=3, base=10.0, cap=100.0, jitter=0.0)


def _queue(db: Database, region: str = REGION) -> JobQueue:
    return JobQueue(db, region, POLICY, rand=lambda: 0.0)


def _video(db: Database, status: str = "queued", region: str = REGION) -> uuid.UUID:
    now = datetime.fromtimestamp(T0, UTC)
    user_id, video_id = uuid.uuid4(), uuid.uuid4()
    name = user_id.hex[:12]
    with db.write() as s:
        s.add(
            User(
                id=user_id,
                username=name,
                email=f"{name}@example.com",
                email_key=f"{name}@example.com",
                password_hash="h",
                created_at=now,
            )
        )
        s.flush()
        s.add(
            Video(
                id=video_id,
                owner_id=user_id,
                key=f"videos/{user_id}/1_a.mp4",
                region=region,
                bucket="media",
                title="a",
                filename="a.mp4",
                content_type="video/mp4",
                size=1000,
                status=status,
                progress=0.0,
                failure_reason=None,
                visibility="private",
                upload_kind="single",
                upload_id=None,
                part_size=0,
                tus_parts=None,
                duration=None,
                created_at=now,
                updated_at=now,
                completed_at=now,
            )
        )
    return video_id


def _video_row(db: Database, video_id: uuid.UUID) -> Video:
    with db.read() as s:
        return s.scalars(select(Video).where(Video.id == video_id)).one()


def test_one_active_job_per_video_and_only_this_regions(db: Database) -> None:
    queue = _queue(db)
    video = _video(db)
    assert queue.enqueue(video, T0)
    assert not queue.enqueue(video, T0)  # already active
    assert _queue(db, "sa-east-1").claim("w-sp", T0, LEASE, 5) == []
    [job] = queue.claim("w1", T0, LEASE, 5)
    assert (job.video_id, job.attempts, job.key) == (
        video,
        1,
        f"videos/{_owner(db, video)}/1_a.mp4",
    )
    assert _video_row(db, video).status == "processing"
    assert queue.claim("w2", T0, LEASE, 5) == []  # held
    assert not queue.enqueue(video, T0)  # still active while running


def _owner(db: Database, video_id: uuid.UUID) -> uuid.UUID:
    return _video_row(db, video_id).owner_id


def test_an_expired_lease_goes_to_the_next_worker_and_the_first_loses_it(db: Database) -> None:
    queue = _queue(db)
    video = _video(db)
    queue.enqueue(video, T0)
    [first] = queue.claim("w1", T0, LEASE, 1)
    assert queue.renew(first.job_id, "w1", T0 + 30, LEASE)  # held until T0 + 90
    assert queue.claim("w2", T0 + 89, LEASE, 1) == []
    [second] = queue.claim("w2", T0 + 90, LEASE, 1)
    assert second.job_id == first.job_id and second.attempts == 2
    assert not queue.renew(first.job_id, "w1", T0 + 91, LEASE)
    assert not queue.report(first, "w1", 0.5, T0 + 91)
    assert not queue.finish(first, "w1", 9.0, T0 + 91)
    assert queue.report(second, "w2", 0.5, T0 + 91)
    assert _video_row(db, video).progress == 0.5
    assert queue.report(second, "w2", 0.4, T0 + 92)
    assert _video_row(db, video).progress == 0.5  # the video's progress never goes back
    assert queue.finish(second, "w2", 9.0, T0 + 95)
    row = _video_row(db, video)
    assert (row.status, row.progress, row.duration) == ("ready", 1.0, 9.0)
    [job] = queue.jobs_of(video)
    assert (job.state, job.active_video_id, job.attempts) == ("done", None, 2)
    assert queue.enqueue(video, T0 + 100)  # a finished job no longer blocks a new one


def test_transient_failures_back_off_then_fail_the_video(db: Database) -> None:
    queue = _queue(db)
    video = _video(db)
    queue.enqueue(video, T0)
    [job] = queue.claim("w", T0, LEASE, 1)
    assert queue.fail(job, "w", ErrorKind.TRANSIENT, "ffmpeg died", T0 + 1) == Retry(
        T0 + 11, "ffmpeg died"
    )
    assert _video_row(db, video).status == "queued"
    assert queue.claim("w", T0 + 10.9, LEASE, 1) == []
    [job] = queue.claim("w", T0 + 11, LEASE, 1)
    assert queue.fail(job, "w", ErrorKind.TRANSIENT, "again", T0 + 12) == Retry(T0 + 32, "again")
    [job] = queue.claim("w", T0 + 32, LEASE, 1)
    assert job.attempts == 3
    decision = queue.fail(job, "w", ErrorKind.TRANSIENT, "the store is down", T0 + 33)
    assert decision == GiveUp("processing failed 3 times; the last error: the store is down")
    row = _video_row(db, video)
    assert row.status == "failed" and row.failure_reason == decision.reason
    assert queue.claim("w", T0 + 10_000, LEASE, 1) == []


def test_a_rejected_file_fails_at_once(db: Database) -> None:
    queue = _queue(db)
    video = _video(db)
    queue.enqueue(video, T0)
    [job] = queue.claim("w", T0, LEASE, 1)
    reason = "not a video file: ffmpeg recognised no audio or video format in it"
    assert queue.fail(job, "w", ErrorKind.REJECTED, reason, T0) == GiveUp(reason)
    row = _video_row(db, video)
    assert (row.status, row.failure_reason) == ("failed", reason)


def test_a_worker_dying_on_the_last_attempt_fails_the_video(db: Database) -> None:
    queue = _queue(db)
    video = _video(db)
    queue.enqueue(video, T0)
    now = T0
    for _ in range(POLICY.max_attempts):
        assert len(queue.claim("w", now, LEASE, 1)) == 1  # and then the worker dies
        now += LEASE
    assert queue.claim("w", now, LEASE, 1) == []
    row = _video_row(db, video)
    assert row.status == "failed"
    assert row.failure_reason == "processing stopped 3 times without finishing (the worker died)"


def test_a_stopping_worker_gives_the_job_back_uncounted(db: Database) -> None:
    queue = _queue(db)
    video = _video(db)
    queue.enqueue(video, T0)
    [job] = queue.claim("w1", T0, LEASE, 1)
    assert queue.release(job, "w1", T0 + 5)
    assert _video_row(db, video).status == "queued"
    [again] = queue.claim("w2", T0 + 5, LEASE, 1)
    assert again.attempts == 1


def test_queued_videos_without_a_job_get_one(db: Database) -> None:
    queue = _queue(db)
    orphan = _video(db)
    _video(db, status="uploading")
    _video(db, region="sa-east-1")
    assert queue.enqueue_orphans(T0) == 1
    assert queue.enqueue_orphans(T0) == 0
    [job] = queue.claim("w", T0, LEASE, 5)
    assert job.video_id == orphan


def test_racing_workers_never_take_one_job_twice(db: Database) -> None:
    queue = _queue(db)
    videos = [_video(db) for _ in range(6)]
    for v in videos:
        queue.enqueue(v, T0)
    taken: list[Claimed] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        other = _queue(db)
        while got := other.claim(name, T0, LEASE, 1):
            with lock:
                taken.extend(got)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(j.video_id for j in taken) == sorted(videos)
    with db.read() as s:
        owners = {row.video_id: row.lease_owner for row in s.scalars(select(Job))}
    assert all(owners[j.video_id] is not None for j in taken)


def test_deleting_a_video_removes_its_jobs(db: Database) -> None:
    queue = _queue(db)
    video = _video(db)
    queue.enqueue(video, T0)
    with db.write() as s:
        s.delete(s.get(Video, video))
    assert queue.jobs_of(video) == []


async def test_a_store_that_does_not_answer_means_a_retry_later(
    db: Database, database: str, tmp_path: Path
) -> None:
    video = _video(db)
    storage = {"endpoint": "http://127.0.0.1:1", "bucket": "media", "credentials_file": "x.json"}
    processing = {"lease": 10, "poll_interval": 0.05, "retry_base": 600}
    cfg = hub_config(database, tmp_path, storage=storage, processing=processing)
    keys = S3Credentials("AKIAEXAMPLE", "secret")
    down = s3_client("http://127.0.0.1:1", keys, REGION, connect_timeout=1, attempts=1)
    worker = Worker(cfg, db, s3=down)
    queue = _queue(db)
    queue.enqueue(video, time.time())
    await worker.start()
    try:
        end = time.monotonic() + 30
        while not ((job := queue.jobs_of(video)[0]).last_error and job.state == "queued"):
            assert time.monotonic() < end, "the failure was never recorded"
            await asyncio.sleep(0.02)
    finally:
        await worker.stop()
    assert job.attempts == 1 and job.lease_owner is None
    assert job.last_error.startswith("media store: cannot connect to")
    assert job.next_attempt_at - time.time() > 250  # 300-600 s of back-off
    assert _video_row(db, video).status == "queued"
