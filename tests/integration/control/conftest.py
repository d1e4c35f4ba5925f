"""One CloudFront API server per database backend for the whole run, boto3 as the client.

SQLite always runs. PostgreSQL and MariaDB run when OPENFRONT_TEST_POSTGRES_URL /
OPENFRONT_TEST_MARIADB_URL name a server; each run gets a freshly created database with a
unique name, dropped afterwards, so parallel runs never share state. Tests create their own
distributions (unique CallerReferences), so sharing a server keeps them independent.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from tests.integration.control.helpers import ApiThread, client, start_api

from openfront.control.db import database_url

BACKENDS = {
    "postgresql": ("OPENFRONT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    "mariadb": ("OPENFRONT_TEST_MARIADB_URL", "mysql://root@127.0.0.1:3306/test"),
}


@pytest.fixture(scope="session", params=["sqlite", "postgresql", "mariadb"])
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A URL to an empty database of each backend (None-free: sqlite gets a file URL)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "control.db"
        yield f"sqlite:///{path}"
        return
    env, example = BACKENDS[request.param]
    base = os.environ.get(env)
    if not base:
        pytest.skip(f"{env} is not set (e.g. {example}): {request.param} tests skipped")
    yield from _scratch_database(base)


def _scratch_database(base: str) -> Iterator[str]:
    url = database_url(base, Path("."))
    name = f"openfront_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    quoted = f'"{name}"' if url.get_backend_name() == "postgresql" else f"`{name}`"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {quoted}"))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        force = " WITH (FORCE)" if url.get_backend_name() == "postgresql" else ""
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {quoted}{force}"))
        admin.dispose()


@pytest.fixture(scope="session")
def api(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiThread]:
    server = start_api(tmp_path_factory.mktemp("api"), db_url)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def cf(api: ApiThread) -> Any:
    return client(api.url)
