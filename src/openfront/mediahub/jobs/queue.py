"""The durable job queue in MediaHub's database.

Blocking calls (SQLAlchemy sessions); the worker runs them on threads. Every change of a job is
a compare-and-swap UPDATE whose WHERE clause is the rule it applies (due, lease expired, lease
still ours), so any number of workers in any number of processes and regions can share the
table on SQLite, PostgreSQL or MariaDB without row locks: the database's single-row UPDATE
decides who wins. A worker that stops renewing its lease (kill -9, a frozen host) loses the job
to the next worker that polls after the lease ends.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from openfront.mediahub.database import Database
from openfront.mediahub.jobs.rules import (
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    ErrorKind,
    GiveUp,
    Retry,
    RetryPolicy,
    on_error,
)
from openfront.mediahub.models import Job, Video

KIND_TRANSCODE = "transcode"
MAX_ERROR = 500
CANDIDATES = 20  # rows looked at per claim; more than one worker's free slots


@dataclass(frozen=True, slots=True)
class Claimed:
    """A job this worker holds the lease on, with what the pipeline needs of its video."""

    job_id: int
    video_id: uuid.UUID
    attempts: int
    bucket: str
    key: str
    size: int


def _at(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


def _rows(session: Session, stmt: Any) -> int:
    result = cast(CursorResult[Any], session.execute(stmt))
    return result.rowcount


def _held(job_id: int, owner: str) -> ColumnElement[bool]:
    return and_(Job.id == job_id, Job.state == RUNNING, Job.lease_owner == owner)


class JobQueue:
    def __init__(
        self,
        db: Database,
        region: str,
        policy: RetryPolicy,
        *,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.db = db
        self.region = region
        self.policy = policy
        self.rand = rand

    def _due(self, now: float) -> ColumnElement[bool]:
        return and_(
            Job.region == self.region,
            or_(
                and_(Job.state == QUEUED, Job.next_attempt_at <= now),
                and_(Job.state == RUNNING, Job.lease_expires_at <= now),
            ),
        )

    # -- adding jobs ---------------------------------------------------------------------------

    def enqueue(self, video_id: uuid.UUID, now: float) -> bool:
        """A transcode job for the video; False when it already has an active one."""
        job = Job(
            video_id=video_id,
            active_video_id=video_id,
            kind=KIND_TRANSCODE,
            region=self.region,
            state=QUEUED,
            attempts=0,
            next_attempt_at=now,
            lease_owner=None,
            lease_expires_at=None,
            progress=0.0,
            last_error=None,
            created_at=_at(now),
            updated_at=_at(now),
            finished_at=None,
        )
        try:
            with self.db.write() as s:
                s.add(job)
        except IntegrityError:
            return False  # the unique active_video_id: one active job per video
        return True

    def enqueue_orphans(self, now: float) -> int:
        """Jobs for this region's queued videos that have none (the process that queued them
        stopped before it could add one)."""
        active = exists().where(Job.active_video_id == Video.id)
        with self.db.read() as s:
            ids = list(
                s.scalars(
                    select(Video.id)
                    .where(Video.status == "queued", Video.region == self.region, ~active)
                    .limit(100)
                )
            )
        return sum(self.enqueue(video_id, now) for video_id in ids)

    # -- claiming and holding ------------------------------------------------------------------

    def claim(self, owner: str, now: float, lease: float, limit: int) -> list[Claimed]:
        """Up to ``limit`` due jobs, each taken with one conditional UPDATE."""
        self._give_up_abandoned(now)
        with self.db.read() as s:
            candidates = list(
                s.scalars(
                    select(Job.id)
                    .where(self._due(now), Job.attempts < self.policy.max_attempts)
                    .order_by(Job.next_attempt_at, Job.id)
                    .limit(CANDIDATES)
                )
            )
        claimed: list[Claimed] = []
        for job_id in candidates:
            if len(claimed) >= limit:
                break
            got = self._take(job_id, owner, now, lease)
            if got is not None:
                claimed.append(got)
        return claimed

    def _take(self, job_id: int, owner: str, now: float, lease: float) -> Claimed | None:
        with self.db.write() as s:
            took = _rows(
                s,
                update(Job)
                .where(Job.id == job_id, self._due(now), Job.attempts < self.policy.max_attempts)
                .values(
                    state=RUNNING,
                    lease_owner=owner,
                    lease_expires_at=now + lease,
                    attempts=Job.attempts + 1,
                    progress=0.0,
                    updated_at=_at(now),
                )
                .execution_options(synchronize_session=False),
            )
            if took != 1:
                return None  # another worker was first
            row = s.execute(
                select(Job.video_id, Job.attempts, Video.bucket, Video.key, Video.size)
                .join(Video, Video.id == Job.video_id)
                .where(Job.id == job_id)
            ).one()
            s.execute(
                update(Video)
                .where(Video.id == row.video_id, Video.status.in_(("queued", "processing")))
                .values(status="processing", progress=0.0, failure_reason=None, updated_at=_at(now))
                .execution_options(synchronize_session=False)
            )
        return Claimed(job_id, row.video_id, row.attempts, row.bucket, row.key, row.size)

    def _give_up_abandoned(self, now: float) -> None:
        """Running jobs whose lease ran out on their last allowed attempt: failed."""
        with self.db.read() as s:
            stale = list(
                s.execute(
                    select(Job.id, Job.attempts).where(
                        self._due(now),
                        Job.state == RUNNING,
                        Job.attempts >= self.policy.max_attempts,
                    )
                )
            )
        for job_id, attempts in stale:
            reason = f"processing stopped {attempts} times without finishing (the worker died)"
            # Only if still abandoned: a late renewal may have saved it meanwhile.
            self._end(self._due(now), job_id, now, reason)

    def renew(self, job_id: int, owner: str, now: float, lease: float) -> bool:
        """Extend the lease; False when it is not ours any more (expired and taken)."""
        with self.db.write() as s:
            return (
                _rows(
                    s,
                    update(Job)
                    .where(_held(job_id, owner))
                    .values(lease_expires_at=now + lease)
                    .execution_options(synchronize_session=False),
                )
                == 1
            )

    def report(self, job: Claimed, owner: str, progress: float, now: float) -> bool:
        """Write the video's progress; only grows, only while the lease is ours."""
        with self.db.write() as s:
            if (
                _rows(
                    s,
                    update(Job)
                    .where(_held(job.job_id, owner))
                    .values(progress=progress, updated_at=_at(now))
                    .execution_options(synchronize_session=False),
                )
                != 1
            ):
                return False
            s.execute(
                update(Video)
                .where(
                    Video.id == job.video_id,
                    Video.status == "processing",
                    Video.progress < progress,
                )
                .values(progress=progress, updated_at=_at(now))
                .execution_options(synchronize_session=False)
            )
        return True

    # -- ending --------------------------------------------------------------------------------

    def finish(self, job: Claimed, owner: str, duration: float, now: float) -> bool:
        """Job done and video ready, in one transaction; False when the lease was lost or the
        video deleted meanwhile (the caller then removes what it uploaded)."""
        with self.db.write() as s:
            if not self._close(s, _held(job.job_id, owner), now, DONE, None):
                return False
            return (
                _rows(
                    s,
                    update(Video)
                    .where(Video.id == job.video_id)
                    .values(
                        status="ready",
                        progress=1.0,
                        duration=duration,
                        failure_reason=None,
                        updated_at=_at(now),
                    )
                    .execution_options(synchronize_session=False),
                )
                == 1
            )

    def fail(
        self, job: Claimed, owner: str, kind: ErrorKind, message: str, now: float
    ) -> Retry | GiveUp | None:
        """Retry later or give up, as the rules say; None when the lease was lost."""
        message = message[:MAX_ERROR]
        decision = on_error(kind, message, job.attempts, self.policy, now, self.rand())
        if isinstance(decision, GiveUp):
            ended = self._end(_held(job.job_id, owner), job.job_id, now, decision.reason)
            return decision if ended else None
        with self.db.write() as s:
            if (
                _rows(
                    s,
                    update(Job)
                    .where(_held(job.job_id, owner))
                    .values(
                        state=QUEUED,
                        lease_owner=None,
                        lease_expires_at=None,
                        next_attempt_at=decision.at,
                        last_error=message,
                        updated_at=_at(now),
                    )
                    .execution_options(synchronize_session=False),
                )
                != 1
            ):
                return None
            self._video_back_to_queue(s, job.video_id, now)
        return decision

    def release(self, job: Claimed, owner: str, now: float) -> bool:
        """Give the job back untried (the worker is stopping): due now, the attempt uncounted."""
        with self.db.write() as s:
            if (
                _rows(
                    s,
                    update(Job)
                    .where(_held(job.job_id, owner))
                    .values(
                        state=QUEUED,
                        lease_owner=None,
                        lease_expires_at=None,
                        next_attempt_at=now,
                        attempts=Job.attempts - 1,
                        updated_at=_at(now),
                    )
                    .execution_options(synchronize_session=False),
                )
                != 1
            ):
                return False
            self._video_back_to_queue(s, job.video_id, now)
        return True

    def _video_back_to_queue(self, s: Session, video_id: uuid.UUID, now: float) -> None:
        s.execute(
            update(Video)
            .where(Video.id == video_id, Video.status == "processing")
            .values(status="queued", progress=0.0, updated_at=_at(now))
            .execution_options(synchronize_session=False)
        )

    def _close(
        self, s: Session, where: ColumnElement[bool], now: float, state: str, error: str | None
    ) -> bool:
        values: dict[str, Any] = {
            "state": state,
            "active_video_id": None,
            "lease_owner": None,
            "lease_expires_at": None,
            "updated_at": _at(now),
            "finished_at": _at(now),
        }
        if error is not None:
            values["last_error"] = error
        stmt = update(Job).where(where).values(**values)
        return _rows(s, stmt.execution_options(synchronize_session=False)) == 1

    def _end(self, where: ColumnElement[bool], job_id: int, now: float, reason: str) -> bool:
        with self.db.write() as s:
            if not self._close(s, and_(Job.id == job_id, where), now, FAILED, reason):
                return False
            video_id = s.scalar(select(Job.video_id).where(Job.id == job_id))
            s.execute(
                update(Video)
                .where(Video.id == video_id, Video.status.in_(("queued", "processing")))
                .values(status="failed", failure_reason=reason[:MAX_ERROR], updated_at=_at(now))
                .execution_options(synchronize_session=False)
            )
        return True

    # -- reading -------------------------------------------------------------------------------

    def jobs_of(self, video_id: uuid.UUID) -> list[Job]:
        with self.db.read() as s:
            return list(s.scalars(select(Job).where(Job.video_id == video_id).order_by(Job.id)))
