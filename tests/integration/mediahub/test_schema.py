"""Migrations and the account store on every database: schema = models, times given explicitly."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from openfront.mediahub.accounts import AccountStore, Conflict, Refused, Rotated
from openfront.mediahub.database import MIGRATIONS, VERSION_TABLE, Database, database_url
from openfront.mediahub.models import Base
from openfront.mediahub.names import normalise_email

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "include_name": lambda name, kind, _p: (
                    kind != "table" or name in Base.metadata.tables
                ),
                "compare_type": True,
            },
        )
        assert compare_metadata(ctx, Base.metadata) == []
        tables = set(inspect(conn).get_table_names())
        assert VERSION_TABLE in tables and "alembic_version" not in tables
        version = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar_one()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert version == ScriptDirectory.from_config(config).get_current_head()


def test_migrating_again_and_concurrently_is_harmless(database: str, db: Database) -> None:
    errors: list[BaseException] = []

    def migrate() -> None:
        other = Database(database_url(database, Path(".")))
        try:
            other.migrate()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            other.close()

    threads = [threading.Thread(target=migrate) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []


def test_names_are_unique_byte_for_byte_after_normalising(db: Database) -> None:
    store = AccountStore(db, "ap-northeast-2")
    store.create("jose", normalise_email("jose@example.com"), "h", T0)
    # MariaDB's default collations would call these equal to the ones above.
    store.create("jose.2", normalise_email("josé@example.com"), "h", T0)
    store.create("jose_", normalise_email("jose@exámple.com"), "h", T0)
    assert store.find(email_key="josé@example.com") is not None
    with pytest.raises(Conflict) as info:
        store.create("jose3", normalise_email("JOSE@Example.com"), "h", T0)
    assert info.value.field == "email"
    with pytest.raises(Conflict) as info:
        store.create("jose", normalise_email("other@example.com"), "h", T0)
    assert info.value.field == "username"


def test_refresh_rotation_with_explicit_times(db: Database) -> None:
    store = AccountStore(db, "sa-east-1")
    account = store.create("rita", normalise_email("rita@example.com"), "h", T0)
    store.issue(account.id, "a" * 64, T0, ttl=60)

    rotated = store.rotate("a" * 64, "b" * 64, T0 + timedelta(seconds=59), ttl=60)
    assert isinstance(rotated, Rotated) and rotated.account.id == account.id
    assert store.rotate("b" * 64, "c" * 64, T0 + timedelta(seconds=120), ttl=60) == Refused(
        "expired"
    )
    assert store.rotate("nope", "d" * 64, T0, ttl=60) == Refused("unknown")

    store.issue(account.id, "e" * 64, T0, ttl=60)
    assert isinstance(store.rotate("e" * 64, "f" * 64, T0, ttl=60), Rotated)
    assert store.rotate("e" * 64, "g" * 64, T0, ttl=60) == Refused("reused")
    assert store.rotate("f" * 64, "h" * 64, T0, ttl=60) == Refused("revoked")


def test_failures_are_counted_per_key_and_old_ones_forgotten(db: Database) -> None:
    store = AccountStore(db, "ap-northeast-2")
    store.record_failure(["user:x", "ip:1.2.3.4"], at=100.0, forget_before=0.0)
    store.record_failure(["user:x"], at=200.0, forget_before=0.0)
    assert store.failures(["user:x", "ip:1.2.3.4", "ip:5.6.7.8"], since=0.0) == {
        "user:x": [100.0, 200.0],
        "ip:1.2.3.4": [100.0],
        "ip:5.6.7.8": [],
    }
    assert store.failures(["user:x"], since=150.0) == {"user:x": [200.0]}
    store.record_failure(["user:y"], at=1_000_000_000.5, forget_before=150.0)
    assert store.failures(["user:x", "user:y", "ip:1.2.3.4"], since=0.0) == {
        "user:x": [200.0],
        "user:y": [1_000_000_000.5],
        "ip:1.2.3.4": [],
    }
    store.clear_failures("user:x")
    assert store.failures(["user:x", "user:y"], since=0.0) == {
        "user:x": [],
        "user:y": [1_000_000_000.5],
    }
