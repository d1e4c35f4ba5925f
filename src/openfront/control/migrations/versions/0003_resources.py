"""Account-level resources (custom policies, public keys, key groups, OACs) and their uses.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openfront.control.sqltypes import Json, UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cf_resources",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("caller_reference", sa.String(255), nullable=True),
        sa.Column("etag", sa.String(16), nullable=False),
        sa.Column("config", Json, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_modified_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cf_resources"),
        sa.UniqueConstraint("name", "kind", name="uq_cf_resources_name"),
        sa.UniqueConstraint("caller_reference", "kind", name="uq_cf_resources_caller_reference"),
    )
    op.create_index("ix_cf_resources_kind", "cf_resources", ["kind"])
    op.create_table(
        "cf_resource_uses",
        sa.Column("distribution_id", sa.String(16), nullable=False),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("distribution_id", "resource_id", name="pk_cf_resource_uses"),
    )
    op.create_index("ix_cf_resource_uses_resource_id", "cf_resource_uses", ["resource_id"])


def downgrade() -> None:
    op.drop_table("cf_resource_uses")
    op.drop_table("cf_resources")
