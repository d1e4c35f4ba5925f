"""The control plane's tables (SQLAlchemy 2 typed ORM). Alembic migrations create them.

Every configuration change is a new ``cf_distribution_versions`` row with its own ETag and a
global ``seq``; a deletion leaves a tombstone row. Edges follow that sequence, and
invalidations by their own ``seq``, to catch up from where they stopped (``fleet_*`` tables).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, ForeignKey, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from openfront.control.sqltypes import BigId, Json, UtcDateTime
from openfront.sql.types import NAMING


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


class FleetHead(Base):
    """One row, locked by every transaction that adds a version or an invalidation.

    Taking it before the insert makes sequence numbers commit in order on every database, so
    an edge that read up to ``seq`` N never misses an N-1 committed later.
    """

    __tablename__ = "fleet_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    changes: Mapped[int] = mapped_column(BigInteger)


class FleetEdge(Base):
    """A registered edge: where it is, when it was last heard of, what it has applied."""

    __tablename__ = "fleet_edges"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pop: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(255))
    principal: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(index=True)
    config_seq: Mapped[int] = mapped_column(BigInteger)
    invalidation_seq: Mapped[int] = mapped_column(BigInteger)
    # Distribution id -> {"seq", "message"} of versions this edge refused (failed to compile).
    errors: Mapped[dict[str, Any]]


class AccountResource(Base):
    """A custom cache/origin request/response headers policy, public key, key group or OAC.

    ``config`` is the validated model's dump (what an edge loads); the public key's
    CallerReference, which edges never need, has its own column.
    """

    __tablename__ = "cf_resources"
    __table_args__ = (
        UniqueConstraint("name", "kind"),
        UniqueConstraint("caller_reference", "kind"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(128))
    caller_reference: Mapped[str | None] = mapped_column(String(255))
    etag: Mapped[str] = mapped_column(String(16))
    config: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    last_modified_at: Mapped[datetime]


class ResourceUse(Base):
    """A distribution's current version references this resource (in-use checks, redeploys)."""

    __tablename__ = "cf_resource_uses"

    distribution_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
