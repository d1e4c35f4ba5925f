"""Alembic environment: run on the connection Database.migrate() passes in (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from openfront.control.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=context.config.attributes["version_table"],
    render_as_batch=True,  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
