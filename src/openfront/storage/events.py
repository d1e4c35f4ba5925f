"""Object events from a managed store: `weed filer.meta.tail` on a bucket, turned into OpenFront
events (create/update/delete with bucket, key, size, ETag, region, version stamp), with a durable
offset so a restarted subscriber resumes where it stopped.

Delivery is at-least-once with de-duplication: the offset (the last delivered event's tsNs and
the ids delivered at that tsNs) is saved after the consumer took each event (temp file, fsync,
rename); a restart replays from a little before it (`-timeAgo`) and drops what it already
delivered. Events that filer.sync wrote (`isFromOtherCluster`) are marked `from_replication`, so
consumers can ignore echoes of another region's writes.

(gRPC SubscribeMetadata would avoid the child process, but needs grpcio and generated stubs
that the project does not ship; filer.meta.tail gives the same stream as JSON.)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import codecs
import contextlib
import json
import os
import subprocess
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from openfront.errors import StorageError
from openfront.stack.stackfile import write_json_atomic
from openfront.storage.versioning import VERSION_META

EventKind = Literal["create", "update", "delete"]
REPLAY_MARGIN_NS = 2_000_000_000  # resume this much before the offset; de-dup drops repeats
RESTART_DELAY = 1.0
MAX_RECORD_BYTES = 16 << 20
_VERSION_KEY = f"X-Amz-Meta-{VERSION_META.title()}"
_ETAG_KEY = "Seaweed-X-Amz-ETag"
_HIDDEN_DIRS = (".uploads",)  # multipart parts in flight, not objects


@dataclass(frozen=True, slots=True)
class ObjectEvent:
    kind: EventKind
    bucket: str
    key: str
    region: str  # the store that reported it
    ts_ns: int  # the filer's event time
    size: int = 0
    etag: str = ""
    version: str | None = None  # x-amz-meta-openfront-version
    content_type: str = ""
    from_replication: bool = False  # written by filer.sync: an echo of another region's write

    @property
    def id(self) -> str:
        return f"{self.ts_ns}:{self.kind}:{self.bucket}/{self.key}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _b64(value: object) -> str:
    if not isinstance(value, str):
        return ""
    try:
        return base64.b64decode(value, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return ""


def _etag(entry: Mapping[str, Any]) -> str:
    extended = entry.get("extended") or {}
    etag = _b64(extended.get(_ETAG_KEY))
    if etag:
        return etag.strip('"')
    md5 = (entry.get("attributes") or {}).get("md5") or ""
    with contextlib.suppress(binascii.Error, ValueError):
        return base64.b64decode(md5, validate=True).hex()
    return ""


def _version(entry: Mapping[str, Any]) -> str | None:
    extended = entry.get("extended") or {}
    for name, value in extended.items():
        if name.lower() == _VERSION_KEY.lower():
            return _b64(value) or None
    return None


def _object_path(directory: str, name: str) -> tuple[str, str] | None:
    """(bucket, key) for a file under /buckets/<bucket>/, None for anything else."""
    parts = directory.strip("/").split("/")
    if len(parts) < 2 or parts[0] != "buckets" or not name:
        return None
    bucket, folders = parts[1], parts[2:]
    if folders and folders[0] in _HIDDEN_DIRS:
        return None
    return bucket, "/".join([*folders, name])


def _event(
    kind: EventKind, directory: str, entry: Mapping[str, Any], region: str, ts: int, echo: bool
) -> ObjectEvent | None:
    if entry.get("isDirectory"):
        return None
    where = _object_path(directory, str(entry.get("name") or ""))
    if where is None:
        return None
    attributes = entry.get("attributes") or {}
    try:
        size = int(attributes.get("fileSize") or 0)
    except (TypeError, ValueError):
        size = 0
    return ObjectEvent(
        kind,
        where[0],
        where[1],
        region,
        ts,
        size,
        _etag(entry),
        _version(entry),
        str(attributes.get("mime") or ""),
        echo,
    )


def parse_record(record: Mapping[str, Any], region: str) -> list[ObjectEvent]:
    """The object events in one filer metadata record (a rename is a delete and a create)."""
    notification = record.get("eventNotification") or {}
    directory = str(record.get("directory") or "")
    try:
        ts = int(record.get("tsNs") or 0)
    except (TypeError, ValueError):
        return []
    old, new = notification.get("oldEntry"), notification.get("newEntry")
    echo = bool(notification.get("isFromOtherCluster"))
    new_dir = str(notification.get("newParentPath") or directory)
    events: list[ObjectEvent | None] = []
    if old and new and (new_dir != directory or old.get("name") != new.get("name")):
        events = [
            _event("delete", directory, old, region, ts, echo),
            _event("create", new_dir, new, region, ts, echo),
        ]
    elif old and new:
        events = [_event("update", directory, new, region, ts, echo)]
    elif new:
        events = [_event("create", new_dir, new, region, ts, echo)]
    elif old:
        events = [_event("delete", directory, old, region, ts, echo)]
    return [e for e in events if e is not None]


class RecordSplitter:
    """Splits filer.meta.tail's output (pretty-printed JSON objects, one after another)."""

    def __init__(self, limit: int = MAX_RECORD_BYTES) -> None:
        self._buffer = ""
        self._decoder = json.JSONDecoder()
        self._limit = limit

    def feed(self, text: str) -> Iterator[dict[str, Any]]:
        self._buffer += text
        while True:
            start = self._buffer.find("{")
            if start < 0:
                self._buffer = ""
                return
            try:
                record, end = self._decoder.raw_decode(self._buffer, start)
            except json.JSONDecodeError:
                if len(self._buffer) - start > self._limit:
                    # Not JSON we can ever finish: skip past this brace.
                    self._buffer = self._buffer[start + 1 :]
                    continue
                self._buffer = self._buffer[start:]
                return
            self._buffer = self._buffer[end:]
            if isinstance(record, dict):
                yield record


