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

from sqlalchemy import Double, ForeignKey, Index, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from openfront.mediahub.sqltypes import BigId, UtcDateTime, exact_string

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


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
