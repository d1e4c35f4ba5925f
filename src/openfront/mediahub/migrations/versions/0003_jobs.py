"""Processing jobs: a durable queue with leases, retries and one active job per video.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openfront.mediahub.sqltypes import BigId, UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mediahub_jobs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("video_id", sa.Uuid(), nullable=False),
        sa.Column("active_video_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Double(), nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_expires_at", sa.Double(), nullable=True),
        sa.Column("progress", sa.Double(), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["video_id"], ["videos.id"], name="fk_mediahub_jobs_video_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_mediahub_jobs"),
        sa.UniqueConstraint("active_video_id", name="uq_mediahub_jobs_active_video_id"),
    )
    op.create_index("ix_mediahub_jobs_video_id", "mediahub_jobs", ["video_id"])
    op.create_index("ix_mediahub_jobs_due", "mediahub_jobs", ["region", "state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("mediahub_jobs")
