"""Videos: uploads (presigned and tus) and their status.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openfront.mediahub.sqltypes import UtcDateTime, exact_string

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "videos",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("key", exact_string(512), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("bucket", sa.String(63), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(127), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Double(), nullable=False),
        sa.Column("failure_reason", sa.String(500), nullable=True),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("upload_kind", sa.String(16), nullable=False),
        sa.Column("upload_id", sa.String(1024), nullable=True),
        sa.Column("part_size", sa.BigInteger(), nullable=False),
        sa.Column("tus_parts", sa.Text(), nullable=True),
        sa.Column("duration", sa.Double(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("completed_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_videos_owner_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_videos"),
        sa.UniqueConstraint("key", name="uq_videos_key"),
    )
    op.create_index("ix_videos_owner_created", "videos", ["owner_id", "created_at", "id"])
    op.create_index("ix_videos_listed", "videos", ["status", "visibility", "created_at", "id"])
    op.create_index("ix_videos_status", "videos", ["status"])


def downgrade() -> None:
    op.drop_table("videos")
