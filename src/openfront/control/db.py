"""The control plane's database: control.db under the data dir by default (openfront.sql)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL

from openfront import sql

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "openfront_control_alembic_version"


def database_url(url: str | None, data_dir: Path) -> URL:
    """``url`` with the driver OpenFront uses; ``DATA/control.db`` when None."""
    return sql.database_url(url, data_dir / "control.db", label="--db")


class Database(sql.Database):
    def __init__(self, url: URL) -> None:
        super().__init__(url, migrations=MIGRATIONS, version_table=VERSION_TABLE)
