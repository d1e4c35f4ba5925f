"""The edge's storage tiers: memory (MemoryStore) over disk (DiskStore), joined by TieredStore."""

from openfront.edge.store.disk import DiskObject, DiskStore, DiskWriter
from openfront.edge.store.memory import MemoryObject, MemoryStore
from openfront.edge.store.tiered import TieredStore

__all__ = [
    "DiskObject",
    "DiskStore",
    "DiskWriter",
    "MemoryObject",
    "MemoryStore",
    "TieredStore",
]
