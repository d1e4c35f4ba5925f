"""The database: URL mapping, engine settings per backend, transactions, migrations on start.

Same conventions as the control plane's: SQLite under the data dir by default, postgresql://
mapped to psycopg and mysql:// (or mariadb://) to PyMySQL, a version table of our own so
MediaHub can share a database with other OpenFront parts, and migrations serialised by a
lock when several servers start at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from openfront.errors import ConfigError

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "mediahub_alembic_version"
DEFAULT_FILE = "mediahub.db"
_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}
_SUPPORTED = ("sqlite", "postgresql", "mysql")
_LOCK_KEY = 0x6F66_6D68  # any constant: serialises migrations of concurrent starts
_MYSQL_LOCK = "openfront_mediahub_migrate"


def database_url(url: str | None, home: Path) -> URL:
    """``url`` with the driver this package uses; SQLite in ``home`` when None."""
    if url is None:
        return make_url(f"sqlite:///{(home / DEFAULT_FILE).absolute()}")
    try:
        parsed = make_url(url)
    except Exception:  # sqlalchemy raises ArgumentError, and ValueError for bad ports
        raise ConfigError("database URL: not a database URL") from None
    if "+" not in parsed.drivername and parsed.drivername in _DRIVERS:
        parsed = parsed.set(drivername=_DRIVERS[parsed.drivername])
    if parsed.get_backend_name() not in _SUPPORTED:
        raise ConfigError(
            f"database URL {shown(parsed)!r}: use sqlite:///PATH, "
            "postgresql://USER@HOST/DB or mysql://USER@HOST/DB"
        )
    return parsed


def shown(url: URL) -> str:
    """The URL to print or log: the password masked."""
    return url.render_as_string(hide_password=True)


def make_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        if url.database:
            # Password hashes live in this file: keep the folder private to its owner.
            Path(url.database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        _sqlite_transactions(engine)
        return engine
    options: dict[str, Any] = {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 5}
    if url.get_backend_name() == "mysql":
        # Compare-and-swap UPDATEs read the latest row either way; READ COMMITTED keeps
        # plain reads from seeing a snapshot older than the row they then update.
        options["isolation_level"] = "READ COMMITTED"
        url = url.update_query_dict({"charset": "utf8mb4"})
    return create_engine(url, **options)


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, start transactions, and start writers with BEGIN IMMEDIATE.

    A deferred transaction that reads and then writes fails at once (SQLITE_BUSY) when another
    writer committed in between; IMMEDIATE takes the write lock first and waits for it.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("openfront_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """An engine plus read and write transactions as context managers."""

    def __init__(self, url: URL) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(openfront_write=True), expire_on_commit=False
        )

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits when the block ends and rolls back if it raises."""
        with self._write() as session, session.begin():
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest migration (alembic ``upgrade head``)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.execution_options(openfront_write=True).begin() as conn:
            _migration_lock(conn, self.backend)
            try:
                config.attributes["connection"] = conn
                config.attributes["version_table"] = VERSION_TABLE
                command.upgrade(config, "head")
            finally:
                if self.backend == "mysql":
                    conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": _MYSQL_LOCK})

    def close(self) -> None:
        self.engine.dispose()


def _migration_lock(conn: Any, backend: str) -> None:
    if backend == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    elif backend == "mysql":
        conn.execute(text("SELECT GET_LOCK(:name, 60)"), {"name": _MYSQL_LOCK})
