"""The memory tier as records in one arena: no Python object per cached key.

An anonymous private ``mmap`` holds every object as one record: a 42-byte header (record size,
flags, S3-FIFO frequency, key length, born, TTL, shape id, blob and URL lengths, Date and
Last-Modified in seconds), the key, the object's own header lines + Content-Length + blank line
+ body (``memory.Entry``'s ``blob``), and the URL when the key does not spell it; 8-byte
aligned. Date and Last-Modified lines that are IMF-fixdates formatting back byte for byte are
kept as their values, not as lines; a view (``ArenaEntry.common``) puts the lines back after
the shape's shared lines. The arena is two byte rings, S3-FIFO's
small (10% of ``capacity_bytes``, at least one object of ``max_object_bytes``) and main queues:
a record is appended at a ring's tail and leaves at its head, so queue order is byte order and
needs no nodes. Leaving small, a record that was hit is copied to main's tail, an unhit one
moves to main only if main has room without evicting (S3-FIFO evicts nothing while the cache has
room), else it is dropped into the ghost.
Leaving main, a record with hits left is copied to main's tail with one hit less, the others are
dropped. A record larger than small is not kept on its first miss but remembered in the ghost,
so its next miss puts it in main (under S3-FIFO it would pass through small unhit). A deleted
record is flagged; its bytes come back when the head passes it. Each ring is followed by an
overflow zone the record at its end runs on into, so a ring's end is never left as padding.

Keys are found through an open-addressing table of 64-bit slots (``array('q')``, linear probing,
load <= 3/4, deletion by backward shift): 23 bits of the key hash as a tag and the record's
offset. The stored key confirms a hit; records keep no hash (it is recomputed from the key when a
slot moves). The ghost is a 4-way set-associative ``array('I')`` of 12-bit fingerprints and
20-bit insertion stamps: an entry counts while fewer than ``0.9 x objects`` were remembered after
it (S3-FIFO's FIFO ghost without a queue). Shapes (status, shared header lines, ...) are interned
Python objects referred to by index.

A hit (``entry``) returns an ``ArenaEntry``: a view whose ``blob`` is a memoryview of the arena.
The last 4,096 views are memoised by key and reused while their record has not been reached by
its ring's head (``ring.passed``), so a hot hit is one dict lookup and a frequency bump. The hit
path copies the blob into the response before it returns (asyncio's transports copy what they
cannot send at once), so eviction can never overwrite bytes still to be written; what may be held
across an await gets copies (``ArenaEntry.body``, ``head``, ``meta()``, ``get``). Layout and
measurements: docs/cache-storage.md, "Memory tier".
"""

from __future__ import annotations

import mmap
import struct
from array import array
from collections.abc import Callable, Iterator

from openfront.cache.entry import EntryMeta
from openfront.cache.response_headers import EditedHead
from openfront.edge.serve import content_length
from openfront.edge.store.memory import (
    MemoryObject,
    Shape,
    ShapeKey,
    new_shape,
    shape_key,
    split_shared,
    stored_block,
    url_in_key,
)
from openfront.http.dates import fixdate_seconds, format_http_date

# rsize, flags, freq, key length, born, ttl, shape id, blob length, URL length, and the Date
# and Last-Modified values in seconds (0: none kept apart) (42 bytes)
_HEAD = struct.Struct("<IBBHddIIHII")
HEADER_BYTES = _HEAD.size
_SIZE_FLAGS = struct.Struct("<IBB")
_KLEN = struct.Struct("<H")
_SHAPE_ID = struct.Struct("<I")
_BLEN_ULEN = struct.Struct("<IH")
_FLAGS_AT = 4
_FREQ_AT = 5
_KLEN_AT = 6
_SHAPE_AT = 24
_BLEN_AT = 28
_MAX_LEN = 0xFFFF  # longer keys or URLs are not kept in memory
_LIVE = 0
_DEAD = 1
_PAD = 2
# In main only because main had room when it left small unhit (S3-FIFO would have kept it in
# small while the cache was not full): dropped from main into the ghost, like from small.
_PROBATION = 4
_GONE = _DEAD | _PAD
_MAX_FREQ = 3

