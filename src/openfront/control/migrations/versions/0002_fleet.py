"""The edge fleet: registered edges and the lock row that orders change sequence numbers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openfront.control.sqltypes import Json, UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    head = op.create_table(
        "fleet_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("changes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_fleet_head"),
    )
    op.bulk_insert(head, [{"id": 1, "changes": 0}])
    op.create_table(
        "fleet_edges",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("pop", sa.String(64), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("principal", sa.String(64), nullable=False),
        sa.Column("registered_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
        sa.Column("config_seq", sa.BigInteger(), nullable=False),
        sa.Column("invalidation_seq", sa.BigInteger(), nullable=False),
        sa.Column("errors", Json, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_fleet_edges"),
    )
    op.create_index("ix_fleet_edges_last_seen_at", "fleet_edges", ["last_seen_at"])


def downgrade() -> None:
    op.drop_table("fleet_edges")
    op.drop_table("fleet_head")
