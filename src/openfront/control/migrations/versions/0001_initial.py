"""Distributions, their versions and CNAMEs, invalidations, access keys, the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-05-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openfront.control.sqltypes import BigId, Json, UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cf_distributions",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("caller_reference", sa.String(255), nullable=False),
        sa.Column("arn", sa.String(128), nullable=False),
        sa.Column("domain_name", sa.String(253), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("etag", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_modified_at", UtcDateTime(), nullable=False),
        sa.Column("tags", Json, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cf_distributions"),
        sa.UniqueConstraint("caller_reference", name="uq_cf_distributions_caller_reference"),
    )
    op.create_table(
        "cf_distribution_versions",
        sa.Column("seq", BigId, autoincrement=True, nullable=False),
        sa.Column("distribution_id", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("etag", sa.String(16), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("config", Json, nullable=True),
        sa.Column("api_config", Json, nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_cf_distribution_versions"),
        sa.UniqueConstraint(
            "distribution_id", "version", name="uq_cf_distribution_versions_distribution_id"
        ),
    )
    op.create_index(
        "ix_cf_distribution_versions_distribution_id",
        "cf_distribution_versions",
        ["distribution_id"],
    )
    op.create_table(
        "cf_aliases",
        sa.Column("alias", sa.String(253), nullable=False),
        sa.Column("distribution_id", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(
            ["distribution_id"],
            ["cf_distributions.id"],
            name="fk_cf_aliases_distribution_id",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alias", name="pk_cf_aliases"),
    )
    op.create_index("ix_cf_aliases_distribution_id", "cf_aliases", ["distribution_id"])
    op.create_table(
        "cf_invalidations",
        sa.Column("seq", BigId, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("distribution_id", sa.String(16), nullable=False),
        sa.Column("caller_reference", sa.String(255), nullable=False),
        sa.Column("paths", Json, nullable=False),
        sa.Column("path_count", sa.Integer(), nullable=False),
        sa.Column("wildcard_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("completed_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["distribution_id"],
            ["cf_distributions.id"],
            name="fk_cf_invalidations_distribution_id",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_cf_invalidations"),
        sa.UniqueConstraint("id", name="uq_cf_invalidations_id"),
        sa.UniqueConstraint(
            "distribution_id", "caller_reference", name="uq_cf_invalidations_distribution_id"
        ),
    )
    op.create_table(
        "api_access_keys",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("secret_ciphertext", sa.String(512), nullable=False),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("is_root", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_access_keys"),
    )
    op.create_table(
        "api_audit_log",
        sa.Column("seq", BigId, autoincrement=True, nullable=False),
        sa.Column("time", UtcDateTime(), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("principal", sa.String(64), nullable=False),
        sa.Column("source_ip", sa.String(64), nullable=False),
        sa.Column("user_agent", sa.String(512), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("resource", sa.String(128), nullable=False),
        sa.Column("parameters", Json, nullable=False),
        sa.Column("result", sa.String(64), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_api_audit_log"),
    )
    op.create_index("ix_api_audit_log_time", "api_audit_log", ["time"])
    op.create_index("ix_api_audit_log_principal", "api_audit_log", ["principal"])
    op.create_index("ix_api_audit_log_action", "api_audit_log", ["action"])


def downgrade() -> None:
    for table in (
        "api_audit_log",
        "api_access_keys",
        "cf_invalidations",
        "cf_aliases",
        "cf_distribution_versions",
        "cf_distributions",
    ):
        op.drop_table(table)