_M64 = (1 << 64) - 1
_LOC_BITS = 40  # offsets below 1 TiB; the 23 bits above hold a tag of the key hash
_LOC_MASK = (1 << _LOC_BITS) - 1
_TAG_SHIFT = 64 - (63 - _LOC_BITS)  # the hash's top 23 bits
_MIN_SLOTS = 1024
_MAX_SHAPES = 65536
_MAX_EDITED = 4096
_MAX_DATES = 4096  # formatted Date/Last-Modified values kept for reuse, each way
_NO_DATES = (0, 0)
_MAX_HOT = 4096
_HOT_COPY_MAX = 2048
# Ghost entries: a 12-bit fingerprint and a 20-bit insertion stamp in 32 bits.
_STAMP_BITS = 20
_STAMP_MASK = (1 << _STAMP_BITS) - 1
_MIN_GHOST = 64
_GHOST_RATIO = 0.9
_SMALL_RATIO = 0.1
# Room past max_object_bytes for a record's header, key, header lines and URL in the overflow.
_OVERFLOW_SLACK = 256 * 1024
# The same, for the smallest small ring: typical header lines and key.
_SMALL_SLACK = 8 * 1024

_new = object.__new__


def _align(n: int) -> int:
    return (n + 7) & ~7


class _Ring:
    """One FIFO queue as a byte ring ``[base, base + size)`` of the arena."""

    __slots__ = ("base", "end", "head", "over", "passed", "size", "tail", "used")

    def __init__(self, base: int, size: int, over: int) -> None:
        self.base = base
        self.size = size
        self.end = base + size
        self.over = over  # bytes past the end a record may run on into (then ``base`` + size)
        self.head = 0  # offset of the oldest record
        self.tail = 0  # where the next record goes
        self.used = 0  # bytes between head and tail: live, dead and padding records
        self.passed = 0  # bytes the head has ever moved over: a view's record is gone past this


class ArenaEntry:
    """A hit's view of one record: the attributes the hit path reads from ``memory.Entry``.

    ``blob`` is a memoryview of the arena, valid until the store next changes: use it before
    returning to the event loop (a memoised view of a blob up to 2 KiB holds a copy as bytes).
    ``body``, ``head`` and ``meta()`` are copies.
    """

    __slots__ = (
        "at",
        "blob",
        "born",
        "common",
        "key",
        "limit",
        "ring",
        "shape",
        "store",
        "ttl",
        "url",
    )

    key: bytes
    blob: memoryview | bytes
    # The shape's shared lines, then the record's Date and Last-Modified lines: what is sent
    # between the per-request lines and the blob.
    common: bytes
    born: float
    ttl: float
    shape: Shape
    url: str | None
    store: ArenaStore
    # Where the record is, while ``ring.passed <= limit`` (its ring's head has not reached it):
    # until then it is neither moved nor overwritten, so the view stays valid.
    ring: _Ring
    limit: int
    at: int  # the record's frequency byte; 0 once it is seen at its maximum

    @property
    def edited(self) -> EditedHead | None:
        return self.store._edited.get(self.key)

    @edited.setter
    def edited(self, value: EditedHead | None) -> None:
        memo = self.store._edited
        if value is None:
            memo.pop(self.key, None)
            return
        if len(memo) >= _MAX_EDITED:
            memo.clear()
        memo[self.key] = value

    @property
    def status(self) -> int:
        return self.shape.status

    @property
    def body(self) -> bytes:
        return bytes(self.blob[self.shape.hlen :])

    @property
    def body_size(self) -> int:
        return len(self.blob) - self.shape.hlen

    @property
    def head(self) -> bytes:
        """Status line, stored fields and Content-Length (no blank line), as ``EntryMeta.head``."""
        s = self.shape
        return s.line + self.common + bytes(self.blob[: s.hlen - 2])

    def meta(self) -> EntryMeta:
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
            initial_age=0.0,
            ttl=self.ttl,
            stale_while_revalidate=s.stale_while_revalidate,
            stale_if_error=s.stale_if_error,
            must_revalidate=s.must_revalidate,
            vary=s.vary,
            stored_at=t,
            content_type=s.content_type,
            head=self.head,
        )


