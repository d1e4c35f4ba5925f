"""The disk tier: one body file and one meta file per object, crash-safe and shared by workers.

Layout and the crash-safety argument are in docs/cache-storage.md. In short: a body is written
to a temp file, fsynced and renamed to ``<hash>.<bodyid>.body``; only then is ``<hash>.meta``
(which names that body, its size and a checksum) written the same way, followed by an fsync of
the directory. A meta that names a missing or wrongly sized body is treated as absent.
"""

from __future__ import annotations

import json
import mmap
import os
import secrets
from collections.abc import Callable, Iterator
from hashlib import blake2b
from pathlib import Path
from types import TracebackType

from openfront.cache.entry import EntryMeta
from openfront.cache.eviction import S3Fifo
from openfront.errors import StorageError

__all__ = ["DiskObject", "DiskStore", "DiskWriter"]


_TMP = ".tmp."
_META = ".meta"
_BODY = ".body"
_VERSION = 1
_HEX = frozenset("0123456789abcdef")


def key_hash(key: bytes) -> str:
    return blake2b(key, digest_size=16).hexdigest()


def object_dir(root: Path, h: str) -> Path:
    return root / h[:2] / h[2:4]


def temp_name(kind: str) -> str:
    return f"{_TMP}{os.getpid()}.{secrets.token_hex(6)}.{kind}"


def new_body_name(h: str) -> str:
    # The writer's pid is in the name so a startup scan can tell an in-flight body from an orphan.
    return f"{h}.{os.getpid():x}-{secrets.token_hex(6)}{_BODY}"


def unlink(path: Path) -> bool:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def fsync_dir(d: Path) -> None:
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Record:
    """One parsed, checksum-verified meta file."""

    __slots__ = ("body", "dir", "hash", "meta", "size")

    def __init__(self, d: Path, h: str, meta: EntryMeta, body: str, size: int) -> None:
        self.dir, self.hash, self.meta, self.body, self.size = d, h, meta, body, size


def _checksum(fields: dict[str, object]) -> str:
    canon = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    return blake2b(canon, digest_size=16).hexdigest()


def encode_record(meta: EntryMeta, body: str, size: int) -> bytes:
    fields: dict[str, object] = {"v": _VERSION, "body": body, "size": size, "meta": meta.to_dict()}
    fields["sum"] = _checksum(fields)
    return json.dumps(fields, separators=(",", ":")).encode()


