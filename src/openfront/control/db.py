"""The database: URL mapping, engine settings per backend, transactions, migrations on start."""

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
VERSION_TABLE = "openfront_control_alembic_version"
_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}
_SUPPORTED = ("sqlite", "postgresql", "mysql")
_LOCK_KEY = 0x6F66_6370  # any constant: serialises migrations of concurrent starts


def database_url(url: str | None, data_dir: Path) -> URL:
    """``url`` with the driver this package uses; SQLite under ``data_dir`` when None."""
    if url is None:
        return make_url(f"sqlite:///{(data_dir / 'control.db').absolute()}")
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError, and ValueError for bad ports
        raise ConfigError(f"--db {url!r}: not a database URL ({exc})") from None
    if "+" not in parsed.drivername and parsed.drivername in _DRIVERS:
        parsed = parsed.set(drivername=_DRIVERS[parsed.drivername])
    if parsed.get_backend_name() not in _SUPPORTED:
        raise ConfigError(
            f"--db {parsed.render_as_string()!r}: use sqlite:///PATH, "
            "postgresql://USER@HOST/DB or mysql://USER@HOST/DB"
        )
    return parsed


def make_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30})
        _sqlite_transactions(engine)
        return engine
    options: dict[str, Any] = {"pool_pre_ping": True}
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
            config.attributes["connection"] = conn
            config.attributes["version_table"] = VERSION_TABLE
            command.upgrade(config, "head")
            if self.backend == "mysql":
                conn.execute(text("SELECT RELEASE_LOCK('openfront_control_migrate')"))

    def close(self) -> None:
        self.engine.dispose()


def _migration_lock(conn: Any, backend: str) -> None:
    if backend == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    elif backend == "mysql":
        conn.execute(text("SELECT GET_LOCK('openfront_control_migrate', 60)"))
