"""MediaHub servers on port 0 over SQLite, PostgreSQL and MariaDB (one fresh database per run).

PostgreSQL and MariaDB run when OPENFRONT_TEST_POSTGRES_URL / OPENFRONT_TEST_MARIADB_URL name
a server and a database to connect to first (e.g. postgresql://postgres@127.0.0.1:5432/test);
each run creates its own uniquely named database there and drops it afterwards.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, delete, text

from openfront.config.mediahub import MediaHubConfig
from openfront.mediahub.database import Database, database_url
from openfront.mediahub.models import Base, User
from openfront.mediahub.server import RunningMediaHub

CHEAP_ARGON2 = {"time_cost": 1, "memory_kib": 8, "parallelism": 1}
SERVERS = {
    "postgresql": ("OPENFRONT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    "mariadb": ("OPENFRONT_TEST_MARIADB_URL", "mysql://root@127.0.0.1:3306/test"),
}
MakeHub = Callable[..., Awaitable[RunningMediaHub]]


def _server_database(backend: str) -> Iterator[str]:
    env, example = SERVERS[backend]
    base = os.environ.get(env)
    if not base:
        pytest.skip(f"{backend} tests need a server: set {env}, e.g. {env}={example}")
    name = f"mediahub_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(database_url(base, Path(".")), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        yield database_url(base, Path(".")).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            force = " WITH (FORCE)" if backend == "postgresql" else ""
            conn.execute(text(f"DROP DATABASE {name}{force}"))
    finally:
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql", "mariadb"])
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated, empty-at-start database URL for this run, per backend."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path_factory.mktemp('db') / 'mediahub.db'}"])
    else:
        urls = _server_database(request.param)
    url = next(urls)
    db = Database(database_url(url, Path(".")))
    db.migrate()
    db.close()
    yield url
    next(urls, None)  # drop the database


@pytest.fixture
def sqlite_database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mediahub.db'}"


@pytest.fixture
def db(database: str) -> Iterator[Database]:
    """The run's database, emptied for this test."""
    handle = Database(database_url(database, Path(".")))
    with handle.write() as s:
        for table in reversed(Base.metadata.sorted_tables):
            s.execute(delete(table))
    yield handle
    handle.close()


def hub_config(database: str, data_dir: Path, **overrides: Any) -> MediaHubConfig:
    return MediaHubConfig.model_validate(
        {
            "listen": "127.0.0.1:0",
            "data_dir": data_dir,
            "database_url": database,
            "argon2": CHEAP_ARGON2,
            "processing": {"worker": False},  # tests that process videos turn it on
            **overrides,
        }
    )


@pytest.fixture
async def make_hub(tmp_path: Path) -> AsyncIterator[MakeHub]:
    """Start a MediaHub server; hubs made with the same data dir share the token key."""
    hubs: list[RunningMediaHub] = []

    async def make(
        database: str, *, data_dir: Path | None = None, **overrides: Any
    ) -> RunningMediaHub:
        hub = RunningMediaHub(hub_config(database, data_dir or tmp_path, **overrides))
        await hub.start()
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        await hub.close()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as c:
        yield c


def user_row(name: str) -> User:
    """A users row to insert directly (the store tests do not go through sign-up)."""
    return User(
        id=uuid.uuid4(),
        username=name,
        email=f"{name}@example.com",
        email_key=f"{name}@example.com",
        password_hash="x",
        created_at=datetime(2030, 1, 1, tzinfo=UTC),
    )


def new_user(tag: str = "") -> dict[str, str]:
    suffix = secrets.token_hex(3)
    return {
        "username": f"user{tag}{suffix}",
        "email": f"User.{tag}{suffix}@Example.COM",
        "password": "correct horse battery",
    }
