"""Alembic environment: run on the connection Database.migrate() passes in (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from openfront.mediahub.models import Base

MEDIAHUB_TABLES = frozenset(Base.metadata.tables)


def _ours(name: str | None, type_: str, _parent: object) -> bool:
    # Other OpenFront parts may keep their tables in the same database.
    return type_ != "table" or name in MEDIAHUB_TABLES


connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=context.config.attributes["version_table"],
    include_name=_ours,
    render_as_batch=True,  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
