"""Hand the C heap's free pages back to the OS every so many stored objects.

A miss allocates short-lived objects (its request, fetch, origin response, spooled body) among
the long-lived ones the store and tables keep; once freed they leave holes that glibc keeps
mapped, so the edge's resident memory after a burst of misses stays at the burst's high-water
mark. ``malloc_trim(0)`` gives every free page back (``madvise``); it takes well under a
millisecond on an edge's heap, so calling it once per few thousand misses costs nothing a viewer
could notice. Where the C library has no ``malloc_trim`` (musl, macOS) nothing is done.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

EVERY = 4096  # stored objects between trims


def _malloc_trim() -> Callable[[], None] | None:
    try:
        fn = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int

    def trim() -> None:
        fn(0)

    return trim


class HeapTrimmer:
    """Counts stored objects and trims the heap after every ``every`` of them."""

    __slots__ = ("_left", "_trim", "every", "trims")

    def __init__(self, every: int = EVERY, trim: Callable[[], None] | None = None) -> None:
        if every <= 0:
            raise ValueError(f"every must be positive, got {every}")
        self.every = every
        self._left = every
        self._trim = trim if trim is not None else (_malloc_trim() or _nothing)
        self.trims = 0

    def stored(self) -> None:
        self._left -= 1
        if self._left <= 0:
            self._left = self.every
            self.trims += 1
            self._trim()


def _nothing() -> None:
    pass