@dataclass
class Offset:
    """The last delivered event time and the ids delivered at exactly that time."""

    ts_ns: int = 0
    ids: list[str] = field(default_factory=list)

    def seen(self, event: ObjectEvent) -> bool:
        return event.ts_ns < self.ts_ns or (event.ts_ns == self.ts_ns and event.id in self.ids)

    def advance(self, event: ObjectEvent) -> None:
        if event.ts_ns > self.ts_ns:
            self.ts_ns, self.ids = event.ts_ns, [event.id]
        else:
            self.ids.append(event.id)


class OffsetFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Offset | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return Offset(int(data["ts_ns"]), [str(i) for i in data.get("ids", [])])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            # A torn file cannot happen (rename); a hand-edited one restarts from "now".
            return None

    def save(self, offset: Offset) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.path, {"ts_ns": offset.ts_ns, "ids": offset.ids})


def tail_command(
    weed: str, filer_address: str, bucket: str, since_ns: int | None, now_ns: int
) -> list[str]:
    argv = [weed, "filer.meta.tail", f"-filer={filer_address}", f"-pathPrefix=/buckets/{bucket}"]
    if since_ns is not None:
        ago_ms = max(1, (now_ns - since_ns) // 1_000_000)
        argv.append(f"-timeAgo={ago_ms}ms")
    return argv


EventCallback = Callable[[ObjectEvent], Awaitable[None] | None]


class EventSubscriber:
    """Object events of one bucket of one managed store, resumed from `offset_path`.

    `async for event in subscriber.events()` or `await subscriber.run(callback)`; the offset
    moves past an event once the consumer asks for the next one (or the callback returned).
    A subscriber without a saved offset starts at `start_ns` (default: now)."""

    def __init__(
        self,
        weed: str,
        filer_address: str,
        bucket: str,
        region: str,
        offset_path: Path,
        *,
        log_path: Path | None = None,
        start_ns: int | None = None,
        environ: Mapping[str, str] | None = None,
        on_offset: Callable[[Offset], None] | None = None,
    ) -> None:
        self.weed = weed
        self.filer_address = filer_address
        self.bucket = bucket
        self.region = region
        self.offsets = OffsetFile(offset_path)
        self.log_path = log_path
        self.start_ns = start_ns
        self.environ = dict(environ if environ is not None else os.environ)
        self.on_offset = on_offset  # called after each durable offset save

    async def events(self) -> AsyncGenerator[ObjectEvent, None]:
        offset = self.offsets.load()
        if offset is None:
            offset = Offset(self.start_ns if self.start_ns is not None else time.time_ns())
            self.offsets.save(offset)
        while True:
            since = max(0, offset.ts_ns - REPLAY_MARGIN_NS)
            # aclosing: when the consumer stops early, the tail process is reaped right away,
            # not by the garbage collector after the event loop has gone.
            async with contextlib.aclosing(self._tail(since)) as records:
                async for record in records:
                    for event in parse_record(record, self.region):
                        if event.bucket != self.bucket or offset.seen(event):
                            continue
                        yield event
                        offset.advance(event)
                        await asyncio.to_thread(self.offsets.save, offset)
                        if self.on_offset is not None:
                            self.on_offset(offset)
            await asyncio.sleep(RESTART_DELAY)  # the filer went away: tail again from the offset

    async def run(self, callback: EventCallback) -> None:
        async with contextlib.aclosing(self.events()) as events:
            async for event in events:
                result = callback(event)
                if result is not None:
                    await result

    async def _tail(self, since_ns: int) -> AsyncGenerator[dict[str, Any], None]:
        argv = tail_command(self.weed, self.filer_address, self.bucket, since_ns, time.time_ns())
        log = self.log_path.open("ab") if self.log_path is not None else None
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=log if log is not None else asyncio.subprocess.DEVNULL,
                # Same process group as the subscriber: a supervisor that kills the group
                # (even with SIGKILL, when no cleanup runs) takes the tail with it.
                env=self.environ,
            )
        finally:
            if log is not None:
                log.close()
        splitter = RecordSplitter()
        # Incremental: a read may end in the middle of a multi-byte character of a key.
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        assert process.stdout is not None
        try:
            while chunk := await process.stdout.read(65536):
                for record in splitter.feed(decoder.decode(chunk)):
                    yield record
        finally:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


def recorded_deletes(
    weed: str,
    filer_address: str,
    bucket: str,
    region: str,
    *,
    since_ns: int,
    now_ns: int,
    timeout: float = 60.0,
) -> dict[str, float]:
    """key -> time (epoch s) of its latest delete in the filer's metadata log since `since_ns`;
    a key deleted and then written again is left out. Reads history only, then returns."""
    argv = [*tail_command(weed, filer_address, bucket, since_ns, now_ns), "-untilTimeAgo=1ms"]
    try:
        done = subprocess.run(
            argv, capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        raise StorageError(
            f"reading deletes of {bucket} in {region} took over {timeout:g}s"
        ) from None
    deletes: dict[str, float] = {}
    for record in RecordSplitter().feed(done.stdout.decode("utf-8", errors="replace")):
        for event in parse_record(record, region):
            if event.bucket != bucket:
                continue
            if event.kind == "delete":
                deletes[event.key] = event.ts_ns / 1e9
            else:
                deletes.pop(event.key, None)
    return deletes
