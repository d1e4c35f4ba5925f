"""Videos in the database: creation under a unique key, listings, status changes, JSON shape.

A key is ``videos/<user_id>/<stamp>_<safe name>`` (``storage.versioning.upload_key``): the
seed's ``<timestamp>_<file name>`` layout, with the timestamp a version stamp (epoch
nanoseconds and the writing region), so two regions never create one key even if they do not
share the database, and the key tells which region wrote the upload.

Blocking calls (SQLAlchemy sessions); the async service runs them on a thread pool. Status
changes are compare-and-swap UPDATEs, so two completions of one upload (two tabs, two regions)
move it once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from openfront.mediahub.database import Database
from openfront.mediahub.keys_layout import KEY_PREFIX
from openfront.mediahub.models import User, Video
from openfront.mediahub.paging import encode_cursor
from openfront.storage.versioning import VersionStamp, upload_key

STATUSES = ("uploading", "queued", "processing", "ready", "failed")
VISIBILITIES = ("public", "private")
KEY_ATTEMPTS = 50  # ns, ns+1, ...: same-name uploads of one region in one nanosecond


@dataclass(frozen=True, slots=True)
class Owned:
    video: Video
    username: str


@dataclass(frozen=True, slots=True)
class NewVideo:
    owner_id: uuid.UUID
    region: str
    bucket: str
    title: str
    filename: str
    safe_name: str
    content_type: str
    size: int
    upload_kind: str
    part_size: int
    visibility: str = "private"


def video_json(owned: Owned) -> dict[str, Any]:
    v = owned.video
    return {
        "id": str(v.id),
        "title": v.title,
        "filename": v.filename,
        "key": v.key,
        "region": v.region,
        "status": v.status,
        "progress": v.progress,
        "failure_reason": v.failure_reason,
        "size": v.size,
        "content_type": v.content_type,
        "visibility": v.visibility,
        "created_at": v.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z",
        "owner": {"id": str(v.owner_id), "username": owned.username},
        "duration": v.duration,
        "poster_url": None,
        "hls_url": None,
    }


def tus_parts(video: Video) -> list[tuple[int, str, int]]:
    """A tus upload's finished parts: (part number, ETag, bytes)."""
    return [(int(n), str(e), int(b)) for n, e, b in json.loads(video.tus_parts or "[]")]


def _usage(s: Session, owner_id: uuid.UUID) -> tuple[int, int]:
    count, total = s.execute(
        select(func.count(Video.id), func.coalesce(func.sum(Video.size), 0)).where(
            Video.owner_id == owner_id
        )
    ).one()
    return int(count), int(total)


class VideoStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def usage(self, owner_id: uuid.UUID) -> tuple[int, int]:
        """(videos, bytes) the user keeps, unfinished uploads included."""
        with self.db.read() as s:
            return _usage(s, owner_id)

    def create(
        self,
        new: NewVideo,
        ts_ns: int,
        now: datetime,
        upload_id: str | None,
        admit: Callable[[tuple[int, int]], None] | None = None,
    ) -> Video:
        """Insert under ``videos/<owner>/<ts_ns>-<region>_<name>``, trying ts_ns+1… while the
        key is taken (two processes of one region in the same nanosecond).

        ``admit`` gets the owner's usage (as ``usage``) inside the inserting transaction, after
        the owner's row is locked (SQLite: the transaction holds the write lock from its BEGIN),
        and may raise to refuse: two uploads at once cannot both pass a quota only one fits.
        """
        for attempt in range(KEY_ATTEMPTS):
            stamp = VersionStamp(ts_ns + attempt, new.region)
            video = Video(
                id=uuid.uuid4(),
                owner_id=new.owner_id,
                key=upload_key(str(new.owner_id), new.safe_name, stamp, KEY_PREFIX),
                region=new.region,
                bucket=new.bucket,
                title=new.title,
                filename=new.filename,
                content_type=new.content_type,
                size=new.size,
                status="uploading",
                progress=0.0,
                failure_reason=None,
                visibility=new.visibility,
                upload_kind=new.upload_kind,
                upload_id=upload_id,
                part_size=new.part_size,
                tus_parts="[]" if new.upload_kind == "tus" else None,
                duration=None,
                created_at=now,
                updated_at=now,
                completed_at=None,
            )
            try:
                with self.db.write() as s:
                    if admit is not None:
                        s.execute(select(User.id).where(User.id == new.owner_id).with_for_update())
                        admit(_usage(s, new.owner_id))
                    s.add(video)
                return video
            except IntegrityError:
                with self.db.read() as s:
                    if s.scalar(select(Video.id).where(Video.key == video.key)) is None:
                        raise  # not the key: a real error
        raise RuntimeError(f"no free key after {KEY_ATTEMPTS} attempts")

    def set_upload_id(self, video_id: uuid.UUID, upload_id: str) -> None:
        self._update(video_id, upload_id=upload_id)

    def get(self, video_id: uuid.UUID) -> Owned | None:
        with self.db.read() as s:
            row = s.execute(
                select(Video, User.username)
                .join(User, User.id == Video.owner_id)
                .where(Video.id == video_id)
            ).first()
            return None if row is None else Owned(row[0], row[1])

    def page(
        self,
        *,
        owner_id: uuid.UUID | None,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
    ) -> tuple[list[Owned], str | None]:
        """Newest first: the owner's videos (every status), or ready public ones for all."""
        where: list[ColumnElement[bool]] = []
        if owner_id is not None:
            where.append(Video.owner_id == owner_id)
        else:
            where += [Video.status == "ready", Video.visibility == "public"]
        if after is not None:
            at, last = after
            where.append(or_(Video.created_at < at, and_(Video.created_at == at, Video.id < last)))
        query = (
            select(Video, User.username)
            .join(User, User.id == Video.owner_id)
            .where(*where)
            .order_by(Video.created_at.desc(), Video.id.desc())
            .limit(limit + 1)
        )
        with self.db.read() as s:
            rows = [Owned(v, name) for v, name in s.execute(query)]
        more = len(rows) > limit
        rows = rows[:limit]
        cursor = encode_cursor(rows[-1].video.created_at, rows[-1].video.id) if more else None
        return rows, cursor

    def mark_queued(self, video_id: uuid.UUID, now: datetime) -> bool:
        """uploading → queued; False when another completion got there first."""
        return self._update(
            video_id,
            when_status="uploading",
            status="queued",
            progress=0.0,
            completed_at=now,
            updated_at=now,
        )

    def mark_failed(self, video_id: uuid.UUID, reason: str, now: datetime) -> bool:
        return self._update(
            video_id,
            when_status="uploading",
            status="failed",
            failure_reason=reason[:500],
            updated_at=now,
        )

    def save_tus_parts(
        self, video_id: uuid.UUID, parts: Sequence[tuple[int, str, int]], progress: float
    ) -> None:
        self._update(video_id, tus_parts=json.dumps([list(p) for p in parts]), progress=progress)

    def edit(self, video_id: uuid.UUID, now: datetime, **values: str) -> None:
        self._update(video_id, updated_at=now, **values)

    def remove(self, video_id: uuid.UUID) -> None:
        with self.db.write() as s:
            s.execute(
                delete(Video)
                .where(Video.id == video_id)
                .execution_options(synchronize_session=False)
            )

    def unfinished_before(self, cutoff: datetime, region: str) -> list[Video]:
        """This region's uploads still unfinished and last touched before ``cutoff``."""
        with self.db.read() as s:
            return list(
                s.scalars(
                    select(Video).where(
                        Video.status == "uploading",
                        Video.region == region,
                        Video.updated_at < cutoff,
                    )
                )
            )

    def touch(self, video_id: uuid.UUID, now: datetime) -> None:
        self._update(video_id, updated_at=now)

    def _update(self, video_id: uuid.UUID, when_status: str | None = None, **values: Any) -> bool:
        stmt = update(Video).where(Video.id == video_id)
        if when_status is not None:
            stmt = stmt.where(Video.status == when_status)
        with self.db.write() as s:
            result = cast(
                CursorResult[Any],
                s.execute(stmt.values(**values).execution_options(synchronize_session=False)),
            )
            return result.rowcount == 1
