"""Byte-bounded eviction policies over opaque hashable keys.

``S3Fifo`` follows Yang et al., "FIFO queues are all you need for cache eviction" (SOSP'23): a small
FIFO that demotes one-hit wonders quickly, a main FIFO with a 2-bit frequency and reinsertion, and a
ghost FIFO of keys recently evicted from the small queue. ``Lru`` is the comparison baseline.

Both share one interface: ``access(key) -> bool``, ``insert(key, size) -> evicted keys``,
``remove(key)``, ``__contains__``, ``__len__``, ``used_bytes``, ``capacity_bytes``.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

_SMALL = 0
_MAIN = 1
_GONE = 2
_MAX_FREQ = 3  # two bits, as in the paper
_MIN_GHOST = 64


def _check_capacity(capacity_bytes: int) -> int:
    if isinstance(capacity_bytes, bool) or not isinstance(capacity_bytes, int):
        raise TypeError(f"capacity_bytes must be an int, got {type(capacity_bytes).__name__}")
    if capacity_bytes < 0:
        raise ValueError(f"capacity_bytes must be >= 0, got {capacity_bytes}")
    return capacity_bytes


def _check_size(size: int) -> None:
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"size must be an int, got {type(size).__name__}")
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")


class _Node(Generic[K]):
    """One tracked object; the queues hold nodes so a removal is a flag flip, not a search."""

    __slots__ = ("freq", "key", "queue", "size")

    def __init__(self, key: K, size: int, queue: int) -> None:
        self.key = key
        self.size = size
        self.queue = queue
        self.freq = 0


class S3Fifo(Generic[K]):
    """S3-FIFO over byte sizes: small FIFO, main FIFO with reinsertion, ghost FIFO of hashes.

    The ghost holds at most ``ghost_ratio`` x tracked objects (at least 64). Variants tried in the
    trace simulator and dropped because they did not lower the byte miss ratio: large objects
    bypassing small, a move-to-main threshold of 2, a count-min miss sketch in place of the ghost
    (docs/cache-storage.md has the numbers).
    """

    __slots__ = (
        "_capacity",
        "_dead",
        "_ghost_fifo",
        "_ghost_ratio",
        "_ghost_set",
        "_main",
        "_main_bytes",
        "_nodes",
        "_small",
        "_small_bytes",
        "_small_target",
    )

    def __init__(
        self,
        capacity_bytes: int,
        *,
        small_ratio: float = 0.1,
        ghost_ratio: float = 0.9,
    ) -> None:
        self._capacity = _check_capacity(capacity_bytes)
        if not 0.0 < small_ratio < 1.0:
            raise ValueError(f"small_ratio must be in (0, 1), got {small_ratio}")
        if ghost_ratio < 0.0:
            raise ValueError(f"ghost_ratio must be >= 0, got {ghost_ratio}")
        self._small_target = int(capacity_bytes * small_ratio)
        self._ghost_ratio = ghost_ratio
        self._nodes: dict[K, _Node[K]] = {}
        self._small: deque[_Node[K]] = deque()
        self._main: deque[_Node[K]] = deque()
        self._small_bytes = 0
        self._main_bytes = 0
        self._dead = 0  # removed nodes still sitting in a queue
        # Ghost entries are key hashes: a collision only admits one object to main early.
        self._ghost_fifo: deque[int] = deque()
        self._ghost_set: set[int] = set()

    @property
    def capacity_bytes(self) -> int:
        return self._capacity

    @property
    def used_bytes(self) -> int:
        return self._small_bytes + self._main_bytes

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, key: object) -> bool:
        return key in self._nodes

    def access(self, key: K) -> bool:
        node = self._nodes.get(key)
        if node is None:
            return False
        if node.freq < _MAX_FREQ:
            node.freq += 1
        return True

    def insert(self, key: K, size: int) -> list[K]:
        _check_size(size)
        if key in self._nodes:
            self.remove(key)
        if size > self._capacity:
            return [key]
        to_main = self._seen_recently(key)
        evicted: list[K] = []
        while self._small_bytes + self._main_bytes + size > self._capacity:
            if self._small_bytes > self._small_target or not self._main_bytes:
                self._evict_small(evicted)
            else:
                self._evict_main(evicted)
        if to_main:
            node = _Node(key, size, _MAIN)
            self._main.append(node)
            self._main_bytes += size
        else:
            node = _Node(key, size, _SMALL)
            self._small.append(node)
            self._small_bytes += size
        self._nodes[key] = node
        return evicted

    def remove(self, key: K) -> None:
        node = self._nodes.pop(key, None)
        if node is None:
            return
        if node.queue == _SMALL:
            self._small_bytes -= node.size
        else:
            self._main_bytes -= node.size
        node.queue = _GONE
        self._dead += 1
        if self._dead > 64 and self._dead > len(self._nodes):
            self._compact()

    def _seen_recently(self, key: K) -> bool:
        h = hash(key)
        if h in self._ghost_set:
            self._ghost_set.discard(h)
            return True
        return False

    def _evict_small(self, evicted: list[K]) -> None:
        node = self._small.popleft()
        if node.queue == _GONE:
            self._dead -= 1
            return
        self._small_bytes -= node.size
        if node.freq > 0:  # quick demotion: only objects hit while in small reach main
            node.queue = _MAIN
            node.freq = 0
            self._main.append(node)
            self._main_bytes += node.size
            return
        del self._nodes[node.key]
        evicted.append(node.key)
        self._remember_ghost(hash(node.key))

    def _evict_main(self, evicted: list[K]) -> None:
        node = self._main.popleft()
        if node.queue == _GONE:
            self._dead -= 1
            return
        if node.freq > 0:
            node.freq -= 1
            self._main.append(node)
            return
        self._main_bytes -= node.size
        del self._nodes[node.key]
        evicted.append(node.key)

    def _remember_ghost(self, h: int) -> None:
        if h in self._ghost_set:
            return
        self._ghost_set.add(h)
        self._ghost_fifo.append(h)
        limit = max(_MIN_GHOST, int(self._ghost_ratio * len(self._nodes)))
        while len(self._ghost_fifo) > limit:
            self._ghost_set.discard(self._ghost_fifo.popleft())

    def _compact(self) -> None:
        """Drop removed nodes from the queues so mass deletions do not leak memory."""
        self._small = deque(n for n in self._small if n.queue != _GONE)
        self._main = deque(n for n in self._main if n.queue != _GONE)
        self._dead = 0


class Lru(Generic[K]):
    """Byte-bounded LRU on an OrderedDict; the baseline the simulator compares against."""

    __slots__ = ("_capacity", "_sizes", "_used")

    def __init__(self, capacity_bytes: int) -> None:
        self._capacity = _check_capacity(capacity_bytes)
        self._sizes: OrderedDict[K, int] = OrderedDict()
        self._used = 0

    @property
    def capacity_bytes(self) -> int:
        return self._capacity

    @property
    def used_bytes(self) -> int:
        return self._used

    def __len__(self) -> int:
        return len(self._sizes)

    def __contains__(self, key: object) -> bool:
        return key in self._sizes

    def access(self, key: K) -> bool:
        try:
            self._sizes.move_to_end(key)
        except KeyError:
            return False
        return True

    def insert(self, key: K, size: int) -> list[K]:
        _check_size(size)
        self.remove(key)
        if size > self._capacity:
            return [key]
        evicted: list[K] = []
        while self._used + size > self._capacity:
            old, old_size = self._sizes.popitem(last=False)
            self._used -= old_size
            evicted.append(old)
        self._sizes[key] = size
        self._used += size
        return evicted

    def remove(self, key: K) -> None:
        size = self._sizes.pop(key, None)
        if size is not None:
            self._used -= size
