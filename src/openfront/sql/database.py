"""The database: URL mapping, engine settings per backend, transactions, migrations on start."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from openfront.errors import ConfigError

_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}
_SUPPORTED = ("sqlite", "postgresql", "mysql")
T = TypeVar("T")
# Errors after which the server rolled the transaction back and asks for it to be run again:
# MariaDB/MySQL deadlock (1213), PostgreSQL deadlock_detected and serialization_failure.
_MYSQL_RETRY = frozenset({1213})
_PG_RETRY = frozenset({"40P01", "40001"})


def is_retryable(exc: DBAPIError) -> bool:
    """Whether the database refused the transaction only because of a concurrent one."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in _PG_RETRY:
        return True
    args: tuple[object, ...] = getattr(orig, "args", ())
    return bool(args) and args[0] in _MYSQL_RETRY


def database_url(url: str | None, default_file: Path, *, label: str = "database URL") -> URL:
    """``url`` with the driver OpenFront uses; SQLite at ``default_file`` when None.

    ``label`` names the setting in error messages (``--db``); a password is never shown.
    """
    if url is None:
        return make_url(f"sqlite:///{default_file.absolute()}")
    try:
        parsed = make_url(url)
    except Exception:  # sqlalchemy raises ArgumentError, and ValueError for bad ports
        raise ConfigError(f"{label}: not a database URL") from None
    if "+" not in parsed.drivername and parsed.drivername in _DRIVERS:
        parsed = parsed.set(drivername=_DRIVERS[parsed.drivername])
    if parsed.get_backend_name() not in _SUPPORTED:
        raise ConfigError(
            f"{label} {shown(parsed)!r}: use sqlite:///PATH, "
            "postgresql://USER@HOST/DB or mysql://USER@HOST/DB"
        )
    return parsed


def shown(url: URL) -> str:
    """The URL to print or log: the password masked."""
    return url.render_as_string(hide_password=True)


def make_engine(url: URL, *, private_dir: bool = False) -> Engine:
    """An engine with OpenFront's settings; ``private_dir`` makes a SQLite file's folder 0700."""
    if url.get_backend_name() == "sqlite":
        if url.database and private_dir:
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
    """An engine plus read and write transactions, and this component's migrations."""

    def __init__(
        self, url: URL, *, migrations: Path, version_table: str, private_dir: bool = False
    ) -> None:
        self.url = url
        self.engine = make_engine(url, private_dir=private_dir)
        self.migrations = migrations
        self.version_table = version_table
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

    def write_retrying(self, work: Callable[[Session], T], attempts: int = 3) -> T:
        """``work`` in a write transaction, run again (up to ``attempts`` times in all) when the
        database rolled it back for a deadlock or a serialization failure: InnoDB can pick
        either of two transactions updating the same rows as its victim, and asks the client
        to retry. ``work`` must do all its writes through the session it is given."""
        for attempt in range(1, attempts + 1):
            try:
                with self.write() as session:
                    return work(session)
            except DBAPIError as exc:
                if attempt == attempts or not is_retryable(exc):
                    raise
        raise AssertionError("unreachable")

    def migrate(self) -> None:
        """Bring the schema to the newest migration (alembic ``upgrade head``), serialised with
        concurrent starts by a database lock named after the version table."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(self.migrations))
        lock = f"openfront_{self.version_table}"[:64]
        with self.engine.execution_options(openfront_write=True).begin() as conn:
            if self.backend == "postgresql":
                key = zlib.crc32(lock.encode())
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
            elif self.backend == "mysql":
                conn.execute(text("SELECT GET_LOCK(:name, 60)"), {"name": lock})
            try:
                config.attributes["connection"] = conn
                config.attributes["version_table"] = self.version_table
                command.upgrade(config, "head")
            finally:
                if self.backend == "mysql":
                    conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": lock})

    def close(self) -> None:
        self.engine.dispose()
