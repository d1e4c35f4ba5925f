"""MemoryStore and TieredStore."""

from __future__ import annotations

from pathlib import Path

import pytest

from openfront.cache.entry import EntryMeta
from openfront.edge.store import DiskObject, DiskStore, MemoryObject, MemoryStore, TieredStore
from openfront.edge.store.memory import PER_OBJECT_OVERHEAD


def meta(key: bytes, size: int, url: str = "/x") -> EntryMeta:
    return EntryMeta(key, url, 200, (("content-type", "text/plain"),), size, 1.0, 2.0, 0.0, 60.0)


def test_put_get_charges_overhead() -> None:
    m = MemoryStore(10_000, 1000)
    m.put(b"k", meta(b"k", 3), b"abc")
    got = m.get(b"k")
    assert got is not None and got.body == b"abc" and got.meta.key == b"k"
    assert m.used_bytes == 3 + PER_OBJECT_OVERHEAD and len(m) == 1


def test_refuses_oversize_body() -> None:
    m = MemoryStore(10_000, 10)
    with pytest.raises(ValueError, match="max_object_bytes"):
        m.put(b"k", meta(b"k", 11), b"x" * 11)
    assert len(m) == 0


def test_object_bigger_than_capacity_not_stored() -> None:
    m = MemoryStore(PER_OBJECT_OVERHEAD + 5, 1000)
    m.put(b"k", meta(b"k", 6), b"x" * 6)
    assert m.get(b"k") is None and m.used_bytes == 0


def test_capacity_bound_and_eviction_drops_bodies() -> None:
    cap = 10 * (PER_OBJECT_OVERHEAD + 100)
    m = MemoryStore(cap, 1000)
    for i in range(50):
        k = b"k%d" % i
        m.put(k, meta(k, 100), b"x" * 100)
        assert m.used_bytes <= cap
    assert len(m) == 10 and len(list(m.keys())) == 10


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
