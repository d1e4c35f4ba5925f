"""Accounts: the seed's users table, refresh tokens, failed sign-ins.

Revision ID: 0001
Revises:
Create Date: 2026-05-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openfront.mediahub.sqltypes import BigId, UtcDateTime, exact_string

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", exact_string(32), nullable=False),
        sa.Column("email", exact_string(254), nullable=False),
        sa.Column("email_key", exact_string(254), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.UniqueConstraint("email", name="uq_users_email"),
        sa.UniqueConstraint("email_key", name="uq_users_email_key"),
    )
    op.create_table(
        "mediahub_refresh_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("issued_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_mediahub_refresh_tokens_user_id",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_mediahub_refresh_tokens"),
    )
    op.create_index(
        "ix_mediahub_refresh_tokens_family_id", "mediahub_refresh_tokens", ["family_id"]
    )
    op.create_index("ix_mediahub_refresh_tokens_user_id", "mediahub_refresh_tokens", ["user_id"])
    op.create_table(
        "mediahub_signin_failures",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mediahub_signin_failures"),
    )
    op.create_index("ix_mediahub_signin_failures_key_at", "mediahub_signin_failures", ["key", "at"])
    op.create_index("ix_mediahub_signin_failures_at", "mediahub_signin_failures", ["at"])


def downgrade() -> None:
    op.drop_table("mediahub_signin_failures")
    op.drop_table("mediahub_refresh_tokens")
    op.drop_table("users")
