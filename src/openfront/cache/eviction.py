"""Byte-bounded eviction policies over opaque hashable keys.

``S3Fifo`` follows Yang et al., "FIFO queues are all you need for cache eviction" (SOSP'23): a small
FIFO that demotes one-hit wonders quickly, a main FIFO with a 2-bit frequency and reinsertion, and a
ghost FIFO of keys recently evicted from the small queue. ``Lru`` is the comparison baseline.

``S3FifoCore`` is the algorithm over caller-made nodes (``FifoNode``); ``S3Fifo`` wraps it for
opaque keys and sizes. ``S3Fifo`` and ``Lru`` share one interface: ``access(key) -> bool``,
``insert(key, size) -> evicted keys``, ``remove(key)``, ``__contains__``, ``__len__``,
``used_bytes``, ``capacity_bytes``.
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
_FREQ_MASK = 3
_QUEUE_SHIFT = 2
_MIN_GHOST = 64
_GHOST_MASK = (1 << 60) - 1


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


class FifoNode:
    """What S3-FIFO tracks per object: its key and ``queue << 2 | freq`` in one small int.

    Subclasses say what the object costs (``charge``); the memory tier's entries are nodes
    themselves, so an object and its place in the queues are one Python object. A node is
    admitted once: after a removal it stays in its queue flagged gone until popped or compacted.
    """

    __slots__ = ("key", "state")

    key: Hashable
    state: int

    def charge(self) -> int:
        raise NotImplementedError


class _SizedNode(FifoNode):
    __slots__ = ("size",)

    def __init__(self, key: Hashable, size: int) -> None:
        self.key = key
        self.state = 0
        self.size = size

    def charge(self) -> int:
        return self.size


N = TypeVar("N", bound=FifoNode)


class S3FifoCore(Generic[N]):
    """S3-FIFO over nodes: small FIFO, main FIFO with reinsertion, ghost FIFO of key hashes.

    ``nodes`` maps each tracked key to its node; it is the owner's index too (the memory tier
    looks objects up in it directly). The ghost holds at most ``ghost_ratio`` x tracked objects
    (at least 64).
    """

    __slots__ = (
        "_capacity",
        "_dead",
        "_ghost_fifo",
        "_ghost_ratio",
        "_ghost_set",
        "_main",
        "_main_bytes",
        "_small",
        "_small_bytes",
        "_small_target",
        "nodes",
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
        self.nodes: dict[Hashable, N] = {}
        self._small: deque[N] = deque()
        self._main: deque[N] = deque()
        self._small_bytes = 0
        self._main_bytes = 0
        self._dead = 0  # removed nodes still sitting in a queue
        # Ghost entries are key hashes cut to 60 bits (two-digit ints, 32 bytes each): a
        # collision only admits one object to main early.
        self._ghost_fifo: deque[int] = deque()
        self._ghost_set: set[int] = set()

    @property
    def capacity_bytes(self) -> int:
        return self._capacity

    @property
    def used_bytes(self) -> int:
        return self._small_bytes + self._main_bytes

    def __len__(self) -> int:
        return len(self.nodes)

    def __contains__(self, key: object) -> bool:
        return key in self.nodes

    @staticmethod
    def touch(node: N) -> None:
        """Count an access (the frequency saturates at 3)."""
        state = node.state
        if state & _FREQ_MASK != _MAX_FREQ:
            node.state = state + 1

    def admit(self, node: N) -> list[N]:
        """Track a new node (replacing any node of its key); returns the nodes evicted for it.

        A node charging more than the whole capacity is not admitted and comes back evicted.
        """
        key = node.key
        if key in self.nodes:
            self.discard(key)
        size = node.charge()
        _check_size(size)
        if size > self._capacity:
            return [node]
        to_main = self._seen_recently(key)
        evicted: list[N] = []
        self._make_room(size, evicted)
        if to_main:
            node.state = _MAIN << _QUEUE_SHIFT
            self._main.append(node)
            self._main_bytes += size
        else:
            node.state = _SMALL << _QUEUE_SHIFT
            self._small.append(node)
            self._small_bytes += size
        self.nodes[key] = node
        return evicted

    def recharge(self, node: N, old_size: int) -> list[N]:
        """A tracked node's charge changed from ``old_size``; returns the nodes evicted for it."""
        delta = node.charge() - old_size
        if node.state >> _QUEUE_SHIFT == _SMALL:
            self._small_bytes += delta
        else:
            self._main_bytes += delta
        evicted: list[N] = []
        if delta > 0:
            self._make_room(0, evicted)
        return evicted

    def discard(self, key: Hashable) -> N | None:
        node = self.nodes.pop(key, None)
        if node is None:
            return None
        if node.state >> _QUEUE_SHIFT == _SMALL:
            self._small_bytes -= node.charge()
        else:
            self._main_bytes -= node.charge()
        node.state = _GONE << _QUEUE_SHIFT
        self._dead += 1
        if self._dead > 64 and self._dead > len(self.nodes):
            self._compact()
        return node

    def _make_room(self, size: int, evicted: list[N]) -> None:
        while self._small_bytes + self._main_bytes + size > self._capacity:
            if self._small_bytes > self._small_target or not self._main_bytes:
                if not self._small:
                    return  # only a recharged node over the capacity is left: nothing to drop
                self._evict_small(evicted)
            else:
                self._evict_main(evicted)

    def _seen_recently(self, key: Hashable) -> bool:
        h = hash(key) & _GHOST_MASK
        if h in self._ghost_set:
            self._ghost_set.discard(h)
            return True
        return False

    def _evict_small(self, evicted: list[N]) -> None:
        node = self._small.popleft()
        state = node.state
        if state >> _QUEUE_SHIFT == _GONE:
            self._dead -= 1
            return
        size = node.charge()
        self._small_bytes -= size
        if state & _FREQ_MASK:  # quick demotion: only objects hit while in small reach main
            node.state = _MAIN << _QUEUE_SHIFT
            self._main.append(node)
            self._main_bytes += size
            return
        del self.nodes[node.key]
        evicted.append(node)
        self._remember_ghost(hash(node.key) & _GHOST_MASK)

    def _evict_main(self, evicted: list[N]) -> None:
        node = self._main.popleft()
        state = node.state
        if state >> _QUEUE_SHIFT == _GONE:
            self._dead -= 1
            return
        if state & _FREQ_MASK:
            node.state = state - 1
            self._main.append(node)
            return
        self._main_bytes -= node.charge()
        del self.nodes[node.key]
        evicted.append(node)

    def _remember_ghost(self, h: int) -> None:
        if h in self._ghost_set:
            return
        self._ghost_set.add(h)
        self._ghost_fifo.append(h)
        limit = max(_MIN_GHOST, int(self._ghost_ratio * len(self.nodes)))
        while len(self._ghost_fifo) > limit:
            self._ghost_set.discard(self._ghost_fifo.popleft())

    def _compact(self) -> None:
        """Drop removed nodes from the queues so mass deletions do not leak memory."""
        gone = _GONE << _QUEUE_SHIFT
        self._small = deque(n for n in self._small if n.state != gone)
        self._main = deque(n for n in self._main if n.state != gone)
        self._dead = 0


