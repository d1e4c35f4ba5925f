"""The edge's storage tiers: memory (ArenaStore or MemoryStore) over disk (DiskStore), joined by
TieredStore."""

from openfront.edge.store.arena import ArenaEntry, ArenaStore
from openfront.edge.store.disk import DiskObject, DiskStore, DiskWriter
from openfront.edge.store.memory import Entry, MemoryObject, MemoryStore
from openfront.edge.store.tiered import TieredStore

MemoryTier = ArenaStore | MemoryStore
StoredEntry = ArenaEntry | Entry


def memory_tier(layout: str, capacity_bytes: int, max_object_bytes: int) -> MemoryTier:
    """The memory tier of ``cache.memory_layout`` (docs/cache-storage.md, "Memory tier")."""
    if layout == "objects":
        return MemoryStore(capacity_bytes, max_object_bytes)
    return ArenaStore(capacity_bytes, max_object_bytes)


__all__ = [
    "ArenaEntry",
    "ArenaStore",
    "DiskObject",
    "DiskStore",
    "DiskWriter",
    "Entry",
    "MemoryObject",
    "MemoryStore",
    "MemoryTier",
    "StoredEntry",
    "TieredStore",
    "memory_tier",
]
