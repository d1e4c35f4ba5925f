"""The videos table on every database: unique keys with the ns+1 retry, newest-first keyset
paging, the uploading → queued compare-and-swap, usage for quotas, the cleanup query."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tests.integration.mediahub.conftest import user_row

from openfront.mediahub.database import Database
from openfront.mediahub.videos import NewVideo, VideoStore

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def _user(db: Database, name: str) -> uuid.UUID:
    user = user_row(name)
    with db.write() as s:
        s.add(user)
    return user.id


def _new(owner: uuid.UUID, name: str = "clip.mp4", size: int = 10) -> NewVideo:
    return NewVideo(
        owner_id=owner,
        region="ap-northeast-2",
        bucket="media",
        title=name,
        filename=name,
        safe_name=name,
        content_type="video/mp4",
        size=size,
        upload_kind="single",
        part_size=5 * 1024 * 1024,
    )


def test_same_name_same_nanosecond_gets_the_next_nanosecond(db: Database) -> None:
    store = VideoStore(db)
    owner = _user(db, "minji")
    keys = [store.create(_new(owner), 1000, T0, None).key for _ in range(3)]
    assert keys == [
        f"videos/{owner}/{ns:019d}-ap-northeast-2_clip.mp4" for ns in (1000, 1001, 1002)
    ]
    assert store.usage(owner) == (3, 30)


def test_two_regions_in_the_same_nanosecond_get_their_own_keys(db: Database) -> None:
    store = VideoStore(db)
    owner = _user(db, "minji")
    seoul = store.create(_new(owner), 1000, T0, None)
    sao_paulo = store.create(replace(_new(owner), region="sa-east-1"), 1000, T0, None)
    assert seoul.key == f"videos/{owner}/0000000000000001000-ap-northeast-2_clip.mp4"
    assert sao_paulo.key == f"videos/{owner}/0000000000000001000-sa-east-1_clip.mp4"


def test_paging_is_newest_first_and_stable(db: Database) -> None:
    store = VideoStore(db)
    owner, other = _user(db, "minji"), _user(db, "joao")
    made = [
        store.create(_new(owner, f"v{i}.mp4"), 1000 + i, T0 + timedelta(seconds=i // 2), None)
        for i in range(5)
    ]
    store.create(_new(other, "theirs.mp4"), 1, T0, None)
    seen, after = [], None
    while True:
        rows, cursor = store.page(owner_id=owner, limit=2, after=after)
        seen += [r.video.title for r in rows]
        if cursor is None:
            break
        last = rows[-1].video
        after = (last.created_at, last.id)
    # Ties on created_at go by id in the database's own uuid order (MariaDB's differs from
    # Python's); each page continues exactly where the last stopped, never repeating.
    assert len(seen) == len(set(seen)) == len(made)
    assert seen[0] == "v4.mp4"
    assert set(seen[1:3]) == {"v2.mp4", "v3.mp4"} and set(seen[3:]) == {"v0.mp4", "v1.mp4"}
    assert store.page(owner_id=None, limit=10, after=None)[0] == []  # nothing ready+public


def test_queued_once_and_cleanup_query(db: Database) -> None:
    store = VideoStore(db)
    owner = _user(db, "minji")
    old = store.create(_new(owner, "old.mp4"), 1, T0, None)
    fresh = store.create(_new(owner, "fresh.mp4"), 2, T0 + timedelta(hours=2), None)
    done = store.create(_new(owner, "done.mp4"), 3, T0, None)
    assert store.mark_queued(done.id, T0) is True
    assert store.mark_queued(done.id, T0) is False  # a second completion changes nothing
    got = store.get(done.id)
    assert got is not None and got.video.status == "queued" and got.username == "minji"
    stale = store.unfinished_before(T0 + timedelta(hours=1), "ap-northeast-2")
    assert [v.id for v in stale] == [old.id]
    assert store.unfinished_before(T0 + timedelta(hours=1), "sa-east-1") == []
    store.touch(old.id, T0 + timedelta(hours=3))
    assert store.unfinished_before(T0 + timedelta(hours=1), "ap-northeast-2") == []
    store.remove(fresh.id)
    assert store.get(fresh.id) is None


class _Full(Exception):
    pass


def test_quota_admission_is_serialised_per_owner(db: Database) -> None:
    """Eight uploads at once against a three-video quota: exactly three get in, on every
    database (the owner's row is locked before the usage is read)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    store = VideoStore(db)
    owner = _user(db, "quota")
    start = threading.Barrier(8)

    def admit(used: tuple[int, int]) -> None:
        if used[0] >= 3:
            raise _Full(used)

    def one(i: int) -> bool:
        start.wait(30)
        try:
            store.create(_new(owner, f"c{i}.mp4"), 1000 + i, T0, None, admit)
        except _Full:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    assert results.count(True) == 3
    assert store.usage(owner) == (3, 30)
