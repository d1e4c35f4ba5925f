"""The service layer on each database: quotas, the ETag compare-and-swap, versions, migrations."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from tests.integration.control.helpers import ApiThread, dist_config, unique

from openfront.control import distributions, fleet, invalidations
from openfront.control.db import VERSION_TABLE, Database
from openfront.control.errors import ApiError
from openfront.control.models import Base, DistributionVersion
from openfront.control.settings import ApiSettings

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _create(db: Database, settings: ApiSettings, **over: Any) -> distributions.DistributionView:
    with db.write() as session:
        view, _ = distributions.create_distribution(
            session, dist_config(unique(), **over), settings, NOW
        )
    return view


def test_schema_matches_the_models(api: ApiThread) -> None:
    api.state.db.migrate()  # a second upgrade is a no-op
    with api.state.db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_invalidation_quotas_count_in_progress_paths(api: ApiThread) -> None:
    db = api.state.db
    settings = ApiSettings(max_invalidation_paths_in_progress=3, max_wildcard_paths_in_progress=1)
    # A healthy edge: invalidations wait for it. Seen at the real time, because the running API
    # settles statuses on the real clock and would complete them if the only edge were stale.
    now = datetime.now(UTC)
    with db.write() as session:
        fleet.register(session, fleet.parse_registration(unique("edge"), {}), "test", now)
    dist = _create(db, settings)

    def invalidate(*paths: str) -> str:
        batch = {
            "Paths": {"Quantity": len(paths), "Items": list(paths)},
            "CallerReference": unique(),
        }
        with db.write() as session:
            view, _ = invalidations.create_invalidation(session, dist.id, batch, settings, NOW)
        return view.status

    assert invalidate("/a", "/b") == "InProgress"
    assert invalidate("/c*") == "InProgress"
    for paths in (("/d", "/e"), ("/f*",)):  # 2 + 2 files > 3; 1 + 1 wildcards > 1
        with pytest.raises(ApiError) as exc:
            invalidate(*paths)
        assert exc.value.code == "TooManyInvalidationsInProgress"
    with pytest.raises(ApiError) as big:
        invalidate("/1", "/2", "/3", "/4")
    assert big.value.code == "BatchTooLarge"
    with db.read() as session:
        assert distributions.get_distribution(session, dist.id).in_progress_invalidations == 2


def test_distribution_quota(api: ApiThread) -> None:
    with api.state.db.read() as session:
        existing = len(distributions.list_distributions(session, "", 1000).items)
    settings = ApiSettings(max_distributions=existing + 1)
    _create(api.state.db, settings)
    with pytest.raises(ApiError) as exc:
        _create(api.state.db, settings)
    assert exc.value.code == "TooManyDistributions"


def test_every_change_is_a_version_in_global_order(api: ApiThread) -> None:
    db, settings = api.state.db, ApiSettings()
    dist = _create(db, settings)
    with db.read() as session:
        config = distributions.get_distribution(session, dist.id).config
    with db.write() as session:
        off = distributions.update_distribution(
            session, dist.id, {**config, "Enabled": False}, dist.etag, settings, NOW
        )
    with db.write() as session:
        distributions.delete_distribution(session, dist.id, off.etag, NOW)
    with db.read() as session:
        rows = session.scalars(
            select(DistributionVersion)
            .where(DistributionVersion.distribution_id == dist.id)
            .order_by(DistributionVersion.seq)
        ).all()
    assert [(r.version, r.deleted) for r in rows] == [(1, False), (2, False), (3, True)]
    assert [r.etag for r in rows[:2]] == [dist.etag, off.etag]
    assert rows[1].config is not None and rows[1].config["Enabled"] is False
    assert rows[2].config is None  # the tombstone an edge follows to drop the distribution


def _blocked_writers(db: Database) -> int:
    sql = {
        "postgresql": "SELECT count(*) FROM pg_stat_activity "
        "WHERE wait_event_type = 'Lock' AND datname = current_database()",
        # MariaDB does not always list a semi-consistent UPDATE's wait in innodb_trx; an
        # UPDATE still running while A's transaction is open can only be waiting for A.
        # Writers take the fleet's change lock (fleet_head) before anything else.
        "mysql": "SELECT count(*) FROM information_schema.processlist WHERE db = DATABASE() "
        "AND (info LIKE 'UPDATE cf_distributions %%' OR info LIKE 'UPDATE fleet_head %%')",
    }[db.backend]
    with db.engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def test_compare_and_swap_loses_to_a_concurrent_commit(api: ApiThread) -> None:
    """Writer B holds the same ETag as A; it waits for A, then finds it stale."""
    db, settings = api.state.db, ApiSettings()
    if db.backend == "sqlite":
        pytest.skip("SQLite serialises writers with BEGIN IMMEDIATE: B never overlaps A")
    dist = _create(db, settings)
    with db.read() as session:
        config = distributions.get_distribution(session, dist.id).config
    outcome: list[str] = []
    with db.write() as session_a:
        distributions.update_distribution(
            session_a, dist.id, {**config, "Comment": "A"}, dist.etag, settings, NOW
        )

        def writer_b() -> None:
            try:
                with db.write() as session_b:
                    distributions.update_distribution(
                        session_b, dist.id, {**config, "Comment": "B"}, dist.etag, settings, NOW
                    )
                outcome.append("B won")
            except ApiError as exc:
                outcome.append(exc.code)

        b = threading.Thread(target=writer_b)
        b.start()
        deadline = time.monotonic() + 10
        while _blocked_writers(db) == 0 and b.is_alive():  # B is blocked on A's row lock
            assert time.monotonic() < deadline, "writer B never waited for A's lock"
            b.join(0.01)
        assert b.is_alive(), outcome
    b.join(10)
    assert outcome == ["PreconditionFailed"]
    with db.read() as session:
        assert distributions.get_distribution(session, dist.id).config["Comment"] == "A"


def test_a_policy_deleted_while_a_distribution_starts_using_it_is_never_dangling(
    api: ApiThread,
) -> None:
    """B creates a distribution naming the policy A is deleting: B waits, then finds it gone."""
    from openfront.control import account

    db, settings = api.state.db, ApiSettings()
    if db.backend == "sqlite":
        pytest.skip("SQLite serialises writers with BEGIN IMMEDIATE: B never overlaps A")
    with db.write() as session:
        policy, _ = account.create(session, "CachePolicy", {"Name": unique("cp"), "MinTTL": 0}, NOW)
    outcome: list[str] = []
    with db.write() as session_a:
        account.delete_resource(session_a, "CachePolicy", policy.id, policy.etag)

        def writer_b() -> None:
            doc = dist_config(unique())
            doc["DefaultCacheBehavior"]["CachePolicyId"] = policy.id
            try:
                with db.write() as session_b:
                    distributions.create_distribution(session_b, doc, settings, NOW)
                outcome.append("created")
            except ApiError as exc:
                outcome.append(exc.code)

        b = threading.Thread(target=writer_b)
        b.start()
        deadline = time.monotonic() + 10
        while _blocked_writers(db) == 0 and b.is_alive():  # B waits for A's change lock
            assert time.monotonic() < deadline, "writer B never waited for A's lock"
            b.join(0.01)
        assert b.is_alive(), outcome
    b.join(10)
    assert outcome == ["NoSuchCachePolicy"]
