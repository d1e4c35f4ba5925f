"""MediaHub's database (openfront.sql): SQLite in the MediaHub home by default, its own alembic
version table so it can share a database with other OpenFront parts."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL

from openfront import sql
from openfront.sql import shown

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "mediahub_alembic_version"
DEFAULT_FILE = "mediahub.db"

__all__ = ["DEFAULT_FILE", "MIGRATIONS", "VERSION_TABLE", "Database", "database_url", "shown"]


def database_url(url: str | None, home: Path) -> URL:
    """``url`` with the driver OpenFront uses; SQLite in ``home`` when None."""
    return sql.database_url(url, home / DEFAULT_FILE)


class Database(sql.Database):
    def __init__(self, url: URL) -> None:
        # Password hashes live in a SQLite file: keep its folder private to its owner.
        super().__init__(url, migrations=MIGRATIONS, version_table=VERSION_TABLE, private_dir=True)
