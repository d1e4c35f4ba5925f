"""Memory over disk: lookups try memory first and promote small disk hits into memory."""

from __future__ import annotations

from collections.abc import Callable

from openfront.cache.entry import EntryMeta
from openfront.edge.store.arena import ArenaStore
from openfront.edge.store.disk import DiskObject, DiskStore
from openfront.edge.store.memory import MemoryObject, MemoryStore


class TieredStore:
    """Read-side glue of the tiers; the edge writes through to both itself."""

    __slots__ = ("disk", "memory")

    def __init__(self, memory: ArenaStore | MemoryStore, disk: DiskStore | None) -> None:
        self.memory = memory
        self.disk = disk

    def get(self, key: bytes) -> MemoryObject | DiskObject | None:
        """Memory first; a disk hit small enough for memory is read once and promoted."""
        obj = self.memory.get(key)
        if obj is not None or self.disk is None:
            return obj
        found = self.disk.get(key)
        if found is None or found.size > self.memory.max_object_bytes:
            return found
        with found:
            body = found.read()
        self.memory.put(key, found.meta, body)
        return MemoryObject(found.meta, body)

    def delete(self, key: bytes) -> bool:
        in_memory = self.memory.delete(key)
        on_disk = self.disk.delete(key) if self.disk is not None else False
        return in_memory or on_disk

    def update_meta(self, key: bytes, meta: EntryMeta) -> None:
        self.memory.update_meta(key, meta)
        if self.disk is not None:
            self.disk.update_meta(key, meta)

    def delete_matching(self, pred: Callable[[EntryMeta], bool], *, scan_disk: bool = False) -> int:
        """Objects removed from either tier (one counted once per tier it was in)."""
        n = self.memory.delete_matching(pred)
        if self.disk is not None:
            n += self.disk.delete_matching(pred, scan_disk=scan_disk)
        return n
