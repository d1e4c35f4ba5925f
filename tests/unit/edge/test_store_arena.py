"""ArenaStore: records in one mmap, S3-FIFO as two byte rings, an open-addressing slot table."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from bench.tracesim import WORKLOADS, ArenaPolicy, make_trace, simulate
from hypothesis import given, settings
from tests.support.store_model import OPS, Model, run_model

from openfront.cache.entry import EntryMeta
from openfront.cache.eviction import S3Fifo
from openfront.cache.key import cache_key
from openfront.cache.policy import KeyPolicy
from openfront.cache.response_headers import EditedHead
from openfront.edge.serve import compact, fields, full_head, validators
from openfront.edge.store import ArenaStore, MemoryObject, TieredStore, memory_tier
from openfront.edge.store.arena import HEADER_BYTES
from openfront.edge.store.memory import MemoryStore

HEADERS = (("Content-Type", "text/plain"), ("ETag", '"v1"'), ("Cache-Control", "max-age=60"))
SHARED = b"Content-Type: text/plain\r\nCache-Control: max-age=60\r\n"
OWN = b'ETag: "v1"\r\n'


def meta(key: bytes, size: int, url: str = "/x", status: int = 200) -> EntryMeta:
    return EntryMeta(
        key, url, status, HEADERS, size, 1.0, 2.0, 0.5, 60.0, content_type="text/plain"
    )


def record(key: bytes, body: bytes, url: str = "") -> int:
    """Bytes a record of ``body`` under ``key`` takes in the arena."""
    blob = len(OWN) + len(b"Content-Length: %d\r\n\r\n" % len(body)) + len(body)
    return (HEADER_BYTES + len(key) + blob + len(url) + 7) & ~7


def test_put_entry_get_round_trip() -> None:
    m = ArenaStore(100_000, 1000)
    src = meta(b"k", 5, url="/a?b=1")
    src.stale_while_revalidate = 30.0
    src.must_revalidate = True
    src.vary = ("accept-language",)
    m.put(b"k", src, b"hello")
    assert len(m) == 1 and b"k" in m and b"other" not in m
    assert m.used_bytes == record(b"k", b"hello", "/a?b=1")  # the key does not spell the URL
    e = m.entry(b"k")
    assert e is not None
    assert bytes(e.blob) == OWN + b"Content-Length: 5\r\n\r\nhello"
    assert e.shape.common == SHARED and e.shape.line == b"HTTP/1.1 200 OK\r\n"
    assert e.body == b"hello" and e.body_size == 5 and e.status == 200
    assert e.born == 1.5 and e.ttl == 60.0
    got = m.get(b"k")
    assert got is not None and got.body == b"hello"
    back = got.meta
    assert back.url == "/a?b=1" and back.body_size == 5 and back.age(10.0) == src.age(10.0)
    assert (back.ttl, back.stale_while_revalidate, back.stale_if_error) == (60.0, 30.0, 0.0)
    assert back.must_revalidate and back.vary == ("accept-language",)
    assert back.head == b"HTTP/1.1 200 OK\r\n" + SHARED + OWN + b"Content-Length: 5\r\n"
    assert sorted(fields(back)) == sorted(HEADERS) and validators(back) == ('"v1"', None)
    assert len(back.head) == len(full_head(meta(b"k", 5)))


def test_compact_and_full_meta_pack_alike_and_shapes_are_shared() -> None:
    m = ArenaStore(100_000, 1000)
    m.put(b"full", meta(b"full", 3), b"abc")
    m.put(b"compact", compact(meta(b"compact", 3)), b"abc")
    a, b = m.entry(b"full"), m.entry(b"compact")
    assert a is not None and b is not None
    assert bytes(a.blob) == bytes(b.blob) and a.shape is b.shape


def test_url_comes_from_the_key_when_it_can() -> None:
    ck = cache_key(
        host="h",
        path="/p/ä",
        query="x=1&y=2",
        method="GET",
        header=lambda n: None,
        cookie_header=None,
        policy=KeyPolicy(query_strings="all"),
    )
    key = b"EDIST\0" + ck.key
    m = ArenaStore(100_000, 1000)
    m.put(key, meta(key, 1, url=ck.url), b"1")
    e = m.entry(key)
    assert e is not None and e.url is None and m.used_bytes == record(key, b"1")
    assert dict(m.items_meta())[key].url == ck.url
    m.put(key, meta(key, 1, url="/other"), b"1")  # a key spelling another URL keeps its own
    assert dict(m.items_meta())[key].url == "/other"


def test_refuses_oversize_body() -> None:
    m = ArenaStore(10_000, 10)
    with pytest.raises(ValueError, match="max_object_bytes"):
        m.put(b"k", meta(b"k", 11), b"x" * 11)
    assert len(m) == 0
    with pytest.raises(ValueError, match="capacity_bytes"):
        ArenaStore(1 << 40, 100)  # offsets must fit the slot's 40 bits
    with pytest.raises(ValueError, match="max_object_bytes"):
        ArenaStore(1000, -1)


def test_object_larger_than_small_ring_waits_for_its_second_miss() -> None:
    """Larger than the small ring (only in the simulator's arena, whose small ring stays at 10%):
    not kept on its first miss; the ghost remembers it, so the next miss puts it in main."""
    m = ArenaStore(10_000, 10_000, virtual=True)  # small ring 1,000 bytes, main 9,000
    m.put_virtual(b"big", 2_000)
    assert not m.touch(b"big") and m.used_bytes == 0
    m.put_virtual(b"big", 2_000)
    assert m.touch(b"big") and len(m) == 1


def test_small_ring_holds_any_object_up_to_max_object_bytes() -> None:
    """A tier small for its max_object_bytes still keeps a large object on its first miss."""
    m = ArenaStore(50_000, 8_000)  # 10% is 5,000 bytes: small takes 8,000 + 8 KiB instead
    body = b"m" * 8_000
    m.put(b"k", meta(b"k", len(body)), body)
    got = m.get(b"k")
    assert got is not None and got.body == body


def test_object_larger_than_half_the_arena_is_never_kept() -> None:
    """Neither ring holds it (small is at most half the arena): the disk tier keeps it."""
    m = ArenaStore(1_000, 1_000)
    body = b"x" * 600
    for _ in range(2):
        m.put(b"k", meta(b"k", len(body)), body)
        assert m.get(b"k") is None and len(m) == 0


def test_long_keys_stay_out_of_memory() -> None:
    m = ArenaStore(1 << 20, 1000)
    key = b"k" * 70_000
    m.put(key, meta(key, 1), b"1")
    assert m.get(key) is None and len(m) == 0


def _model_run(m: ArenaStore, ops: list[tuple[str, int, int]], cap: int) -> None:
    def holds(m: ArenaStore, model: Model) -> None:
        assert len(m) == len(model)
        for k, (body, ttl, _) in model.items():
            e = m.entry(k)
            assert e is not None and e.body == body and e.ttl == ttl
        assert m.used_bytes <= m.occupied_bytes <= m.capacity_bytes <= cap

    def invalidate(m: ArenaStore, url: str) -> None:
        m.delete_urls((b"EDIST\0",), lambda u: u == url)

    run_model(m, ops, meta, invalidate, holds)


@settings(max_examples=120, deadline=None)
@given(ops=OPS)
def test_model_sequence_wraps_the_rings_within_the_byte_bound(
    ops: list[tuple[str, int, int]],
) -> None:
    """Random put/get/delete/update/invalidate against a dict model, in a store that wraps both
    rings many times: every read is the last write or nothing, and the bytes stay bounded."""
    _model_run(ArenaStore(4_000, 400), ops, 4_000)
    # Again with two hash values for all keys: every lookup walks a run of colliding slots.
    _model_run(ArenaStore(4_000, 400, key_hash=lambda k: len(k) << 50), ops, 4_000)


HASHES: list[Callable[[bytes], int]] = [
    lambda key: 7,  # every key on one slot, one tag: only the stored key tells them apart
    lambda key: len(key) << 50,  # runs of equal home slots and tags, wrapping the table
    lambda key: hash(key) & 0xFF,  # different homes, no tag bits: colliding tags
]


@pytest.mark.parametrize("key_hash", HASHES)
def test_hash_collisions(key_hash: Callable[[bytes], int]) -> None:
    m = ArenaStore(1 << 20, 1000, key_hash=key_hash)
    keys = [b"key-%d" % i for i in range(1500)]  # more than the first table's 1,024 slots
    for i, key in enumerate(keys):
        m.put(key, meta(key, 4), b"%04d" % i)
    for i, key in enumerate(keys):
        got = m.get(key)
        assert got is not None and got.body == b"%04d" % i
    for key in keys[::3]:
        assert m.delete(key)  # deletion shifts the rest of the run back
    for i, key in enumerate(keys):
        got = m.get(key)
        assert (got is None) == (i % 3 == 0)
        assert got is None or got.body == b"%04d" % i
    assert len(m) == 1000 and sorted(m.keys()) == sorted(keys[i] for i in range(1500) if i % 3)


def test_collisions_under_eviction_match_a_model() -> None:
    ops_list = [("put", i % 13, (i * 37) % 300) for i in range(400)]
    ops_list += [("get", i % 13, 0) for i in range(13)]
    _model_run(ArenaStore(4_000, 400, key_hash=lambda k: len(k) << 50), ops_list, 4_000)


def test_hit_objects_survive_a_scan_of_one_hit_wonders() -> None:
    """S3-FIFO: what was hit while in small moves to main; a scan passes through small only."""
    body = b"x" * 100
    size = record(b"hot-00", body)
    m = ArenaStore(60 * size, 1000)
    hot = [b"hot-%02d" % i for i in range(20)]
    for key in hot:
        m.put(key, meta(key, len(body)), body)
        assert m.entry(key) is not None
    for i in range(500):
        key = b"scan%02d" % (i % 100)
        m.put(key, meta(key, len(body)), body)
    assert all(key in m for key in hot)
    assert sum(b"scan%02d" % i in m for i in range(100)) <= 40


def test_held_objects_and_views_across_eviction() -> None:
    """What may be held across an await is a copy; the hot-view memo never serves a record
    that was evicted, replaced or rewritten."""
    body = b"a" * 100
    m = ArenaStore(20 * record(b"k000", body), 1000)
    m.put(b"a", meta(b"a", 100), body)
    held = m.get(b"a")
    view = m.entry(b"a")
    assert held is not None and view is not None and m.entry(b"a") is view  # memoised
    for i in range(300):  # hit once each, they all reach main: a's bytes are reused
        key = b"k%03d" % i
        m.put(key, meta(key, 100), bytes([i % 256]) * 100)
        assert m.entry(key) is not None
    assert b"a" not in m and m.entry(b"a") is None
    assert held.body == body
    m.put(b"a", meta(b"a", 3), b"new")
    again = m.entry(b"a")
    assert again is not None and again is not view and again.body == b"new"
    upd = meta(b"a", 3)
    upd.ttl = 5.0
    m.update_meta(b"a", upd)
    after = m.entry(b"a")
    assert after is not None and after.ttl == 5.0 and after.body == b"new"
    assert m.delete(b"a") and m.entry(b"a") is None


def test_update_meta_in_place_or_moved() -> None:
    m = ArenaStore(100_000, 1000)
    m.put(b"k", meta(b"k", 3), b"abc")
    e = m.entry(b"k")
    assert e is not None
    used = m.used_bytes
    smaller = meta(b"k", 3)
    smaller.headers = ()
    smaller.ttl = 9.0
    m.update_meta(b"k", smaller)  # fits the record: rewritten in place, same charge
    got = m.entry(b"k")
    assert got is not None and got.ttl == 9.0 and got.body == b"abc" and m.used_bytes == used
    assert bytes(got.blob) == b"Content-Length: 3\r\n\r\nabc"
    bigger = meta(b"k", 3)
    bigger.headers = (("X-Long", "y" * 100),)
    m.update_meta(b"k", bigger)  # does not fit: moved to the tail
    got = m.entry(b"k")
    assert got is not None and got.body == b"abc" and got.ttl == 60.0
    assert bytes(got.blob).startswith(b"X-Long: " + b"y" * 100 + b"\r\n")
    assert m.used_bytes > used and len(m) == 1
    m.update_meta(b"absent", bigger)
    assert len(m) == 1


def test_vary_marker_and_variants() -> None:
    m = ArenaStore(100_000, 1000)
    marker = meta(b"k", 0, status=0)
    marker.headers = ()
    marker.vary = ("accept-language",)
    m.put(b"k", marker, b"")
    for lang in (b"en", b"fr"):
        key = b"k\0" + lang
        m.put(key, meta(key, 2), lang)
    e = m.entry(b"k")
    assert e is not None and e.shape.status == 0 and e.shape.vary == ("accept-language",)
    assert bytes(e.blob) == b"\r\n" and e.body_size == 0
    for lang in (b"en", b"fr"):
        got = m.get(b"k\0" + lang)
        assert got is not None and got.body == lang


def test_delete_urls_checks_the_prefix_then_the_url() -> None:
    m = ArenaStore(100_000, 1000)
    for dist, path in ((b"E1", "/img/a"), (b"E1", "/img/b"), (b"E1", "/css/c"), (b"E2", "/img/a")):
        key = dist + b"\0\0\0" + path.encode() + b"\0\0"
        m.put(key, meta(key, 1, path), b"1")
    m.put(b"E1\0odd", meta(b"E1\0odd", 1, "/img/odd"), b"1")  # URL kept in the record
    assert m.delete_urls((b"E1\0",), lambda url: url.startswith("/img/")) == 3
    assert sorted(mt.url for _, mt in m.items_meta()) == ["/css/c", "/img/a"]
    assert m.delete_urls((b"E3\0",), lambda url: True) == 0
    assert m.delete_matching(lambda mt: mt.url == "/css/c") == 1 and len(m) == 1


def test_shape_table_is_compacted_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    from openfront.edge.store import arena

    monkeypatch.setattr(arena, "_MAX_SHAPES", 4)
    m = ArenaStore(1 << 20, 1000)
    for i in range(12):
        key = b"k%d" % i
        mt = meta(key, 1)
        mt.headers = (*HEADERS, ("X-Id", "x" * i))  # own lines of 12 lengths: 12 shapes
        m.put(key, mt, b"%d" % (i % 10))
        if i % 2:
            m.delete(b"k%d" % (i - 1))
    for i in range(1, 12, 2):
        got = m.get(b"k%d" % i)
        assert got is not None and ("X-Id", "x" * i) in fields(got.meta)
    assert len(m._shapes) <= 8


def test_edited_heads_are_memoised_per_key() -> None:
    m = ArenaStore(100_000, 1000)
    m.put(b"k", meta(b"k", 1), b"1")
    e = m.entry(b"k")
    assert e is not None and e.edited is None
    ed = EditedHead(policy=None, source=None, edit=None, wire=b"")  # type: ignore[arg-type]
    e.edited = ed
    again = m.entry(b"k")
    assert again is not None and again.edited is ed
    m.put(b"k", meta(b"k", 1), b"2")  # a new object: its head is edited afresh
    fresh = m.entry(b"k")
    assert fresh is not None and fresh.edited is None


def test_tiered_promotes_into_the_arena(tmp_path: pytest.TempPathFactory) -> None:
    t = TieredStore(ArenaStore(1 << 20, 100), None)
    t.memory.put(b"k", meta(b"k", 2), b"ok")
    got = t.get(b"k")
    assert isinstance(got, MemoryObject) and got.body == b"ok"


def test_memory_tier_follows_the_layout_option() -> None:
    assert isinstance(memory_tier("arena", 1 << 20, 1000), ArenaStore)
    assert isinstance(memory_tier("objects", 1 << 20, 1000), MemoryStore)


def test_policy_is_at_least_as_good_as_s3fifo_on_a_seeded_trace() -> None:
    """The arena's rings and fingerprint ghost against the reference S3-FIFO (a short trace;
    ``python -m bench.tracesim`` has the full comparison)."""
    trace = make_trace(WORKLOADS[1], 20_000, 5_000, seed=3)
    capacity = trace.unique_bytes() // 50
    ours = simulate(ArenaPolicy(capacity), trace)
    ref = simulate(S3Fifo(capacity), trace)
    assert ours.byte_miss <= ref.byte_miss + 0.005
    assert ours.obj_miss <= ref.obj_miss + 0.005


def test_a_forked_worker_gets_its_own_arena() -> None:
    """The arena is a private mapping: what a forked child stores is not seen by the parent."""
    import os

    m = ArenaStore(100_000, 1000)
    m.put(b"k", meta(b"k", 6), b"parent")
    pid = os.fork()
    if pid == 0:  # the child overwrites the record's bytes in its copy, then leaves
        try:
            m.put(b"k", meta(b"k", 5), b"child")
            m.put(b"other", meta(b"other", 5), b"child")
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status)
    got = m.get(b"k")
    assert got is not None and got.body == b"parent" and b"other" not in m


def test_records_run_on_past_a_ring_end_instead_of_padding() -> None:
    """A record that does not fit before its ring's end continues into the overflow zone: the
    ring stays fully usable and the record reads back whole."""
    body = b"z" * 150
    size = record(b"k000", body)
    m = ArenaStore(20_000, 200)  # small ring: 200 + 8 KiB (37 records and 104 bytes)
    small = m._small
    assert small.size % size
    ran_on = 0
    for i in range(200):
        key = b"k%03d" % i
        m.put(key, meta(key, len(body)), bytes([65 + i % 26]) * 150)
        loc = m._find(key)
        ran_on += loc < small.end < loc + size
        got = m.get(key)  # one hit: it moves on to main when it leaves small
        assert got is not None and got.body == bytes([65 + i % 26]) * 150
    assert small.passed > small.size and ran_on  # the ring wrapped, records ran on
    assert m.occupied_bytes == m.used_bytes  # no padding, nothing flagged
    for key in m.keys():
        got = m.get(key)
        assert got is not None and len(got.body) == 150


DATED = (
    ("Date", "Thu, 26 Nov 2026 03:30:02 GMT"),
    ("Content-Type", "text/plain"),
    ("Last-Modified", "Wed, 25 Nov 2026 16:55:00 GMT"),
    ("ETag", '"v1"'),
)
DATE_LINES = (
    b"Date: Thu, 26 Nov 2026 03:30:02 GMT\r\nLast-Modified: Wed, 25 Nov 2026 16:55:00 GMT\r\n"
)


def dated(key: bytes, size: int, headers: tuple[tuple[str, str], ...] = DATED) -> EntryMeta:
    return EntryMeta(key, "/x", 200, headers, size, 1.0, 2.0, 0.0, 60.0, content_type="text/plain")


def test_date_and_last_modified_are_kept_as_numbers_and_come_back_as_lines() -> None:
    m = ArenaStore(100_000, 1000)
    m.put(b"k", dated(b"k", 5), b"hello")
    blob = OWN + b"Content-Length: 5\r\n\r\nhello"
    assert m.used_bytes == record(b"k", b"hello")  # 83 bytes of lines, 8 bytes of values
    e = m.entry(b"k")
    assert e is not None and bytes(e.blob) == blob
    assert e.common == b"Content-Type: text/plain\r\n" + DATE_LINES
    back = m.get(b"k")
    assert back is not None
    assert sorted(fields(back.meta)) == sorted(DATED)
    assert back.meta.head == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
        + DATE_LINES
        + OWN
        + b"Content-Length: 5\r\n"
    )


@pytest.mark.parametrize(
    "line",
    [
        ("Date", "Thursday, 26-Nov-26 03:30:02 GMT"),  # RFC 850: sent back as it came
        ("Date", "Thu, 26 Nov 2026 03:30:02 gmt"),
        ("Date", "Thu,  26 Nov 2026 03:30:02 GMT"),
        ("Date", "Fri, 26 Nov 2026 03:30:02 GMT"),  # wrong weekday: would not format back
        ("date", "Thu, 26 Nov 2026 03:30:02 GMT"),  # lower-case name
        ("Last-Modified", "Thu, 01 Jan 1970 00:00:00 GMT"),  # 0 means "none"
        ("Last-Modified", "nonsense"),
    ],
)
def test_dates_that_would_not_format_back_byte_for_byte_stay_lines(line: tuple[str, str]) -> None:
    m = ArenaStore(100_000, 1000)
    m.put(b"k", dated(b"k", 1, (line,)), b"1")
    got = m.get(b"k")
    assert got is not None
    assert list(fields(got.meta)) == [line]
    e = m.entry(b"k")
    assert e is not None and e.common == b""


def test_a_second_date_line_stays_a_line() -> None:
    headers = (("Date", DATED[0][1]), ("Date", "Fri, 27 Nov 2026 00:00:00 GMT"))
    m = ArenaStore(100_000, 1000)
    m.put(b"k", dated(b"k", 1, headers), b"1")
    got = m.get(b"k")
    assert got is not None and sorted(fields(got.meta)) == sorted(headers)


def test_a_refresh_replaces_the_dates() -> None:
    m = ArenaStore(100_000, 1000)
    m.put(b"k", dated(b"k", 5), b"hello")
    fresh = (("Date", "Fri, 27 Nov 2026 10:00:00 GMT"), *DATED[1:])
    m.update_meta(b"k", dated(b"k", 5, fresh))
    got = m.get(b"k")
    assert got is not None and got.body == b"hello"
    assert sorted(fields(got.meta)) == sorted(fresh)
    m.update_meta(b"k", dated(b"k", 5, DATED[1:2]))  # no dates at all now
    got = m.get(b"k")
    assert got is not None and list(fields(got.meta)) == [DATED[1]]
