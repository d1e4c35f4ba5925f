"""Say yes to a hash the second time it comes by, so one-off keys never fill a memo.

A miss flood of distinct URLs, or a header unique to every request, would otherwise fill the
edge's memos with entries that are never used again: each costs hundreds of bytes and, allocated
between the misses' short-lived objects, keeps the heap from shrinking after they are freed.
"""

from __future__ import annotations

from array import array


class Doorkeeper:
    """A direct-mapped table of hashes seen once (an ``array``: no int object per entry).

    ``again(h)`` is True when ``h`` was the last hash recorded in its slot, else it records
    ``h`` and returns False. Two hashes sharing a slot push each other out: a repeated key may
    need a third sighting, never fewer than two.
    """

    __slots__ = ("_mask", "_seen")

    def __init__(self, size: int = 8192) -> None:
        if size <= 0 or size & (size - 1):
            raise ValueError(f"size must be a power of two, got {size}")
        self._mask = size - 1
        self._seen = array("q", bytes(8 * size))

    def again(self, h: int) -> bool:
        seen = self._seen
        slot = h & self._mask
        if seen[slot] == h:
            return True
        seen[slot] = h
        return False

    def clear(self) -> None:
        self._seen = array("q", bytes(8 * len(self._seen)))
