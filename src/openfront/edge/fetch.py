"""One in-flight origin fetch shared by every viewer that wants the same key (request collapsing).

The fetch reads from the origin at the origin's pace, independent of any viewer, into a body
spool: a list of chunks in memory for small bodies, a file for large ones (the disk tier's temp
file when there is a disk tier). Each waiting viewer reads from the spool at its own offset and
pace, so a slow viewer never slows the origin read nor holds the whole object in memory.
"""

from __future__ import annotations

import asyncio
import bisect
import os
import tempfile
from enum import Enum
from typing import TYPE_CHECKING

from openfront.cache.entry import EntryMeta

if TYPE_CHECKING:
    from openfront.edge.origin import OriginResponse
    from openfront.edge.request import Request


class FetchState(Enum):
    PENDING = "pending"  # waiting for the origin's response head
    STREAMING = "streaming"  # shareable body arriving
    DONE = "done"  # body complete; the object is (being) stored
    NOT_MODIFIED = "not_modified"  # revalidation answered 304
    PASS = "pass"  # the response is not shareable: each viewer must fetch on its own
    FAILED = "failed"  # origin error or truncated body


class BodySpool:
    """Bytes appended once, read many times at any offset without copying."""

    __slots__ = (
        "_backing",
        "_chunks",
        "_fd",
        "_limit",
        "_offsets",
        "_owns_fd",
        "_size",
        "spill_dir",
    )

    def __init__(
        self, memory_limit: int, spill_dir: str | None, backing_fd: int | None = None
    ) -> None:
        self._chunks: list[bytes] = []
        self._offsets: list[int] = []
        self._size = 0
        self._limit = memory_limit
        self._fd: int | None = None
        self._owns_fd = False
        # A file the same bytes are already written to (the disk tier's temp file): past the
        # memory limit, reads come from it instead of from a second copy.
        self._backing = backing_fd
        self.spill_dir = spill_dir

    @property
    def size(self) -> int:
        return self._size

    @property
    def in_memory(self) -> bool:
        return self._fd is None

    def append(self, data: bytes) -> None:
        if self._fd is None:
            if self._size + len(data) <= self._limit:
                self._offsets.append(self._size)
                self._chunks.append(data)
                self._size += len(data)
                return
            self._spill()
        if self._owns_fd:
            assert self._fd is not None
            os.pwrite(self._fd, data, self._size)
        self._size += len(data)

    def _spill(self) -> None:
        if self._backing is not None:
            self._fd = self._backing
            self._chunks = []
            self._offsets = []
            return
        fd, path = tempfile.mkstemp(prefix="spool-", dir=self.spill_dir)
        os.unlink(path)
        pos = 0
        for c in self._chunks:
            os.pwrite(fd, c, pos)
            pos += len(c)
        self._fd = fd
        self._owns_fd = True
        self._chunks = []
        self._offsets = []

    def read(self, pos: int, n: int) -> bytes | memoryview:
        """Up to n bytes from pos (fewer at a chunk boundary); b"" past the end."""
        if pos >= self._size or n <= 0:
            return b""
        if self._fd is not None:
            return os.pread(self._fd, min(n, 1 << 18, self._size - pos), pos)
        i = bisect.bisect_right(self._offsets, pos) - 1
        chunk = self._chunks[i]
        off = pos - self._offsets[i]
        if off == 0 and len(chunk) <= n:
            return chunk
        return memoryview(chunk)[off : off + n]

    def body(self) -> bytes:
        """The whole body, for the memory tier (one copy, once per stored object)."""
        if self._fd is not None:
            return os.pread(self._fd, self._size, 0)
        if len(self._chunks) == 1:
            return self._chunks[0]
        return b"".join(self._chunks)

    def close(self) -> None:
        # Both the spill file and the backing descriptor (a dup of the disk writer's) are ours.
        for fd in {self._fd, self._backing} - {None}:
            assert fd is not None
            os.close(fd)
        self._fd = None
        self._backing = None
        self._owns_fd = False
        self._chunks = []
        self._offsets = []


class Fetch:
    """The shared state of one collapsed origin fetch."""

    __slots__ = (
        "_progress",
        "background",
        "committed",
        "error",
        "key",
        "meta",
        "origin_status",
        "pass_response",
        "result",
        "spool",
        "state",
        "status",
        "task",
        "total",
        "vary_request",
        "waiters",
    )

    def __init__(self, key: bytes, spool: BodySpool) -> None:
        self.key = key
        self.spool = spool
        self.state = FetchState.PENDING
        self.meta: EntryMeta | None = None
        self.status = 0
        self.origin_status = 0
        self.total: int | None = None
        self.error: BaseException | None = None
        self.waiters = 0
        self.result = "Miss"
        self.task: asyncio.Task[None] | None = None
        self._progress: asyncio.Future[None] | None = None
        self.background = False  # a stale-while-revalidate refresh: no viewer waits on it
        self.committed = False  # the fetch task has finished (stored or not)
        self.vary_request: Request | None = None  # the request that started it
        self.pass_response: OriginResponse | None = None  # a response only one viewer may have

    def take_pass_response(self) -> OriginResponse | None:
        resp = self.pass_response
        self.pass_response = None
        return resp

    @property
    def received(self) -> int:
        return self.spool.size

    async def wait_progress(self) -> None:
        fut = self._progress
        if fut is None:
            fut = self._progress = asyncio.get_running_loop().create_future()
        await asyncio.shield(fut)

    def notify(self) -> None:
        fut = self._progress
        self._progress = None
        if fut is not None and not fut.done():
            fut.set_result(None)

    def set_state(self, state: FetchState, error: BaseException | None = None) -> None:
        self.state = state
        if error is not None:
            self.error = error
        self.notify()
