"""MemoryStore (entries packed as header block + body, S3-FIFO in the same dict) and TieredStore."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from tests.support.store_model import OPS, Model, run_model

from openfront.cache.entry import EntryMeta
from openfront.cache.key import cache_key
from openfront.cache.policy import KeyPolicy
from openfront.edge.serve import compact, fields, full_head, validators
from openfront.edge.store import DiskObject, DiskStore, MemoryObject, MemoryStore, TieredStore
from openfront.edge.store.memory import PER_OBJECT_OVERHEAD, url_in_key

HEADERS = (("Content-Type", "text/plain"), ("ETag", '"v1"'), ("Cache-Control", "max-age=60"))
SHARED = b"Content-Type: text/plain\r\nCache-Control: max-age=60\r\n"
OWN = b'ETag: "v1"\r\n'


def meta(key: bytes, size: int, url: str = "/x", status: int = 200) -> EntryMeta:
    return EntryMeta(
        key, url, status, HEADERS, size, 1.0, 2.0, 0.5, 60.0, content_type="text/plain"
    )


def charge(body: bytes, status: int = 200) -> int:
    return (
        len(OWN)
        + len(b"Content-Length: %d\r\n\r\n" % len(body))
        + len(body)
        + (PER_OBJECT_OVERHEAD)
    )


def test_put_get_charges_blob_and_overhead() -> None:
    m = MemoryStore(10_000, 1000)
    m.put(b"k", meta(b"k", 3), b"abc")
    got = m.get(b"k")
    assert got is not None and got.body == b"abc" and got.meta.key == b"k"
    assert m.used_bytes == charge(b"abc") and len(m) == 1 and b"k" in m


def test_entry_is_own_header_lines_then_body_and_shares_the_rest() -> None:
    m = MemoryStore(10_000, 1000)
    m.put(b"k", meta(b"k", 5), b"hello")
    e = m.entry(b"k")
    assert e is not None
    assert e.blob == OWN + b"Content-Length: 5\r\n\r\nhello"
    assert e.shape.common == SHARED
    assert e.shape.line == b"HTTP/1.1 200 OK\r\n" and e.shape.content_type == "text/plain"
    assert bytes(e.body) == b"hello" and e.body_size == 5
    assert e.born == 1.5 and e.ttl == 60.0  # response_time - initial_age


def test_meta_round_trip_keeps_what_the_cache_decides_on() -> None:
    m = MemoryStore(10_000, 1000)
    src = meta(b"k", 5, url="/a?b=1")
    src.stale_while_revalidate = 30.0
    src.must_revalidate = True
    src.vary = ("accept-language",)
    m.put(b"k", src, b"hello")
    got = m.get(b"k")
    assert got is not None
    back = got.meta
    assert back.url == "/a?b=1" and back.status == 200 and back.body_size == 5
    assert back.age(10.0) == pytest.approx(src.age(10.0))
    assert (back.ttl, back.stale_while_revalidate, back.stale_if_error) == (60.0, 30.0, 0.0)
    assert back.must_revalidate and back.vary == ("accept-language",)
    assert back.content_type == "text/plain"
    # The head holds the original's lines (shared ones first): validators are read back from it.
    assert back.head == b"HTTP/1.1 200 OK\r\n" + SHARED + OWN + b"Content-Length: 5\r\n"
    assert sorted(fields(back)) == sorted(HEADERS) and validators(back) == ('"v1"', None)
    assert len(back.head) == len(full_head(meta(b"k", 5)))


def test_compact_and_full_meta_pack_alike() -> None:
    m = MemoryStore(10_000, 1000)
    m.put(b"full", meta(b"full", 3), b"abc")
    m.put(b"compact", compact(meta(b"compact", 3)), b"abc")
    a, b = m.entry(b"full"), m.entry(b"compact")
    assert a is not None and b is not None
    assert a.blob == b.blob and a.shape is b.shape  # shapes are interned


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
    assert url_in_key(key) == ck.url == "/p/ä?x=1&y=2"
    assert url_in_key(b"k") is None
    m = MemoryStore(10_000, 1000)
    m.put(key, meta(key, 1, url=ck.url), b"1")
    m.put(b"k", meta(b"k", 1, url="/elsewhere"), b"1")
    e = m.entry(key)
    assert e is not None and e.url is None  # not stored twice
    assert dict(m.items_meta())[key].url == ck.url
    assert dict(m.items_meta())[b"k"].url == "/elsewhere"
    # A key that spells another URL than the one handed over keeps the one handed over.
    m.put(key, meta(key, 1, url="/other"), b"1")
    assert dict(m.items_meta())[key].url == "/other"


def test_refuses_oversize_body() -> None:
    m = MemoryStore(10_000, 10)
    with pytest.raises(ValueError, match="max_object_bytes"):
        m.put(b"k", meta(b"k", 11), b"x" * 11)
    assert len(m) == 0


def test_object_bigger_than_capacity_not_stored() -> None:
    m = MemoryStore(charge(b"x" * 5), 1000)
    m.put(b"k", meta(b"k", 6), b"x" * 6)
    assert m.get(b"k") is None and m.used_bytes == 0


def test_capacity_bound_and_eviction_drops_bodies() -> None:
    cap = 10 * charge(b"x" * 100)
    m = MemoryStore(cap, 1000)
    for i in range(50):
        k = b"k%d" % i
        m.put(k, meta(k, 100), b"x" * 100)
        assert m.used_bytes <= cap
    assert len(m) == 10 and len(list(m.keys())) == 10


def test_update_meta_keeps_body_and_recharges() -> None:
    m = MemoryStore(10_000, 1000)
    m.put(b"k", meta(b"k", 3), b"abc")
    e = m.entry(b"k")
    assert e is not None
    new = meta(b"k", 3)
    new.headers = (("X-Long", "y" * 100),)
    new.ttl = 999.0
    m.update_meta(b"k", new)
    assert m.entry(b"k") is e and e.ttl == 999.0 and bytes(e.body) == b"abc"
    assert e.blob.startswith(b"X-Long: " + b"y" * 100 + b"\r\n")
    assert m.used_bytes == e.charge()
    m.update_meta(b"absent", new)  # nothing stored: nothing happens
    assert len(m) == 1


def test_delete_and_delete_matching() -> None:
    m = MemoryStore(100_000, 1000)
    for key, url in ((b"a", "/img/a"), (b"b", "/img/b"), (b"c", "/css/c")):
        m.put(key, meta(key, 1, url), b"1")
    assert m.delete_matching(lambda mt: mt.url.startswith("/img/")) == 2
    assert list(m.keys()) == [b"c"]
    assert m.delete(b"c") is True and m.delete(b"c") is False
    assert m.used_bytes == 0 and len(m) == 0


def test_a_held_object_outlives_its_removal() -> None:
    m = MemoryStore(100_000, 1000)
    m.put(b"a", meta(b"a", 100), b"a" * 100)
    held = m.get(b"a")
    assert m.delete(b"a") and m.entry(b"a") is None
    assert held is not None and bytes(held.body) == b"a" * 100


@settings(max_examples=120, deadline=None)
@given(ops=OPS)
def test_model_sequence(ops: list[tuple[str, int, int]]) -> None:
    """Random put/get/delete/update/invalidate against a dict model; eviction drops from it."""
    cap = 4 * charge(b"x" * 150)

    def holds(m: MemoryStore, model: Model) -> None:
        entries = [m.entry(k) for k in model]
        assert m.used_bytes == sum(e.charge() for e in entries if e is not None) <= cap

    def invalidate(m: MemoryStore, url: str) -> None:
        m.delete_matching(lambda mt: mt.url == url)

    run_model(MemoryStore(cap, 300), ops, meta, invalidate, holds)


def test_tiered_memory_first_then_disk_with_promotion(tmp_path: Path) -> None:
    disk = DiskStore(tmp_path, 1 << 20)
    disk.open()
    t = TieredStore(MemoryStore(1 << 20, 100), disk)
    for key, body in ((b"small", b"s" * 10), (b"big", b"b" * 500)):
        with disk.begin(key) as w:
            w.write(body)
            w.commit(meta(key, len(body)))
    small = t.get(b"small")
    assert isinstance(small, MemoryObject) and small.body == b"s" * 10
    assert t.memory.get(b"small") is not None  # promoted
    big = t.get(b"big")
    assert isinstance(big, DiskObject)
    with big:
        assert big.read() == b"b" * 500
    assert t.get(b"none") is None


def test_tiered_delete_update_and_match(tmp_path: Path) -> None:
    disk = DiskStore(tmp_path, 1 << 20)
    disk.open()
    t = TieredStore(MemoryStore(1 << 20, 100), disk)
    for key, url in ((b"a", "/img/a"), (b"b", "/img/b"), (b"c", "/css/c")):
        t.memory.put(key, meta(key, 1, url), b"1")
        with disk.begin(key) as w:
            w.write(b"1")
            w.commit(meta(key, 1, url))
    new = meta(b"c", 1, "/css/c")
    new.ttl = 999.0
    t.update_meta(b"c", new)
    got = t.get(b"c")
    assert got is not None and got.meta.ttl == 999.0
    assert t.delete_matching(lambda m: m.url.startswith("/img/")) == 4
    assert t.delete(b"c") is True
    assert t.delete(b"c") is False
    assert t.get(b"a") is None and t.get(b"c") is None


def test_tiered_without_disk() -> None:
    t = TieredStore(MemoryStore(1 << 20, 100), None)
    assert t.get(b"k") is None and t.delete(b"k") is False
    t.update_meta(b"k", meta(b"k", 0))
    assert t.delete_matching(lambda m: True) == 0


def test_repeated_fields_keep_their_order() -> None:
    m = MemoryStore(10_000, 1000)
    mt = meta(b"k", 1)
    mt.headers = (
        ("Set-Cookie", "a=1"),
        ("Cache-Control", "public"),
        ("Set-Cookie", "b=2"),
        ("Cache-Control", "max-age=5"),
    )
    m.put(b"k", mt, b"1")
    got = m.get(b"k")
    assert got is not None
    kept = fields(got.meta)
    assert [v for n, v in kept if n == "Set-Cookie"] == ["a=1", "b=2"]
    assert [v for n, v in kept if n == "Cache-Control"] == ["public", "max-age=5"]


def test_delete_urls_checks_the_prefix_then_the_url() -> None:
    m = MemoryStore(100_000, 1000)
    for dist, path in ((b"E1", "/img/a"), (b"E1", "/img/b"), (b"E1", "/css/c"), (b"E2", "/img/a")):
        key = dist + b"\0\0\0" + path.encode() + b"\0\0"
        m.put(key, meta(key, 1, path), b"1")
    m.put(b"E1\0odd", meta(b"E1\0odd", 1, "/img/odd"), b"1")  # URL kept in the entry
    assert m.delete_urls((b"E1\0",), lambda url: url.startswith("/img/")) == 3
    assert sorted(mt.url for _, mt in m.items_meta()) == ["/css/c", "/img/a"]
    assert m.delete_urls((b"E3\0",), lambda url: True) == 0


@pytest.mark.parametrize("status", [204, 0])  # no Content-Length; 0 is the Vary marker's status
def test_entries_without_content_length_or_fields(status: int) -> None:
    m = MemoryStore(100_000, 1000)
    mt = meta(b"k", 0, status=status)
    mt.headers = ()
    mt.vary = ("accept-language",)
    m.put(b"k", mt, b"")
    e = m.entry(b"k")
    assert e is not None and e.blob == b"\r\n" and e.body_size == 0
    got = m.get(b"k")
    assert got is not None and got.meta.status == status and got.meta.vary == ("accept-language",)
    assert fields(got.meta) == () and bytes(got.body) == b""


def test_shared_lines_are_one_object_across_shapes() -> None:
    m = MemoryStore(1 << 20, 1000)
    for i in range(3):
        mt = meta(b"k%d" % i, 1)
        mt.headers = (*HEADERS, ("X-Id", "x" * i))  # own lines of three lengths: three shapes
        m.put(b"k%d" % i, mt, b"1")
    entries = [m.entry(b"k%d" % i) for i in range(3)]
    shapes = {id(e.shape) for e in entries if e is not None}
    commons = {id(e.shape.common) for e in entries if e is not None}
    assert len(shapes) == 3 and len(commons) == 1


def test_replacing_an_object_frees_the_old_body() -> None:
    m = MemoryStore(100_000, 1000)
    m.put(b"k", meta(b"k", 3), b"old")
    first = m.entry(b"k")
    m.put(b"k", meta(b"k", 3), b"new")
    second = m.entry(b"k")
    assert first is not None and second is not None and first is not second
    assert first.blob == b"" and bytes(second.body) == b"new"
    assert len(m) == 1 and m.used_bytes == second.charge()
