"""SQL shared by the control plane and MediaHub: URLs, engines per backend, migrations, types.

SQLite under a data dir by default; postgresql:// is mapped to psycopg and mysql:// (or
mariadb://) to PyMySQL. Each component keeps its own alembic folder and version table, so
several can share one database.
"""

from openfront.sql.database import Database, database_url, shown
from openfront.sql.types import NAMING, BigId, Json, UtcDateTime, exact_string

__all__ = [
    "NAMING",
    "BigId",
    "Database",
    "Json",
    "UtcDateTime",
    "database_url",
    "exact_string",
    "shown",
]
