"""The control plane's tables (SQLAlchemy 2 typed ORM). Alembic migrations create them.

Every configuration change is a new ``cf_distribution_versions`` row with its own ETag and a
global ``seq``; a deletion leaves a tombstone row. Edges (next step) follow that sequence, and
invalidations by their own ``seq``, to catch up from where they stopped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import ForeignKey, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from openfront.control.sqltypes import BigId, Json, UtcDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: Json,
        list[str]: Json,
    }


class Distribution(Base):
    """A distribution's current state; its configuration lives in the version ``version``."""

    __tablename__ = "cf_distributions"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    caller_reference: Mapped[str] = mapped_column(String(255), unique=True)
    arn: Mapped[str] = mapped_column(String(128))
    domain_name: Mapped[str] = mapped_column(String(253))
    status: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool]
    version: Mapped[int]
    etag: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    last_modified_at: Mapped[datetime]
    tags: Mapped[dict[str, Any]]


class DistributionVersion(Base):
    """One accepted configuration (or a deletion's tombstone), in global order ``seq``."""

    __tablename__ = "cf_distribution_versions"
    __table_args__ = (UniqueConstraint("distribution_id", "version"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    distribution_id: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int]
    etag: Mapped[str] = mapped_column(String(16))
    deleted: Mapped[bool]
    # What edges load: our DistributionConfig model's dump, CloudFront key names.
    config: Mapped[dict[str, Any] | None]
    # The CloudFront document as accepted, for GetDistributionConfig to echo.
    api_config: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]


class Alias(Base):
    """A CNAME held by one distribution; the primary key makes CNAMEs unique."""

    __tablename__ = "cf_aliases"

    alias: Mapped[str] = mapped_column(String(253), primary_key=True)
    distribution_id: Mapped[str] = mapped_column(
        String(16), ForeignKey("cf_distributions.id", ondelete="CASCADE"), index=True
    )


class Invalidation(Base):
    __tablename__ = "cf_invalidations"
    __table_args__ = (UniqueConstraint("distribution_id", "caller_reference"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(16), unique=True)
    distribution_id: Mapped[str] = mapped_column(
        String(16), ForeignKey("cf_distributions.id", ondelete="CASCADE")
    )
    caller_reference: Mapped[str] = mapped_column(String(255))
    paths: Mapped[list[str]]
    path_count: Mapped[int]
    wildcard_count: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]


class AccessKey(Base):
    """An API access key. SigV4 needs the plaintext secret, so it is encrypted, not hashed."""

    __tablename__ = "api_access_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_ciphertext: Mapped[str] = mapped_column(String(512))
    description: Mapped[str] = mapped_column(String(255))
    is_root: Mapped[bool]
    created_at: Mapped[datetime]


class AuditRecord(Base):
    __tablename__ = "api_audit_log"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(index=True)
    request_id: Mapped[str] = mapped_column(String(64))
    principal: Mapped[str] = mapped_column(String(64), index=True)
    source_ip: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(512))
    action: Mapped[str] = mapped_column(String(64), index=True)
    resource: Mapped[str] = mapped_column(String(128))
    parameters: Mapped[dict[str, Any]]
    result: Mapped[str] = mapped_column(String(64))
    http_status: Mapped[int]