def decode_record(d: Path, h: str, raw: bytes) -> _Record | None:
    """The record in ``raw``, or None when it is torn, corrupt or of another version."""
    try:
        fields = json.loads(raw)
        if not isinstance(fields, dict) or fields.pop("sum", None) != _checksum(fields):
            return None
        body, size = fields["body"], fields["size"]
        if fields["v"] != _VERSION or not isinstance(body, str) or not isinstance(size, int):
            return None
        if not body.startswith(h + ".") or not body.endswith(_BODY) or "/" in body:
            return None
        return _Record(d, h, EntryMeta.from_dict(fields["meta"]), body, size)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def read_record(d: Path, h: str) -> _Record | None:
    try:
        with open(d / (h + _META), "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return None
    return decode_record(d, h, raw)


def read_valid(d: Path, h: str) -> _Record | None:
    """The record if its body is present with the recorded size; cleans a broken one."""
    rec = read_record(d, h)
    if rec is None:
        return None
    try:
        ok = os.stat(d / rec.body).st_size == rec.size
    except FileNotFoundError:
        ok = False
    if not ok:
        again = read_record(d, h)
        if again is not None and again.body == rec.body:  # not replaced meanwhile
            remove_object(d, h, rec.body)
        return None
    return rec


def publish_meta(d: Path, h: str, meta: EntryMeta, body: str, size: int) -> None:
    """Atomically point ``<h>.meta`` at ``body``; unlink the body it pointed at before."""
    old = read_record(d, h)
    tmp = d / temp_name("meta")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        view = memoryview(encode_record(meta, body, size))
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        unlink(tmp)
        raise
    os.close(fd)
    os.rename(tmp, d / (h + _META))
    fsync_dir(d)
    if old is not None and old.body != body:
        unlink(d / old.body)


def remove_object(d: Path, h: str, body: str | None) -> bool:
    """Unlink the meta first, so no reader finds a meta without its body; then the body."""
    removed = unlink(d / (h + _META))
    if body is not None:
        unlink(d / body)
    return removed


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid() or not 0 < pid < 1 << 22:  # Linux pid_max is at most 2**22
        return False  # this process is opening, not writing; or not a pid at all
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _writer_pid(name: str) -> int | None:
    """The writer pid in a temp name (``.tmp.<pid>.…``) or body name (``<h>.<pid hex>-….body``)."""
    try:
        if name.startswith(_TMP):
            return int(name[len(_TMP) :].split(".", 1)[0])
        return int(name.split(".")[1].split("-", 1)[0], 16)
    except (IndexError, ValueError):
        return None


def _is_object_dir(name: str) -> bool:
    return len(name) == 2 and set(name) <= _HEX


def _object_dirs(root: Path) -> Iterator[Path]:
    for top in os.scandir(root):
        if top.is_dir(follow_symlinks=False) and _is_object_dir(top.name):
            for sub in os.scandir(top.path):
                if sub.is_dir(follow_symlinks=False) and _is_object_dir(sub.name):
                    yield Path(sub.path)


def _scan_dir(d: Path, out: list[_Record]) -> None:
    names = os.listdir(d)
    bodies = {n for n in names if n.endswith(_BODY) and not n.startswith(_TMP)}
    for name in names:
        if name.startswith(_TMP):
            pid = _writer_pid(name)
            if pid is None or not _pid_alive(pid):
                unlink(d / name)
        elif name.endswith(_META):
            rec = read_valid(d, name[: -len(_META)])
            if rec is None:
                unlink(d / name)  # corrupt or torn: read_valid cleans the rest
            else:
                bodies.discard(rec.body)
                out.append(rec)
    for name in bodies:
        pid = _writer_pid(name)
        if pid is None or not _pid_alive(pid):
            unlink(d / name)


def scan(root: Path) -> list[_Record]:
    """Every intact object under ``root``; removes temp files and orphan bodies of dead writers."""
    out: list[_Record] = []
    for d in _object_dirs(root):
        _scan_dir(d, out)
    return out


def iter_metas(root: Path) -> Iterator[EntryMeta]:
    for d in _object_dirs(root):
        for name in os.listdir(d):
            if name.endswith(_META) and not name.startswith(_TMP):
                rec = read_record(d, name[: -len(_META)])
                if rec is not None:
                    yield rec.meta


class DiskObject:
    """An open body: serve from ``fd`` (sendfile) or ``view()`` (mmap); close when done."""

    __slots__ = ("_mmap", "fd", "meta", "size")

    def __init__(self, meta: EntryMeta, size: int, fd: int) -> None:
        self.meta = meta
        self.size = size
        self.fd = fd
        self._mmap: mmap.mmap | None = None

    def view(self) -> memoryview:
        """The body mapped read-only; drop every slice of it before ``close()``."""
        if self.fd < 0:
            raise StorageError("DiskObject is closed")
        if self.size == 0:
            return memoryview(b"")
        if self._mmap is None:
            self._mmap = mmap.mmap(self.fd, self.size, prot=mmap.PROT_READ)
        return memoryview(self._mmap)

    def read(self) -> bytes:
        return bytes(self.view())

    def close(self) -> None:
        if self._mmap is not None:
            try:
                self._mmap.close()
            except BufferError:
                pass  # a caller still holds a slice; the mapping closes when it is collected
            self._mmap = None
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> DiskObject:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Entry:
    __slots__ = ("body", "meta")

    def __init__(self, meta: EntryMeta, body: str) -> None:
        self.meta = meta
        self.body = body  # body file name


class DiskWriter:
    """Streams one body into a temp file; ``commit`` publishes it atomically, ``abort`` drops it."""

    __slots__ = ("_dir", "_fd", "_hash", "_key", "_limit", "_size", "_store", "_tmp")

    def __init__(self, store: DiskStore, key: bytes) -> None:
        self._store = store
        self._key = key
        self._hash = key_hash(key)
        self._dir = object_dir(store.root, self._hash)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._tmp = self._dir / temp_name("body")
        # Readable too: the edge serves waiting viewers from this file while it is written.
        self._fd = os.open(self._tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        self._size = 0
        self._limit = store.capacity_bytes

    def fileno(self) -> int:
        """A new descriptor of the body being written (the caller closes it); stays valid
        after commit or abort, so readers may finish from it."""
        if self._fd < 0:
            raise StorageError("DiskWriter is already committed or aborted")
        return os.dup(self._fd)

    def write(self, data: bytes | memoryview) -> None:
        if self._fd < 0:
            raise StorageError("DiskWriter is already committed or aborted")
        if self._size + len(data) > self._limit:
            raise StorageError(f"object exceeds the disk tier's capacity of {self._limit} bytes")
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        self._size += len(data)

    def commit(self, meta: EntryMeta) -> None:
        if self._fd < 0:
            raise StorageError("DiskWriter is already committed or aborted")
        fd, self._fd = self._fd, -1
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        body = new_body_name(self._hash)
        try:
            os.rename(self._tmp, self._dir / body)
            publish_meta(self._dir, self._hash, meta, body, self._size)
        except BaseException:
            unlink(self._tmp)
            unlink(self._dir / body)
            raise
        self._store._track(self._key, meta, body, self._size)

    def abort(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
            unlink(self._tmp)

    def __enter__(self) -> DiskWriter:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.abort()  # a no-op after commit


class DiskStore:
    """Bytes-bounded disk tier; ``share`` = number of worker processes sharing ``root``.

    Each process indexes and evicts only what it knows, bounded to ``capacity_bytes // share``.
    """

    __slots__ = ("_index", "_policy", "capacity_bytes", "root", "share")

    def __init__(self, root: Path, capacity_bytes: int, *, share: int = 1) -> None:
        if share < 1:
            raise ValueError(f"share must be >= 1, got {share}")
        self.root = Path(root)
        self.share = share
        self.capacity_bytes = capacity_bytes // share
        self._policy: S3Fifo[bytes] = S3Fifo(self.capacity_bytes)
        self._index: dict[bytes, _Entry] = {}

    @property
    def used_bytes(self) -> int:
        return self._policy.used_bytes

    def __len__(self) -> int:
        return len(self._index)

    def open(self) -> None:
        """Create ``root``, drop temp and orphan files, rebuild the index newest first."""
        self.root.mkdir(parents=True, exist_ok=True)
        found = scan(self.root)
        found.sort(key=lambda rec: rec.meta.stored_at, reverse=True)
        total = 0
        for rec in found:
            total += rec.size
            if total > self.capacity_bytes * self.share:
                remove_object(rec.dir, rec.hash, rec.body)
            elif self._policy.used_bytes + rec.size <= self.capacity_bytes:
                self._index[rec.meta.key] = _Entry(rec.meta, rec.body)
                self._policy.insert(rec.meta.key, rec.size)
            # else: within the global bound but beyond this worker's share: get() adopts it

    def begin(self, key: bytes) -> DiskWriter:
        return DiskWriter(self, key)

    def get(self, key: bytes) -> DiskObject | None:
        entry = self._index.get(key)
        if entry is not None:
            self._policy.access(key)
            obj = self._open_body(key, entry)
            if obj is not None:
                return obj
            self._forget(key)  # another worker replaced or removed it: look again
        entry = self._adopt(key)
        return None if entry is None else self._open_body(key, entry)

    def update_meta(self, key: bytes, meta: EntryMeta) -> bool:
        """Rewrite only the meta file (a 304 refresh); False when the object is not stored."""
        h = key_hash(key)
        d = object_dir(self.root, h)
        rec = read_valid(d, h)
        if rec is None or rec.meta.key != key:
            self._forget(key)
            return False
        publish_meta(d, h, meta, rec.body, rec.size)
        entry = self._index.get(key)
        if entry is None:
            self._adopt(key)
        else:
            entry.meta, entry.body = meta, rec.body
        return True

    def delete(self, key: bytes) -> bool:
        entry = self._forget(key)
        h = key_hash(key)
        d = object_dir(self.root, h)
        on_disk = read_record(d, h)
        removed = remove_object(d, h, on_disk.body if on_disk else None)
        if entry is not None:
            unlink(d / entry.body)
        return entry is not None or removed

    def delete_matching(self, pred: Callable[[EntryMeta], bool], *, scan_disk: bool = False) -> int:
        """Delete every known object whose meta matches; ``scan_disk`` also walks all metas."""
        doomed = {k for k, e in self._index.items() if pred(e.meta)}
        if scan_disk:
            doomed.update(m.key for m in iter_metas(self.root) if pred(m))
        return sum(self.delete(k) for k in doomed)

    def keys(self) -> Iterator[bytes]:
        return iter(list(self._index))

    def items_meta(self) -> Iterator[tuple[bytes, EntryMeta]]:
        return iter([(k, e.meta) for k, e in self._index.items()])

    def _track(self, key: bytes, meta: EntryMeta, body: str, size: int) -> None:
        old = self._index.pop(key, None)
        if old is not None and old.body != body:
            unlink(object_dir(self.root, key_hash(key)) / old.body)
        self._index[key] = _Entry(meta, body)
        for gone in self._policy.insert(key, size):
            self._evict(gone)

    def _evict(self, key: bytes) -> None:
        entry = self._index.pop(key, None)
        if entry is None:
            return
        h = key_hash(key)
        d = object_dir(self.root, h)
        on_disk = read_record(d, h)
        if on_disk is not None and on_disk.body == entry.body:
            remove_object(d, h, entry.body)
        else:  # another worker has replaced it: leave theirs
            unlink(d / entry.body)

    def _forget(self, key: bytes) -> _Entry | None:
        self._policy.remove(key)
        return self._index.pop(key, None)

    def _adopt(self, key: bytes) -> _Entry | None:
        """Index an object another worker wrote (or this one left unindexed at open)."""
        h = key_hash(key)
        rec = read_valid(object_dir(self.root, h), h)
        if rec is None or rec.meta.key != key:
            return None
        if self._policy.insert(key, rec.size) == [key]:
            return None  # larger than this worker's share: do not index it
        entry = _Entry(rec.meta, rec.body)
        self._index[key] = entry
        return entry

    def _open_body(self, key: bytes, entry: _Entry) -> DiskObject | None:
        path = object_dir(self.root, key_hash(key)) / entry.body
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        size = os.fstat(fd).st_size
        return DiskObject(entry.meta, size, fd)
