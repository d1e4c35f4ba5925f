"""The memory tier's ``objects`` layout: whole small objects, one Python object each, bounded in
bytes by S3-FIFO. (The default layout is ``arena.ArenaStore``, which shares this module's shapes,
header split and URL-from-key helpers.)

Per key the tier keeps one ``Entry``, which is also its S3-FIFO node, in one dict (the policy's
index is the store's). An entry's ``blob`` is its own header lines, the Content-Length line, the
blank line and the body in one bytes object; header lines that objects typically share (Server,
Content-Type, Cache-Control, ...) sit once in an interned ``Shape`` with the status, content
type and the rarely read policy fields. A hit writes the status line, the per-request fields,
the shape's shared lines and the blob, and never copies a large body. The URL is read back from
the cache key when it can be. ETag, Last-Modified and every other field are parsed back from the
stored lines on the rare paths that need an ``EntryMeta`` (docs/cache-storage.md, "Memory tier").
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass

from openfront.cache.entry import EntryMeta
from openfront.cache.eviction import FifoNode, S3FifoCore
from openfront.cache.response_headers import EditedHead
from openfront.edge.respond import serialise, status_line
from openfront.edge.serve import content_length, wire

# Charged per object on top of its blob: the dict slot, the key, the entry, its one float and
# allocator slack (330-430 B measured, docs/performance.md "Memory per cached object").
PER_OBJECT_OVERHEAD = 400

_ZERO = 0.0
_NO_SIE = -1.0
_MAX_INTERNED = 4096
# Shapes differ by the length of the object's own header lines too: allow more of them.
_MAX_SHAPES = 16384

# Fields whose value is usually the same for many objects of one origin: they are stored once per
# shape instead of once per object. Every line of one field name stays on one side, so the order
# of repeated fields is kept; only the order between different names changes (RFC 9110 §5.3).
SHARED_FIELDS = frozenset(
    {
        b"accept-ranges",
        b"access-control-allow-credentials",
        b"access-control-allow-headers",
        b"access-control-allow-methods",
        b"access-control-allow-origin",
        b"access-control-expose-headers",
        b"access-control-max-age",
        b"alt-svc",
        b"cache-control",
        b"cdn-cache-control",
        b"content-encoding",
        b"content-language",
        b"content-security-policy",
        b"content-type",
        b"cross-origin-resource-policy",
        b"pragma",
        b"referrer-policy",
        b"server",
        b"strict-transport-security",
        b"surrogate-control",
        b"timing-allow-origin",
        b"vary",
        b"x-content-type-options",
        b"x-frame-options",
        b"x-powered-by",
        b"x-xss-protection",
    }
)


@dataclass(slots=True)
class MemoryObject:
    """A stored object as the cold paths see it: full metadata and a view of the body."""

    meta: EntryMeta
    body: bytes | memoryview


class Shape:
    """What many entries share, interned: status, shared header lines, content type, the length
    of the blob's header part and the rarely read policy fields (stale windows, must-revalidate,
    Vary)."""

    __slots__ = (
        "common",
        "content_type",
        "hlen",
        "line",
        "must_revalidate",
        "stale_if_error",
        "stale_while_revalidate",
        "status",
        "vary",
    )

    def __init__(
        self,
        status: int,
        common: bytes,
        content_type: str | None,
        hlen: int,
        swr: float,
        sie: float,
        must_revalidate: bool,
        vary: tuple[str, ...],
    ) -> None:
        self.status = status
        self.line = status_line(status)
        self.common = common  # shared header lines, sent before the blob's own
        self.content_type = content_type
        self.hlen = hlen  # blob[:hlen]: the entry's own lines, Content-Length, blank line
        self.stale_while_revalidate = swr
        self.stale_if_error = sie
        self.must_revalidate = must_revalidate
        self.vary = vary


# What makes two stored objects share a Shape: status, shared lines, content type, length of
# the blob's header part, stale-while-revalidate, stale-if-error, must-revalidate, Vary.
ShapeKey = tuple[int, bytes, str | None, int, float, float, bool, tuple[str, ...]]


def shape_key(meta: EntryMeta, common: bytes, hlen: int) -> ShapeKey:
    return (
        meta.status,
        common,
        meta.content_type,
        hlen,
        meta.stale_while_revalidate,
        meta.stale_if_error,
        meta.must_revalidate,
        meta.vary,
    )


def new_shape(key: ShapeKey, common: bytes) -> Shape:
    """The Shape of ``key``, holding ``common`` (the caller's interned copy of its lines)."""
    status, _, content_type, hlen, swr, sie, must_revalidate, vary = key
    # Shared float objects: 0.0 and "no stale-if-error" are what nearly every object has.
    swr = swr or _ZERO
    sie = _NO_SIE if sie == _NO_SIE else sie or _ZERO
    return Shape(status, common, content_type, hlen, swr, sie, must_revalidate, vary)


class Entry(FifoNode):
    """One stored object: the S3-FIFO node (``key``, ``state``) and everything a hit reads.

    ``born`` is ``response_time - initial_age``, so the current age is ``now - born``. ``url`` is
    None when the cache key spells it (the usual case). ``edited``: the header block as a
    response headers policy edits it, memoised for the hot path.
    """

    __slots__ = ("blob", "born", "edited", "shape", "ttl", "url")

    key: bytes
    blob: bytes
    born: float
    ttl: float
    shape: Shape
    url: str | None
    edited: EditedHead | None

    def charge(self) -> int:
        return len(self.blob) + PER_OBJECT_OVERHEAD

    @property
    def status(self) -> int:
        return self.shape.status

    @property
    def common(self) -> bytes:
        """Header lines sent between the per-request ones and the blob's own."""
        return self.shape.common

    @property
    def body(self) -> memoryview:
        return memoryview(self.blob)[self.shape.hlen :]

    @property
    def body_size(self) -> int:
        return len(self.blob) - self.shape.hlen

    @property
    def head(self) -> bytes:
        """Status line, stored fields and Content-Length (no blank line), as ``EntryMeta.head``."""
        s = self.shape
        return s.line + s.common + self.blob[: s.hlen - 2]

    def meta(self) -> EntryMeta:
        """The entry as compact metadata (the shape ``serve.compact`` makes)."""
        s = self.shape
        t = self.born
        return EntryMeta(
            key=self.key,
            url=self.url if self.url is not None else url_in_key(self.key) or "",
            status=s.status,
            headers=(),
            body_size=len(self.blob) - s.hlen,
            request_time=t,
            response_time=t,
            initial_age=_ZERO,
            ttl=self.ttl,
            stale_while_revalidate=s.stale_while_revalidate,
            stale_if_error=s.stale_if_error,
            must_revalidate=s.must_revalidate,
            vary=s.vary,
            stored_at=t,
            content_type=s.content_type,
            head=self.head,
        )


def url_in_key(key: bytes) -> str | None:
    """The invalidation URL a storage key spells, or None if it does not follow the layout.

    Layout (openfront.cache.key, after the distribution prefix): id, method, host, path,
    selected query, Accept-Encoding, then more fields, NUL-separated. ``put`` keeps the URL in
    the entry whenever this does not give back exactly the one it was handed.
    """
    parts = key.split(b"\0", 5)
    if len(parts) < 6:
        return None
    try:
        path = parts[3].decode("utf-8", "surrogatepass")
        query = parts[4].decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return None
    return f"{path}?{query}" if query else path


def stored_block(meta: EntryMeta) -> bytes:
    """The stored header lines of ``meta``, full or compact."""
    if meta.headers:
        return meta.wire or serialise(meta.headers)
    return wire(meta) if meta.head else b""


def split_shared(block: bytes) -> tuple[bytes, bytes]:
    """(lines of SHARED_FIELDS, the other lines) of a serialised header block, each in order."""
    shared: list[bytes] = []
    own: list[bytes] = []
    for line in block.split(b"\r\n")[:-1]:
        name = line.partition(b":")[0].lower()
        (shared if name in SHARED_FIELDS else own).append(line + b"\r\n")
    return b"".join(shared), b"".join(own)


class MemoryStore:
    """Bytes-bounded map of key -> Entry; lookups count as accesses for eviction."""

    __slots__ = ("_commons", "_fifo", "_index", "_shapes", "_ttls", "max_object_bytes")

    def __init__(self, capacity_bytes: int, max_object_bytes: int) -> None:
        if max_object_bytes < 0:
            raise ValueError(f"max_object_bytes must be >= 0, got {max_object_bytes}")
        self._fifo: S3FifoCore[Entry] = S3FifoCore(capacity_bytes)
        # The policy's own dict, shared so a hit is one lookup.
        self._index: dict[Hashable, Entry] = self._fifo.nodes
        self._shapes: dict[tuple[object, ...], Shape] = {}
        self._ttls: dict[float, float] = {}
        self._commons: dict[bytes, bytes] = {}
        self.max_object_bytes = max_object_bytes

    @property
    def capacity_bytes(self) -> int:
        return self._fifo.capacity_bytes

    @property
    def used_bytes(self) -> int:
        return self._fifo.used_bytes

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    # -- the hot path ------------------------------------------------------------------------
    def entry(self, key: bytes) -> Entry | None:
        """The stored entry for ``key`` (counted as an access), for the inline hit path."""
        e = self._index.get(key)
        if e is not None:
            state = e.state
            if state & 3 != 3:  # S3FifoCore.touch, inlined
                e.state = state + 1
        return e

    # -- everything else ---------------------------------------------------------------------
    def get(self, key: bytes) -> MemoryObject | None:
        e = self.entry(key)
        if e is None:
            return None
        return MemoryObject(e.meta(), e.body)

    def put(self, key: bytes, meta: EntryMeta, body: bytes) -> None:
        """Store a whole body; raises ValueError for a body over ``max_object_bytes``."""
        if len(body) > self.max_object_bytes:
            raise ValueError(
                f"body of {len(body)} bytes exceeds max_object_bytes={self.max_object_bytes}"
            )
        self.delete(key)  # the replaced entry waits in its queue, flagged gone: free its body now
        e = Entry()
        e.key = key
        e.edited = None
        self._fill(e, meta, body)
        for old in self._fifo.admit(e):
            old.blob = b""  # an evicted entry someone still holds keeps no body alive

    def _fill(self, e: Entry, meta: EntryMeta, body: bytes | memoryview) -> None:
        status = meta.status
        common, own = split_shared(stored_block(meta))
        block = own + content_length(status, len(body)) + b"\r\n"
        e.blob = block + body
        e.born = meta.response_time - meta.initial_age
        e.ttl = self._interned_ttl(meta.ttl)
        e.shape = self._shape(shape_key(meta, common, len(block)))
        e.url = None if url_in_key(e.key) == meta.url else meta.url

    def _interned_ttl(self, ttl: float) -> float:
        known = self._ttls.get(ttl)
        if known is not None:
            return known
        if len(self._ttls) >= _MAX_INTERNED:
            self._ttls.clear()  # many distinct TTLs (Expires-based): stop sharing old ones
        self._ttls[ttl] = ttl
        return ttl

    def _shape(self, key: ShapeKey) -> Shape:
        shape = self._shapes.get(key)
        if shape is None:
            # When the table overflows, old shapes stay shared by their entries; new ones start
            # a new table. The shared lines are interned apart so they are never per object.
            if len(self._shapes) >= _MAX_SHAPES:
                self._shapes.clear()
            common = key[1]
            known = self._commons.get(common)
            if known is None:
                if len(self._commons) >= _MAX_INTERNED:
                    self._commons.clear()
                known = self._commons[common] = common
            shape = self._shapes[key] = new_shape(key, known)
        return shape

    def delete(self, key: bytes) -> bool:
        e = self._fifo.discard(key)
        if e is None:
            return False
        e.blob = b""
        return True

    def update_meta(self, key: bytes, meta: EntryMeta) -> None:
        """New headers and freshness for a stored body (a 304 refresh); keeps its queue place."""
        e = self._index.get(key)
        if e is None:
            return
        old = e.charge()
        self._fill(e, meta, e.body)
        e.edited = None
        for gone in self._fifo.recharge(e, old):
            gone.blob = b""

    def keys(self) -> Iterator[bytes]:
        return iter([e.key for e in self._index.values()])

    def items_meta(self) -> Iterator[tuple[bytes, EntryMeta]]:
        return iter([(e.key, e.meta()) for e in list(self._index.values())])

    def delete_matching(self, pred: Callable[[EntryMeta], bool]) -> int:
        doomed = [e.key for e in list(self._index.values()) if pred(e.meta())]
        for key in doomed:
            self.delete(key)
        return len(doomed)

    def delete_urls(self, prefixes: tuple[bytes, ...], match: Callable[[str], bool]) -> int:
        """Delete objects whose key starts with one of ``prefixes`` and whose URL ``match``es.

        What an invalidation needs, without building an ``EntryMeta`` per stored object (a scan
        of 100,000 objects takes tens of milliseconds instead of hundreds).
        """
        doomed = []
        for e in self._index.values():
            key = e.key
            if key.startswith(prefixes):
                url = e.url
                if match(url if url is not None else url_in_key(key) or ""):
                    doomed.append(key)
        for key in doomed:
            self.delete(key)
        return len(doomed)
