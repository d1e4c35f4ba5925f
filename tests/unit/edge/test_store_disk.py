"""DiskStore, plus the contract shared with MemoryStore."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from openfront.cache.entry import EntryMeta
from openfront.edge.store import DiskStore, MemoryStore
from openfront.edge.store.disk import key_hash, object_dir
from openfront.errors import StorageError


def meta(key: bytes, size: int, url: str = "/x", ttl: float = 60.0) -> EntryMeta:
    return EntryMeta(key, url, 200, (("etag", '"1"'),), size, 1.0, 2.0, 0.0, ttl)


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


class Adapter:
    """One face over both stores: put/read bodies the way each tier takes them."""

    def __init__(self, store: MemoryStore | DiskStore) -> None:
        self.store = store

    def put(self, key: bytes, body: bytes, url: str = "/x") -> None:
        if isinstance(self.store, MemoryStore):
            self.store.put(key, meta(key, len(body), url), body)
        else:
            with self.store.begin(key) as w:
                w.write(body)
                w.commit(meta(key, len(body), url))

    def body(self, key: bytes) -> bytes | None:
        got = self.store.get(key)
        if got is None:
            return None
        if isinstance(self.store, MemoryStore):
            return got.body  # type: ignore[union-attr]
        with got:  # type: ignore[union-attr]
            return got.read()  # type: ignore[union-attr]


@pytest.fixture(params=["memory", "disk"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Adapter]:
    if request.param == "memory":
        yield Adapter(MemoryStore(1 << 20, 1 << 20))
    else:
        d = DiskStore(tmp_path / "cache", 1 << 20)
        d.open()
        yield Adapter(d)


@pytest.mark.parametrize("body", [b"", b"x", bytes(range(256)) * 40])
def test_contract_roundtrip(store: Adapter, body: bytes) -> None:
    store.put(b"\x00key/with\nodd bytes" * 20, body)
    assert store.body(b"\x00key/with\nodd bytes" * 20) == body
    assert len(store.store) == 1
    assert store.store.used_bytes >= len(body)


def test_contract_replace_delete_keys(store: Adapter) -> None:
    s = store.store
    store.put(b"a", b"one")
    store.put(b"a", b"two!")
    store.put(b"b", b"bee", url="/b")
    assert store.body(b"a") == b"two!"
    assert sorted(s.keys()) == [b"a", b"b"]
    assert dict(s.items_meta())[b"b"].url == "/b"
    assert s.delete(b"a") is True
    assert s.delete(b"a") is False
    assert store.body(b"a") is None and len(s) == 1


def test_contract_update_meta(store: Adapter) -> None:
    store.put(b"a", b"body")
    store.store.update_meta(b"a", meta(b"a", 4, ttl=5.0))
    got = store.store.get(b"a")
    assert got is not None and got.meta.ttl == 5.0
    if hasattr(got, "close"):
        got.close()
    assert store.body(b"a") == b"body"


def test_contract_delete_matching(store: Adapter) -> None:
    for i in range(6):
        store.put(b"k%d" % i, b"v", url=f"/{'a' if i % 2 else 'b'}/{i}")
    pred: Callable[[EntryMeta], bool] = lambda m: m.url.startswith("/a/")  # noqa: E731
    assert store.store.delete_matching(pred) == 3
    assert sorted(store.store.keys()) == [b"k0", b"k2", b"k4"]


def test_contract_capacity_bound(store: Adapter, tmp_path: Path) -> None:
    cap = 64 * 1024
    s = MemoryStore(cap, cap) if isinstance(store.store, MemoryStore) else DiskStore(tmp_path, cap)
    if isinstance(s, DiskStore):
        s.open()
    a = Adapter(s)
    for i in range(100):
        a.put(b"k%d" % i, b"x" * 3000)
        assert s.used_bytes <= cap
    assert 0 < len(s) < 100


def disk_files(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def test_restart_survival_and_layout(tmp_path: Path) -> None:
    s = DiskStore(tmp_path, 1 << 20)
    s.open()
    Adapter(s).put(b"key", b"hello")
    h = key_hash(b"key")
    names = os.listdir(object_dir(tmp_path, h))
    assert sorted(n.rsplit(".", 1)[1] for n in names) == ["body", "meta"]
    again = DiskStore(tmp_path, 1 << 20)
    again.open()
    assert Adapter(again).body(b"key") == b"hello" and len(again) == 1


def test_two_workers_see_each_other(tmp_path: Path) -> None:
    a, b = DiskStore(tmp_path, 1 << 20, share=2), DiskStore(tmp_path, 1 << 20, share=2)
    a.open()
    b.open()
    assert a.capacity_bytes == b.capacity_bytes == (1 << 19)
    Adapter(a).put(b"k", b"from a")
    assert Adapter(b).body(b"k") == b"from a"  # adopted from disk
    Adapter(b).put(b"k", b"from b")  # replaces a's body file
    assert Adapter(a).body(b"k") == b"from b"
    assert b.delete(b"k") and Adapter(a).body(b"k") is None
    assert a.delete(b"k") is False  # already gone on disk


def test_delete_matching_scan_disk(tmp_path: Path) -> None:
    a, b = DiskStore(tmp_path, 1 << 20), DiskStore(tmp_path, 1 << 20)
    a.open()
    b.open()
    Adapter(a).put(b"k", b"v", url="/img/1")
    assert b.delete_matching(lambda m: m.url == "/img/1") == 0  # b does not know it
    assert b.delete_matching(lambda m: m.url == "/img/1", scan_disk=True) == 1
    assert Adapter(a).body(b"k") is None


def test_open_object_stays_readable_after_delete(tmp_path: Path) -> None:
    s = DiskStore(tmp_path, 1 << 20)
    s.open()
    Adapter(s).put(b"k", b"payload")
    obj = s.get(b"k")
    assert obj is not None
    s.delete(b"k")
    with obj:
        assert obj.size == 7 and bytes(obj.view()[:3]) == b"pay"
        assert os.pread(obj.fd, 7, 0) == b"payload"


def test_fds_are_closed(tmp_path: Path) -> None:
    s = DiskStore(tmp_path, 1 << 20)
    s.open()
    before = fd_count()
    for i in range(20):
        Adapter(s).put(b"k%d" % i, b"x" * i)
        with s.get(b"k%d" % i) as obj:  # type: ignore[union-attr]
            obj.view()
    with pytest.raises(RuntimeError), s.begin(b"boom") as w:
        w.write(b"partial")
        raise RuntimeError
    assert fd_count() == before
    assert not [n for n in disk_files(tmp_path) if n.startswith(".tmp.")]


def test_writer_misuse_and_capacity(tmp_path: Path) -> None:
    s = DiskStore(tmp_path, 100)
    s.open()
    w = s.begin(b"k")
    with pytest.raises(StorageError, match="capacity"):
        w.write(b"x" * 101)
    w.abort()
    w.abort()
    with pytest.raises(StorageError):
        w.write(b"x")
    with pytest.raises(StorageError):
        w.commit(meta(b"k", 0))
    assert s.get(b"k") is None and disk_files(tmp_path) == []


@pytest.mark.parametrize(
    "damage",
    ["truncate_meta", "garbage_meta", "flip_checksum", "drop_body", "short_body"],
)
def test_damaged_objects_are_absent_and_cleaned(tmp_path: Path, damage: str) -> None:
    s = DiskStore(tmp_path, 1 << 20)
    s.open()
    Adapter(s).put(b"k", b"0123456789")
    d = object_dir(tmp_path, key_hash(b"k"))
    meta_path = next(d.glob("*.meta"))
    body_path = next(d.glob("*.body"))
    raw = meta_path.read_bytes()
    if damage == "truncate_meta":
        meta_path.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage_meta":
        meta_path.write_bytes(b"\xff\x00not json")
    elif damage == "flip_checksum":
        meta_path.write_bytes(raw.replace(b'"status":200', b'"status":201'))
    elif damage == "drop_body":
        body_path.unlink()
    else:
        body_path.write_bytes(b"0123")
    fresh = DiskStore(tmp_path, 1 << 20)
    fresh.open()
    assert fresh.get(b"k") is None and len(fresh) == 0
    assert disk_files(tmp_path) == []


def test_open_removes_temp_and_orphans(tmp_path: Path) -> None:
    s = DiskStore(tmp_path, 1 << 20)
    s.open()
    Adapter(s).put(b"k", b"v")
    d = object_dir(tmp_path, key_hash(b"k"))
    (d / ".tmp.999999999.abc.body").write_bytes(b"junk")  # a pid that cannot exist
    (d / f"{key_hash(b'k')}.ffffffff-0000.body").write_bytes(b"orphan")
    (tmp_path / "unrelated").mkdir()
    fresh = DiskStore(tmp_path, 1 << 20)
    fresh.open()
    assert Adapter(fresh).body(b"k") == b"v"
    assert len(disk_files(tmp_path)) == 2


def test_share_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        DiskStore(tmp_path, 100, share=0)
