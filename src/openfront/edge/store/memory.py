"""The memory tier: whole small bodies in a dict, bounded in bytes by S3-FIFO."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from openfront.cache.entry import EntryMeta
from openfront.cache.eviction import S3Fifo

# Charged per object on top of the body: index, EntryMeta and its header tuples (a typical stored
# response keeps ~10 headers, roughly 1 KiB of Python objects).
PER_OBJECT_OVERHEAD = 1024


@dataclass(slots=True)
class MemoryObject:
    meta: EntryMeta
    body: bytes


class MemoryStore:
    """Bytes-bounded map of key -> (meta, body); ``get`` counts as an access for eviction."""

    __slots__ = ("_objects", "_policy", "max_object_bytes")

    def __init__(self, capacity_bytes: int, max_object_bytes: int) -> None:
        if max_object_bytes < 0:
            raise ValueError(f"max_object_bytes must be >= 0, got {max_object_bytes}")
        self._policy: S3Fifo[bytes] = S3Fifo(capacity_bytes)
        self._objects: dict[bytes, MemoryObject] = {}
        self.max_object_bytes = max_object_bytes

    @property
    def capacity_bytes(self) -> int:
        return self._policy.capacity_bytes

    @property
    def used_bytes(self) -> int:
        return self._policy.used_bytes

    def __len__(self) -> int:
        return len(self._objects)

    def get(self, key: bytes) -> MemoryObject | None:
        obj = self._objects.get(key)
        if obj is not None:
            self._policy.access(key)
        return obj

    def put(self, key: bytes, meta: EntryMeta, body: bytes) -> None:
        """Store a whole body; raises ValueError for a body over ``max_object_bytes``."""
        if len(body) > self.max_object_bytes:
            raise ValueError(
                f"body of {len(body)} bytes exceeds max_object_bytes={self.max_object_bytes}"
            )
        evicted = self._policy.insert(key, len(body) + PER_OBJECT_OVERHEAD)
        for old in evicted:
            self._objects.pop(old, None)
        if key in self._policy:
            self._objects[key] = MemoryObject(meta, body)

    def delete(self, key: bytes) -> bool:
        self._policy.remove(key)
        return self._objects.pop(key, None) is not None

    def update_meta(self, key: bytes, meta: EntryMeta) -> None:
        obj = self._objects.get(key)
        if obj is not None:
            obj.meta = meta

    def keys(self) -> Iterator[bytes]:
        return iter(list(self._objects))

    def items_meta(self) -> Iterator[tuple[bytes, EntryMeta]]:
        return iter([(k, o.meta) for k, o in self._objects.items()])

    def delete_matching(self, pred: Callable[[EntryMeta], bool]) -> int:
        doomed = [k for k, o in self._objects.items() if pred(o.meta)]
        for key in doomed:
            self.delete(key)
        return len(doomed)
