"""MediaHub's tables (SQLAlchemy 2 typed ORM). Alembic migrations create them.

``users`` is the seed's table. Refresh tokens are stored as SHA-256 hashes: a database leak
gives no usable token. Every token of one sign-in shares a ``family_id``; reuse of a rotated
token revokes the family. Failed sign-ins are rows keyed by account or client address,
shared by every process and region using the database.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, Double, ForeignKey, Index, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from openfront.mediahub.sqltypes import BigId, UtcDateTime, exact_string
from openfront.sql.types import NAMING


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime()}


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(exact_string(32), unique=True)  # lower case
    email: Mapped[str] = mapped_column(exact_string(254), unique=True)  # as shown
    email_key: Mapped[str] = mapped_column(exact_string(254), unique=True)  # for uniqueness
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]


class RefreshToken(Base):
    __tablename__ = "mediahub_refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    region: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class SigninFailure(Base):
    __tablename__ = "mediahub_signin_failures"
    __table_args__ = (Index("ix_mediahub_signin_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(80))  # "user:<id>", "name:<sha256>", "ip:<addr>"
    at: Mapped[float] = mapped_column(Double(), index=True)  # Unix time


class Video(Base):
    """An upload and what became of it. ``key`` is unique across regions (one table), which is
    what keeps two regions from ever writing the same object key."""

    __tablename__ = "videos"
    __table_args__ = (
        Index("ix_videos_owner_created", "owner_id", "created_at", "id"),
        Index("ix_videos_listed", "status", "visibility", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(exact_string(512), unique=True)
    region: Mapped[str] = mapped_column(String(64))
    bucket: Mapped[str] = mapped_column(String(63))
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))  # as the user named it
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger())
    status: Mapped[str] = mapped_column(String(16), index=True)
    progress: Mapped[float] = mapped_column(Double())
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    visibility: Mapped[str] = mapped_column(String(16))
    upload_kind: Mapped[str] = mapped_column(String(16))  # single | multipart | tus
    upload_id: Mapped[str | None] = mapped_column(String(1024))  # S3 multipart upload id
    part_size: Mapped[int] = mapped_column(BigInteger())
    tus_parts: Mapped[str | None] = mapped_column(Text())  # JSON [[number, etag, bytes], ...]
    duration: Mapped[float | None] = mapped_column(Double())
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]


class Job(Base):
    """A processing job (openfront.mediahub.jobs). ``active_video_id`` is the video's id while
    the job is queued or running and NULL after: a unique column that every database lets hold
    many NULLs, which is what keeps one active job per video without partial indexes."""

    __tablename__ = "mediahub_jobs"
    __table_args__ = (Index("ix_mediahub_jobs_due", "region", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    video_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), index=True
    )
    active_video_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "transcode"
    region: Mapped[str] = mapped_column(String(64))  # whose workers (and bucket) run it
    state: Mapped[str] = mapped_column(String(16))  # queued | running | done | failed
    attempts: Mapped[int]
    next_attempt_at: Mapped[float] = mapped_column(Double())  # Unix time
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[float | None] = mapped_column(Double())  # Unix time
    progress: Mapped[float] = mapped_column(Double())
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