class S3Fifo(Generic[K]):
    """S3-FIFO over opaque keys and byte sizes (the simulator's and the disk tier's interface).

    Variants tried in the trace simulator and dropped because they did not lower the byte miss
    ratio: large objects bypassing small, a move-to-main threshold of 2, a count-min miss sketch
    in place of the ghost (docs/cache-storage.md has the numbers).
    """

    __slots__ = ("_core",)

    def __init__(
        self,
        capacity_bytes: int,
        *,
        small_ratio: float = 0.1,
        ghost_ratio: float = 0.9,
    ) -> None:
        self._core: S3FifoCore[_SizedNode] = S3FifoCore(
            capacity_bytes, small_ratio=small_ratio, ghost_ratio=ghost_ratio
        )

    @property
    def capacity_bytes(self) -> int:
        return self._core.capacity_bytes

    @property
    def used_bytes(self) -> int:
        return self._core.used_bytes

    def __len__(self) -> int:
        return len(self._core.nodes)

    def __contains__(self, key: object) -> bool:
        return key in self._core.nodes

    def access(self, key: K) -> bool:
        node = self._core.nodes.get(key)
        if node is None:
            return False
        S3FifoCore.touch(node)
        return True

    def insert(self, key: K, size: int) -> list[K]:
        _check_size(size)
        evicted = self._core.admit(_SizedNode(key, size))
        return [n.key for n in evicted]  # type: ignore[misc]  # nodes carry the caller's keys

    def remove(self, key: K) -> None:
        self._core.discard(key)


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
