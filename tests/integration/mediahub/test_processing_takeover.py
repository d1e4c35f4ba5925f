"""kill -9 of a worker in the middle of a transcode: its lease runs out, another worker takes the
job over and finishes it; `openfront mediahub worker` as a real process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from tests.integration.mediahub.conftest import MakeHub, hub_config
from tests.integration.mediahub.processing_helpers import (
    clip,
    long_clip,
    upload,
    wait_for_video,
)
from tests.integration.mediahub.uploads_helpers import sign_in, storage_settings, store
from tests.support.weed import MEDIA_BUCKET, WeedStore

from openfront.mediahub.database import Database, database_url
from openfront.mediahub.jobs.app import WORKER
from openfront.mediahub.jobs.queue import JobQueue
from openfront.mediahub.jobs.rules import Phases, RetryPolicy
from openfront.mediahub.jobs.worker import Worker
from openfront.mediahub.models import Job

__all__ = ["clip", "long_clip", "store"]
DEADLINE = 60.0
LEASE = 2.0


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += [child, *_descendants(child)]
    return found


def _job(queue: JobQueue, video_id: str) -> Job | None:
    jobs = queue.jobs_of(uuid.UUID(video_id))
    return jobs[-1] if jobs else None


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def _wait(check: Any, what: str, proc: asyncio.subprocess.Process, log: Path) -> None:
    end = time.monotonic() + DEADLINE
    while not check():
        if proc.returncode is not None:
            raise AssertionError(f"the worker exited ({proc.returncode}):\n{_tail(log)}")
        assert time.monotonic() < end, f"{what}: not in time\n{_tail(log)}"
        await asyncio.sleep(0.02)  # between two looks at the database


@pytest.mark.slow  # ~20 s: a worker process starts, transcodes, dies; a lease runs out
async def test_a_killed_workers_job_is_taken_over_after_its_lease(
    make_hub: MakeHub,
    sqlite_database: str,
    store: WeedStore,
    client: httpx.AsyncClient,
    long_clip: bytes,
    tmp_path: Path,
) -> None:
    settings: dict[str, Any] = {
        "storage": storage_settings(store),
        "processing": {"worker": False, "lease": LEASE, "poll_interval": 0.1},
    }
    hub = await make_hub(sqlite_database, **settings)  # the API alone
    auth = await sign_in(client, hub)
    video = await upload(client, hub.url, auth, long_clip, "kill me.mp4")
    assert video["status"] == "queued"

    worker_settings = settings | {
        "data_dir": str(tmp_path),
        "database_url": sqlite_database,
        "processing": settings["processing"] | {"preset": "slow"},  # slow: time to kill it
    }
    config = tmp_path / "worker.json"
    config.write_text(json.dumps(worker_settings))
    ready, log = tmp_path / "worker-ready.json", tmp_path / "worker.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "openfront", "mediahub", "worker",
            "--config", str(config), "--ready-file", str(ready),
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    db = Database(database_url(sqlite_database, tmp_path))
    queue = JobQueue(db, "ap-northeast-2", RetryPolicy())
    try:
        await _wait(ready.exists, "ready file", proc, log)
        owner = json.loads(ready.read_text())["owner"]
        transcoding = Phases().of_transcode(0.0)

        def mid_transcode() -> bool:
            job = _job(queue, video["id"])
            return (
                job is not None
                and job.state == "running"
                and job.lease_owner == owner
                and transcoding < job.progress < 0.9
            )

        await _wait(mid_transcode, "the worker transcoding", proc, log)
        victims = [proc.pid, *_descendants(proc.pid)]  # the worker and its ffmpeg
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), 10)
        job = _job(queue, video["id"])
        assert job is not None and job.state == "running" and job.lease_owner == owner
        work_dirs = list((tmp_path / "mediahub" / "work").iterdir())
        assert [d.name.partition("-")[0] for d in work_dirs] == [str(proc.pid)]

        quick = {"worker": True, "lease": LEASE, "poll_interval": 0.1, "preset": "ultrafast"}
        cfg = hub_config(sqlite_database, tmp_path, storage=settings["storage"], processing=quick)
        second = Worker(cfg, db)
        await second.start()
        try:
            assert not work_dirs[0].exists()  # the dead worker's files are removed
            done = await wait_for_video(
                client, hub.url, auth, video["id"], lambda v: v["status"] in ("ready", "failed")
            )
        finally:
            await second.stop()
        assert done["status"] == "ready", done["failure_reason"]
        job = _job(queue, video["id"])
        assert job is not None
        assert (job.state, job.attempts, job.active_video_id) == ("done", 2, None)
        listed = store.client().list_objects_v2(Bucket=MEDIA_BUCKET, Prefix=video["key"] + "/")
        assert any(o["Key"].endswith("hls/master.m3u8") for o in listed["Contents"])
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        db.close()


async def test_a_worker_that_finds_its_lease_taken_stops_at_once(
    make_hub: MakeHub,
    sqlite_database: str,
    store: WeedStore,
    client: httpx.AsyncClient,
    clip: bytes,
) -> None:
    slow = {"worker": True, "lease": 3, "poll_interval": 0.1, "preset": "slow"}
    hub = await make_hub(sqlite_database, storage=storage_settings(store), processing=slow)
    assert hub.runner is not None and hub.db is not None
    worker = hub.runner.app[WORKER]
    worker.hold_uploads = asyncio.Event()  # however fast the transcode, nothing is written yet
    auth = await sign_in(client, hub)
    video = await upload(client, hub.url, auth, clip, "stolen.mp4")
    transcoding = Phases().of_transcode(0.0)
    await wait_for_video(
        client,
        hub.url,
        auth,
        video["id"],
        lambda v: v["status"] == "processing" and v["progress"] > transcoding,
    )
    # Another worker took the job over (as after a lease that ran out while this one froze).
    with hub.db.write() as s:
        s.execute(update(Job).values(lease_owner="elsewhere:1-0"))
    worker.hold_uploads.set()
    end = time.monotonic() + DEADLINE
    while worker.running:  # the next renewal finds the lease gone and kills ffmpeg
        assert time.monotonic() < end, "the worker kept the job"
        await asyncio.sleep(0.02)
    queue = JobQueue(hub.db, "ap-northeast-2", RetryPolicy())
    job = _job(queue, video["id"])
    assert job is not None and (job.state, job.lease_owner) == ("running", "elsewhere:1-0")
    listed = store.client().list_objects_v2(Bucket=MEDIA_BUCKET, Prefix=video["key"] + "/")
    assert listed["KeyCount"] == 0  # it uploaded nothing: the other worker owns the outputs
    r = await client.get(f"{hub.url}/videos/{video['id']}", headers=auth)
    assert r.json()["status"] == "processing"