class ArenaStore:
    """Bytes-bounded map of key -> record in one arena; lookups count as accesses for eviction.

    The same interface as ``MemoryStore``. ``capacity_bytes`` is the arena (records: header, key,
    stored header lines, body); the slot table and the ghost live beside it (about 30 B per
    object, docs/cache-storage.md). ``virtual=True`` (the trace simulator) keeps only headers
    and keys: record sizes are charged but bodies are neither written nor copied. ``key_hash``
    must be consistent for equal keys; the simulator passes a seed-independent one.
    """

    __slots__ = (
        "_arena",
        "_commons",
        "_count",
        "_edited",
        "_gclock",
        "_ghost",
        "_gmask",
        "_hot",
        "_khash",
        "_lines",
        "_live_bytes",
        "_main",
        "_mask",
        "_seconds",
        "_shape_ids",
        "_shapes",
        "_slots",
        "_small",
        "_view",
        "_virtual",
        "max_object_bytes",
    )

    def __init__(
        self,
        capacity_bytes: int,
        max_object_bytes: int,
        *,
        virtual: bool = False,
        key_hash: Callable[[bytes], int] = hash,
    ) -> None:
        if max_object_bytes < 0:
            raise ValueError(f"max_object_bytes must be >= 0, got {max_object_bytes}")
        if capacity_bytes < 0:
            raise ValueError(f"capacity_bytes must be >= 0, got {capacity_bytes}")
        total = max(16, capacity_bytes & ~7)
        over = _align(max_object_bytes + _OVERFLOW_SLACK)
        small = max(8, int(total * _SMALL_RATIO) & ~7)
        if not virtual:
            # Room in small for any object up to max_object_bytes (up to half the arena), so a
            # stored object is a hit on its next request even when the tier is small for its
            # max_object_bytes. The simulator keeps S3-FIFO's 10%.
            small = max(small, min(_align(max_object_bytes + _SMALL_SLACK), total // 2 & ~7))
        main = total - small
        # Each ring is followed by an overflow zone the record at its end may run on into, so
        # the end of a ring is not left as padding; only the pages a record touches there
        # count, at most one record per ring.
        self._small = _Ring(0, small, min(small, over))
        self._main = _Ring(small + self._small.over, main, min(main, over))
        if self._main.end + self._main.over >= _LOC_MASK:
            raise ValueError(f"capacity_bytes must be well below {_LOC_MASK + 1}")
        # Anonymous and lazily backed: pages count toward RSS only once a record touches them.
        # Private, so a worker forked after it was made gets its own copy, never shared pages.
        self._arena = mmap.mmap(
            -1, self._main.end + self._main.over, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
        )
        self._view = memoryview(self._arena)
        self._slots = array("q", bytes(8 * _MIN_SLOTS))
        self._mask = _MIN_SLOTS - 1
        self._ghost = array("I", bytes(4 * _MIN_SLOTS))
        self._gmask = _MIN_SLOTS // 4 - 1
        self._gclock = 0
        self._count = 0
        self._live_bytes = 0
        self._shapes: list[Shape] = []
        self._shape_ids: dict[ShapeKey, int] = {}
        self._commons: dict[bytes, bytes] = {}
        self._edited: dict[bytes, EditedHead] = {}
        self._seconds: dict[bytes, int] = {}  # Date/Last-Modified line -> its value
        self._lines: dict[int, bytes] = {}  # (Date, Last-Modified) values -> their lines
        # Views of recently hit records, reused while valid: a hot hit is one dict lookup.
        self._hot: dict[bytes, ArenaEntry] = {}
        self._virtual = virtual
        self._khash = key_hash
        self.max_object_bytes = max_object_bytes

    @property
    def capacity_bytes(self) -> int:
        return self._small.size + self._main.size

    @property
    def used_bytes(self) -> int:
        """Bytes of live records (flagged and padding bytes wait for the ring's head)."""
        return self._live_bytes

    @property
    def occupied_bytes(self) -> int:
        """Bytes between the rings' heads and tails: live, deleted and padding records."""
        return self._small.used + self._main.used

    def __len__(self) -> int:
        return self._count

    def __contains__(self, key: object) -> bool:
        return isinstance(key, bytes) and self._find(key) >= 0

    # -- the hot path ------------------------------------------------------------------------
    def entry(self, key: bytes) -> ArenaEntry | None:
        """The stored record for ``key`` (counted as an access), for the inline hit path."""
        e = self._hot.get(key)
        if e is None or e.ring.passed > e.limit:
            loc = self._find(key)
            if loc < 0:
                return None
            e = self._remember(self._view_at(loc, key))
        at = e.at
        if at:
            freq = self._arena[at]
            if freq < _MAX_FREQ:
                self._arena[at] = freq + 1
            else:
                # Only a move lowers it, and a move ends the view: no need to look again.
                e.at = 0
        return e

    def _remember(self, e: ArenaEntry) -> ArenaEntry:
        hot = self._hot
        if len(hot) >= _MAX_HOT:
            hot.clear()
        if len(e.blob) <= _HOT_COPY_MAX:
            # Small blobs of hot views as bytes: formatting a response from bytes is faster
            # than from a memoryview (bounded: 4,096 views x 2 KiB).
            e.blob = bytes(e.blob)
        hot[e.key] = e
        return e

    # -- everything else ---------------------------------------------------------------------
    def get(self, key: bytes) -> MemoryObject | None:
        e = self.entry(key)
        if e is None:
            return None
        return MemoryObject(e.meta(), e.body)

    def touch(self, key: bytes) -> bool:
        """Whether ``key`` is stored, counted as an access (the simulator's lookup)."""
        loc = self._find(key)
        if loc < 0:
            return False
        freq = self._arena[loc + _FREQ_AT]
        if freq < _MAX_FREQ:
            self._arena[loc + _FREQ_AT] = freq + 1
        return True

    def put(self, key: bytes, meta: EntryMeta, body: bytes | memoryview) -> None:
        """Store a whole body; raises ValueError for a body over ``max_object_bytes``."""
        if len(body) > self.max_object_bytes:
            raise ValueError(
                f"body of {len(body)} bytes exceeds max_object_bytes={self.max_object_bytes}"
            )
        self.delete(key)
        h = self._khash(key) & _M64
        ring = self._main if self._ghost_take(h) else self._small
        self._store(ring, key, h, meta, body, 0)

    def put_virtual(self, key: bytes, size: int) -> None:
        """Admit a record charged ``size`` body bytes that are never written (``virtual``)."""
        assert self._virtual
        self.delete(key)
        h = self._khash(key) & _M64
        ring = self._main if self._ghost_take(h) else self._small
        self._insert(ring, key, h, 0.0, 0.0, 0, (), size, b"", 0, _NO_DATES)

    def _store(
        self,
        ring: _Ring,
        key: bytes,
        h: int,
        meta: EntryMeta,
        body: bytes | memoryview,
        freq: int,
    ) -> None:
        sid, block, dates = self._layout(meta, len(body))
        url = b"" if url_in_key(key) == meta.url else meta.url.encode("utf-8", "surrogatepass")
        born = meta.response_time - meta.initial_age
        self._insert(ring, key, h, born, meta.ttl, sid, (block, body), len(body), url, freq, dates)

    def _layout(self, meta: EntryMeta, body_size: int) -> tuple[int, bytes, tuple[int, int]]:
        """(shape id, the blob's header part, (Date, Last-Modified) seconds) for ``meta``."""
        status = meta.status
        common, own = split_shared(stored_block(meta))
        own, dates = self._pull_dates(own)
        block = own + content_length(status, body_size) + b"\r\n"
        return self._shape_id(shape_key(meta, common, len(block))), block, dates

    def _pull_dates(self, own: bytes) -> tuple[bytes, tuple[int, int]]:
        """``own`` without its Date and Last-Modified lines when they are IMF-fixdates that
        format back byte for byte, and their values in seconds (0: the line stayed in ``own``).

        Nearly every response has both; as lines they are 83 bytes, as numbers 8.
        """
        if b"Date: " not in own and b"Last-Modified: " not in own:
            return own, _NO_DATES
        date = modified = 0
        kept = []
        seconds = self._seconds
        for line in own.split(b"\r\n")[:-1]:
            if not date and line[:6] == b"Date: ":
                date = seconds.get(line) or self._parse_date(line, 6)
                if date:
                    continue
            elif not modified and line[:15] == b"Last-Modified: ":
                modified = seconds.get(line) or self._parse_date(line, 15)
                if modified:
                    continue
            kept.append(line + b"\r\n")
        return b"".join(kept), (date, modified)

    def _parse_date(self, line: bytes, at: int) -> int:
        value = fixdate_seconds(line[at:])
        if value:
            if len(self._seconds) >= _MAX_DATES:
                self._seconds.clear()
            self._seconds[line] = value
        return value

    def _date_lines(self, date: int, modified: int) -> bytes:
        key = date << 32 | modified
        lines = self._lines.get(key)
        if lines is None:
            lines = b""
            if date:
                lines = b"Date: %s\r\n" % format_http_date(date).encode("ascii")
            if modified:
                lines += b"Last-Modified: %s\r\n" % format_http_date(modified).encode("ascii")
            if len(self._lines) >= _MAX_DATES:
                self._lines.clear()
            self._lines[key] = lines
        return lines

    def _insert(
        self,
        ring: _Ring,
        key: bytes,
        h: int,
        born: float,
        ttl: float,
        sid: int,
        parts: tuple[bytes | memoryview, ...],
        body_size: int,
        url: bytes,
        freq: int,
        dates: tuple[int, int],
    ) -> None:
        if len(key) > _MAX_LEN or len(url) > _MAX_LEN:
            return
        blen = body_size + (len(parts[0]) if parts else 0)
        need = _align(HEADER_BYTES + len(key) + blen + len(url))
        if need > ring.size or need > ring.over:
            # Larger than the ring: the disk tier keeps it. Larger than small, it would pass
            # through small unhit under S3-FIFO: it gets main on its next miss, by the ghost.
            if ring is self._small:
                self._ghost_add(h)
            return
        loc = self._reserve(ring, need)
        arena = self._arena
        _HEAD.pack_into(
            arena, loc, need, _LIVE, freq, len(key), born, ttl, sid, blen, len(url), *dates
        )
        p = loc + HEADER_BYTES
        arena[p : p + len(key)] = key
        p += len(key)
        if self._virtual:
            p += blen
        else:
            for part in parts:
                arena[p : p + len(part)] = part
                p += len(part)
        if url:
            arena[p : p + len(url)] = url
        self._table_add(h, loc)
        self._count += 1
        self._live_bytes += need

    # -- the rings ---------------------------------------------------------------------------
    def _place(self, ring: _Ring, need: int) -> int:
        """Where a record of ``need`` bytes goes in ``ring`` without evicting, or -1."""
        if not ring.used:
            ring.head = ring.tail = 0
        tail = ring.tail
        if ring.used and tail <= ring.head:  # wrapped (or full): the free bytes are [tail, head)
            if need > ring.head - tail:
                return -1
            ring.tail = tail + need
        else:
            over = tail + need - ring.size
            if over <= 0:
                ring.tail = 0 if over == 0 else tail + need
            elif over <= ring.over:
                # It runs on past the ring's end into the overflow zone, so it stays one slice;
                # the ring's first ``over`` bytes are charged to it and left unused.
                if over > ring.head:
                    return -1  # once the head has moved past them
                ring.tail = over
            else:
                pad = ring.size - tail  # cannot run on: skip to the start
                _SIZE_FLAGS.pack_into(self._arena, ring.base + tail, pad, _PAD, 0)
                ring.used += pad
                ring.tail = 0
                if need > ring.head:
                    return -1
                ring.tail = need
                ring.used += need
                return ring.base
        ring.used += need
        return ring.base + tail

    def _reserve(self, ring: _Ring, need: int) -> int:
        """Room for ``need`` bytes at ``ring``'s tail, evicting from its head as needed."""
        while True:
            loc = self._place(ring, need)
            if loc >= 0:
                return loc
            self._evict_head(ring)

    def _evict_head(self, ring: _Ring) -> None:
        arena = self._arena
        loc = ring.base + ring.head
        rsize, flags, freq = _SIZE_FLAGS.unpack_from(arena, loc)
        ring.head += rsize
        if ring.head >= ring.size:
            ring.head -= ring.size
        ring.used -= rsize
        ring.passed += rsize
        if flags & _GONE:
            return
        main = self._main
        if ring is not main:
            if freq:  # quick demotion's survivor
                self._move(loc, rsize, self._reserve(main, rsize), _LIVE, 0)
                return
            # S3-FIFO drops nothing while the cache has room (its small queue grows into the
            # free bytes): an unhit record moves on to main if main holds it without evicting.
            new = self._place(main, rsize)
            if new >= 0:
                self._move(loc, rsize, new, _PROBATION, 0)
                return
        elif freq:
            # Main's reinsertion. It just left main's head, so the free bytes (one run, from
            # the tail on) hold it, and no record is longer than the overflow zone.
            self._move(loc, rsize, self._place(main, rsize), _LIVE, freq - 1)
            return
        h = self._hash_at(loc)
        self._table_del(self._slot_of(h, loc))
        self._count -= 1
        self._live_bytes -= rsize
        if ring is not main or flags & _PROBATION:
            self._ghost_add(h)

    def _move(self, loc: int, rsize: int, new: int, flags: int, freq: int) -> None:
        """Copy the record at ``loc`` (already off its ring) to ``new``, reserved for it."""
        assert new >= 0
        arena = self._arena
        h = self._hash_at(loc)
        slot = self._slot_of(h, loc)
        if new != loc:
            if self._virtual:
                klen = _KLEN.unpack_from(arena, loc + _KLEN_AT)[0]
                arena.move(new, loc, HEADER_BYTES + klen)
            else:
                arena.move(new, loc, rsize)
        arena[new + _FLAGS_AT] = flags
        arena[new + _FREQ_AT] = freq
        self._slots[slot] = (self._slots[slot] & ~_LOC_MASK) | (new + 1)

    # -- the slot table ----------------------------------------------------------------------
    def _hash_at(self, loc: int) -> int:
        """The key hash of the record at ``loc`` (records keep no hash: 8 bytes each)."""
        arena = self._arena
        k = loc + HEADER_BYTES
        return self._khash(arena[k : k + _KLEN.unpack_from(arena, loc + _KLEN_AT)[0]]) & _M64

    def _find(self, key: bytes) -> int:
        """The record offset of ``key``, or -1."""
        h = self._khash(key) & _M64
        slots = self._slots
        mask = self._mask
        i = h & mask
        tag = h >> _TAG_SHIFT
        arena = self._arena
        while True:
            s = slots[i]
            if not s:
                return -1
            if s >> _LOC_BITS == tag:
                loc = (s & _LOC_MASK) - 1
                klen = _KLEN.unpack_from(arena, loc + _KLEN_AT)[0]
                k = loc + HEADER_BYTES
                if arena[k : k + klen] == key:
                    return loc
            i = (i + 1) & mask

    def _slot_of(self, h: int, loc: int) -> int:
        slots = self._slots
        mask = self._mask
        want = loc + 1
        i = h & mask
        while slots[i] & _LOC_MASK != want:
            i = (i + 1) & mask
        return i

    def _table_add(self, h: int, loc: int) -> None:
        if (self._count + 1) * 4 > (self._mask + 1) * 3:
            self._grow()
        slots = self._slots
        mask = self._mask
        i = h & mask
        while slots[i]:
            i = (i + 1) & mask
        slots[i] = ((h >> _TAG_SHIFT) << _LOC_BITS) | (loc + 1)

    def _table_del(self, i: int) -> None:
        """Empty slot ``i``, shifting later slots of the run back (no tombstones)."""
        slots = self._slots
        mask = self._mask
        j = i
        while True:
            j = (j + 1) & mask
            s = slots[j]
            if not s:
                break
            home = self._hash_at((s & _LOC_MASK) - 1) & mask
            # Move s into the hole unless its home lies cyclically in (i, j].
            if (i <= j and (home <= i or home > j)) or (i > j and home <= i and home > j):
                slots[i] = s
                i = j
        slots[i] = 0

    def _grow(self) -> None:
        size = 2 * (self._mask + 1)
        old = self._slots
        slots = array("q", bytes(8 * size))
        mask = size - 1
        for s in old:
            if s:
                i = self._hash_at((s & _LOC_MASK) - 1) & mask
                while slots[i]:
                    i = (i + 1) & mask
                slots[i] = s
        self._slots = slots
        self._mask = mask
        # The ghost grows along (one 4-byte entry per slot) and starts afresh: its entries do
        # not keep the hash bits that pick a bucket of the larger table.
        self._ghost = array("I", bytes(4 * size))
        self._gmask = size // 4 - 1

    # -- the ghost ---------------------------------------------------------------------------
    def _ghost_limit(self) -> int:
        return min(_STAMP_MASK, max(_MIN_GHOST, int(_GHOST_RATIO * self._count)))

    def _ghost_add(self, h: int) -> None:
        ghost = self._ghost
        fp = (h >> 52) or 1
        b = (h & self._gmask) << 2
        clock = self._gclock = (self._gclock + 1) & _STAMP_MASK
        limit = self._ghost_limit()
        victim, oldest = b, -1
        for j in range(b, b + 4):
            g = ghost[j]
            if not g or g >> _STAMP_BITS == fp:
                victim = j
                break
            age = (clock - g) & _STAMP_MASK
            if age >= limit:
                victim = j
                break
            if age > oldest:
                victim, oldest = j, age
        ghost[victim] = (fp << _STAMP_BITS) | clock

    def _ghost_take(self, h: int) -> bool:
        """Whether ``h`` was evicted from small recently (and forget it)."""
        ghost = self._ghost
        fp = (h >> 52) or 1
        b = (h & self._gmask) << 2
        for j in range(b, b + 4):
            g = ghost[j]
            if g >> _STAMP_BITS == fp:
                ghost[j] = 0
                return (self._gclock - g) & _STAMP_MASK < self._ghost_limit()
        return False

    # -- shapes ------------------------------------------------------------------------------
    def _shape_id(self, key: ShapeKey) -> int:
        sid = self._shape_ids.get(key)
        if sid is not None:
            return sid
        if len(self._shapes) >= _MAX_SHAPES:
            self._compact_shapes()
        common = key[1]
        known = self._commons.get(common)
        if known is None:
            known = self._commons[common] = common
        sid = len(self._shapes)
        self._shapes.append(new_shape(key, known))
        self._shape_ids[key] = sid
        return sid

    def _compact_shapes(self) -> None:
        """Keep only the shapes live records use, renumbered (an origin with very many)."""
        arena = self._arena
        old = self._shapes
        keys = {sid: key for key, sid in self._shape_ids.items()}
        renumber: dict[int, int] = {}
        for loc in self._locs():
            sid = _SHAPE_ID.unpack_from(arena, loc + _SHAPE_AT)[0]
            new = renumber.get(sid)
            if new is None:
                new = renumber[sid] = len(renumber)
            _SHAPE_ID.pack_into(arena, loc + _SHAPE_AT, new)
        self._shapes = [old[sid] for sid in sorted(renumber, key=renumber.__getitem__)]
        self._shape_ids = {keys[sid]: new for sid, new in renumber.items()}
        self._commons = {s.common: s.common for s in self._shapes}

    # -- scans and removal -------------------------------------------------------------------
    def _locs(self) -> list[int]:
        return [(s & _LOC_MASK) - 1 for s in self._slots if s]

    def _view_at(self, loc: int, key: bytes | None = None) -> ArenaEntry:
        arena = self._arena
        _, _, _, klen, born, ttl, sid, blen, ulen, date, modified = _HEAD.unpack_from(arena, loc)
        k = loc + HEADER_BYTES
        b = k + klen
        e = _new(ArenaEntry)
        e.key = arena[k:b] if key is None else key
        ring = self._small if loc < self._small.end else self._main
        e.ring = ring
        e.limit = ring.passed + (loc - ring.base - ring.head) % ring.size
        e.at = loc + _FREQ_AT
        shape = e.shape = self._shapes[sid]
        e.common = (
            shape.common + self._date_lines(date, modified) if date or modified else shape.common
        )
        e.born = born
        e.ttl = ttl
        e.blob = self._view[b : b + blen]
        e.url = arena[b + blen : b + blen + ulen].decode("utf-8", "surrogatepass") if ulen else None
        e.store = self
        return e

    def delete(self, key: bytes) -> bool:
        loc = self._find(key)
        if loc < 0:
            return False
        self._edited.pop(key, None)
        self._hot.pop(key, None)
        self._drop(loc)
        return True

    def _drop(self, loc: int) -> None:
        arena = self._arena
        rsize = _SIZE_FLAGS.unpack_from(arena, loc)[0]
        h = self._hash_at(loc)
        self._table_del(self._slot_of(h, loc))
        arena[loc + _FLAGS_AT] = _DEAD
        self._count -= 1
        self._live_bytes -= rsize

    def update_meta(self, key: bytes, meta: EntryMeta) -> None:
        """New headers and freshness for a stored body (a 304 refresh).

        The record is rewritten in place when it still fits (keeping its queue place);
        otherwise it moves to its ring's tail with its hits.
        """
        loc = self._find(key)
        if loc < 0:
            return
        self._edited.pop(key, None)
        self._hot.pop(key, None)
        e = self._view_at(loc)
        body = e.body
        del e
        arena = self._arena
        rsize, flags, freq = _SIZE_FLAGS.unpack_from(arena, loc)
        h = self._hash_at(loc)
        ring = self._small if loc < self._small.end else self._main
        self._drop(loc)
        sid, block, dates = self._layout(meta, len(body))
        url = b"" if url_in_key(key) == meta.url else meta.url.encode("utf-8", "surrogatepass")
        need = _align(HEADER_BYTES + len(key) + len(block) + len(body) + len(url))
        born = meta.response_time - meta.initial_age
        if need > rsize or len(url) > _MAX_LEN:
            # Moved to its ring's tail with its hits; the layout above is the one it gets.
            parts = (block, body)
            self._insert(ring, key, h, born, meta.ttl, sid, parts, len(body), url, freq, dates)
            return
        _HEAD.pack_into(
            arena,
            loc,
            rsize,
            flags & _PROBATION,
            freq,
            len(key),
            born,
            meta.ttl,
            sid,
            len(block) + len(body),
            len(url),
            *dates,
        )
        p = loc + HEADER_BYTES + len(key)
        for part in (block, body, url):
            arena[p : p + len(part)] = part
            p += len(part)
        self._table_add(h, loc)
        self._count += 1
        self._live_bytes += rsize

    def keys(self) -> Iterator[bytes]:
        return iter([self._view_at(loc).key for loc in self._locs()])

    def items_meta(self) -> Iterator[tuple[bytes, EntryMeta]]:
        views = [self._view_at(loc) for loc in self._locs()]
        return iter([(e.key, e.meta()) for e in views])

    def delete_matching(self, pred: Callable[[EntryMeta], bool]) -> int:
        doomed = [key for key, meta in self.items_meta() if pred(meta)]
        for key in doomed:
            self.delete(key)
        return len(doomed)

    def delete_urls(self, prefixes: tuple[bytes, ...], match: Callable[[str], bool]) -> int:
        """Delete objects whose key starts with one of ``prefixes`` and whose URL ``match``es."""
        arena = self._arena
        klen_at = _KLEN.unpack_from
        doomed = []
        for loc in sorted(self._locs()):  # in address order: sequential reads of the arena
            k = loc + HEADER_BYTES
            key = arena[k : k + klen_at(arena, loc + _KLEN_AT)[0]]
            if key.startswith(prefixes):
                blen, ulen = _BLEN_ULEN.unpack_from(arena, loc + _BLEN_AT)
                if ulen:
                    u = k + len(key) + blen
                    url = arena[u : u + ulen].decode("utf-8", "surrogatepass")
                else:
                    url = url_in_key(key) or ""
                if match(url):
                    doomed.append(key)
        for key in doomed:
            self.delete(key)
        return len(doomed)
