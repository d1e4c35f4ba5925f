"""CloudFront standard access logs: W3C extended, 33 tab-separated fields (guide §1.17).

The hot path only appends a raw tuple (`AccessLog.record`). `flush()`, called from a 1 s timer on
the event loop, swaps the pending list and hands it to one writer thread, which formats, writes,
rotates and gzips, so the event loop never waits on the disk.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import os
import queue
import secrets
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

FIELDS: tuple[str, ...] = tuple(
    """date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer)
    cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header
    cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher
    x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port
    time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start
    sc-range-end""".split()
)
# The 32 raw values `AccessLog.record` takes, in order; `ts` (epoch seconds) becomes date and time.
RECORD_FIELDS: tuple[str, ...] = tuple(
    """ts edge_location sc_bytes c_ip cs_method cs_host cs_uri_stem sc_status referer user_agent
    uri_query cookie edge_result_type request_id host_header cs_protocol cs_bytes time_taken
    x_forwarded_for ssl_protocol ssl_cipher edge_response_result_type protocol_version fle_status
    fle_encrypted_fields c_port time_to_first_byte detailed_result_type content_type content_len
    range_start range_end""".split()
)
RAW_FIELD_COUNT = len(RECORD_FIELDS)
HEADER = f"#Version: 1.0\n#Fields: {' '.join(FIELDS)}\n"
_STATUS_INDEX = FIELDS.index("sc-status") - 1

# CloudFront's list of characters it URL-encodes, on top of controls, DEL and non-ASCII.
_UNSAFE = set(range(33)) | {127} | {ord(c) for c in "<>\"#%{}|\\^~[]`' "}
_BYTE_ESCAPE: tuple[str, ...] = tuple(
    f"%{b:02X}" if b in _UNSAFE or b >= 128 else chr(b) for b in range(256)
)
_ASCII_ESCAPE: dict[int, str] = {b: f"%{b:02X}" for b in _UNSAFE}

# A batch that cannot be queued stays pending; beyond this many records the oldest are dropped so
# a stuck disk cannot grow the edge's memory without bound.
MAX_PENDING_RECORDS = 1_000_000
_QUEUE_BATCHES = 64

_Record = tuple[Any, ...]


def encode_value(value: object) -> str:
    """One field as CloudFront writes it: `-` for empty, unsafe bytes as %XX."""
    if value is None or value == "" or value == b"":
        return "-"
    if isinstance(value, str):
        if value.isascii():
            return value.translate(_ASCII_ESCAPE)
        return "".join([_BYTE_ESCAPE[b] for b in value.encode("utf-8", "surrogatepass")])
    if isinstance(value, bytes | bytearray | memoryview):
        return "".join([_BYTE_ESCAPE[b] for b in bytes(value)])
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, int):
        return str(value)
    return encode_value(str(value))


def format_record(rec: _Record) -> str:
    """One log line (without the newline) from the 32 raw values in `AccessLog.record` order."""
    if len(rec) != RAW_FIELD_COUNT:
        raise ValueError(f"access log record has {len(rec)} values, expected {RAW_FIELD_COUNT}")
    ts = rec[0]
    if not isinstance(ts, int | float):
        raise TypeError(f"access log timestamp must be a number, got {type(ts).__name__}")
    stamp = time.strftime("%Y-%m-%d\t%H:%M:%S", time.gmtime(ts))
    status = rec[_STATUS_INDEX]
    parts = [encode_value(v) for v in rec[1:]]
    if isinstance(status, int) and not isinstance(status, bool):
        # CloudFront writes 000 when the viewer hung up before the response.
        parts[_STATUS_INDEX - 1] = f"{status:03d}"
    return stamp + "\t" + "\t".join(parts)


class _OpenFile:
    __slots__ = ("fh", "hour", "opened", "path", "size")

    def __init__(self, path: Path, fh: IO[bytes], opened: float) -> None:
        self.path = path
        self.fh = fh
        self.opened = opened
        self.hour = int(opened // 3600)
        self.size = 0


class _Writer:
    """Runs in the writer thread only: owns the open file, rotation and gzip."""

    def __init__(self, log_: AccessLog) -> None:
        self.cfg = log_
        self.current: _OpenFile | None = None

    def write_batch(self, batch: list[_Record]) -> None:
        now = self.cfg.clock()
        self.rotate_if_due(now)
        lines: list[bytes] = []
        pending = 0
        for rec in batch:
            try:
                line = (format_record(rec) + "\n").encode("ascii")
            except (TypeError, ValueError) as exc:
                self.cfg.malformed += 1
                log.warning("access log: skipped a malformed record: %s", exc)
                continue
            lines.append(line)
            pending += len(line)
            if self.size_with(pending) >= self.cfg.rotate_bytes:
                self.write_lines(lines, now)
                lines, pending = [], 0
                self.rotate()
        if lines:
            self.write_lines(lines, now)

    def size_with(self, extra: int) -> int:
        return (self.current.size if self.current else len(HEADER)) + extra

    def write_lines(self, lines: list[bytes], now: float) -> None:
        f = self.current or self.open(now)
        data = b"".join(lines)
        f.fh.write(data)
        f.fh.flush()
        f.size += len(data)
        self.cfg.written += len(lines)

    def rotate_if_due(self, now: float) -> None:
        f = self.current
        if f is None:
            return
        if now - f.opened >= self.cfg.rotate_seconds or int(now // 3600) != f.hour:
            self.rotate()

    def open(self, now: float) -> _OpenFile:
        stamp = time.strftime("%Y-%m-%d-%H", time.gmtime(now))
        while True:
            path = self.cfg.directory / f"{self.cfg.distribution_id}.{stamp}.{secrets.token_hex(4)}"
            if path.with_name(path.name + ".gz").exists():
                continue
            try:
                fh = open(path, "xb")
            except FileExistsError:
                continue
            break
        f = _OpenFile(path, fh, now)
        fh.write(HEADER.encode("ascii"))
        f.size = len(HEADER)
        self.current = f
        return f

    def abandon(self) -> None:
        f, self.current = self.current, None
        if f is not None:
            with contextlib.suppress(OSError):
                f.fh.close()

    def rotate(self) -> None:
        f, self.current = self.current, None
        if f is None:
            return
        f.fh.close()
        if self.cfg.gzip_on_rotate:
            gzip_file(f.path)
        self.cfg.rotated.append(f.path)


def gzip_file(path: Path) -> Path:
    """Compress `path` to `path.gz` (via a temp name, so readers never see half a file)."""
    final = path.with_name(path.name + ".gz")
    tmp = path.with_name(path.name + ".gz.tmp")
    with open(path, "rb") as src, gzip.open(tmp, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    os.replace(tmp, final)
    path.unlink()
    return final


class AccessLog:
    """Collects raw records on the event loop and writes them from a single writer thread.

    `record`, `flush` and `close` must be called from one thread (the event loop's).
    """

    def __init__(
        self,
        directory: Path,
        distribution_id: str,
        *,
        rotate_bytes: int,
        rotate_seconds: float,
        gzip_on_rotate: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not distribution_id or "/" in distribution_id or distribution_id.startswith("."):
            raise ValueError(f"bad distribution id for a log file name: {distribution_id!r}")
        if rotate_bytes <= 0 or rotate_seconds <= 0:
            raise ValueError("rotate_bytes and rotate_seconds must be positive")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.distribution_id = distribution_id
        self.rotate_bytes = rotate_bytes
        self.rotate_seconds = rotate_seconds
        self.gzip_on_rotate = gzip_on_rotate
        self.clock = clock
        # Counters for the edge's metrics; each is written by one thread only.
        self.written = 0  # writer thread
        self.malformed = 0  # writer thread
        self.write_errors = 0  # writer thread
        self.dropped = 0  # event loop
        self.rotated: deque[Path] = deque(maxlen=256)
        self._pending: list[_Record] = []
        self._queue: queue.Queue[list[_Record] | None] = queue.Queue(_QUEUE_BATCHES)
        self._closed = False
        self._writer = _Writer(self)
        self._thread = threading.Thread(
            target=self._run, name=f"openfront-accesslog-{distribution_id}", daemon=True
        )
        self._thread.start()

    def record(self, rec: _Record) -> None:
        """Hot path: queue one record of 32 raw values in `RECORD_FIELDS` order."""
        self._pending.append(rec)

    def flush(self) -> None:
        """Hand the pending records to the writer thread; never blocks."""
        if self._closed:
            return
        batch, self._pending = self._pending, []
        try:
            self._queue.put_nowait(batch)
        except queue.Full:
            batch.extend(self._pending)
            excess = len(batch) - MAX_PENDING_RECORDS
            if excess > 0:
                del batch[:excess]
                self.dropped += excess
            self._pending = batch

    def sync(self) -> None:
        """Flush and block until the writer has written everything (tests, shutdown)."""
        if self._closed:
            return
        batch, self._pending = self._pending, []
        self._queue.put(batch)
        self._queue.join()

    def close(self) -> None:
        """Write every pending record, rotate the open file and stop the writer thread."""
        if self._closed:
            return
        batch, self._pending = self._pending, []
        self._closed = True
        self._queue.put(batch)
        self._queue.put(None)
        self._thread.join()

    def __enter__(self) -> AccessLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def current_path(self) -> Path | None:
        f = self._writer.current
        return f.path if f else None

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            try:
                if batch is None:
                    self._writer.rotate()
                    return
                self._writer.write_batch(batch)
            except OSError:
                log.exception("access log: write failed in %s", self.directory)
                self.write_errors += 1
                self._writer.abandon()
            finally:
                self._queue.task_done()


def _open_text(path: Path) -> IO[str]:
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="ascii", newline="\n")
    return open(path, encoding="ascii", newline="\n")


def decode_value(value: str) -> str:
    """Undo `encode_value` for a string field: `-` is empty, %XX are UTF-8 bytes."""
    if value == "-":
        return ""
    if "%" not in value:
        return value
    out = bytearray()
    i, n = 0, len(value)
    while i < n:
        c = value[i]
        if c == "%" and _is_hex(value[i + 1 : i + 3]):
            out.append(int(value[i + 1 : i + 3], 16))
            i += 3
        else:
            out += c.encode("utf-8")
            i += 1
    return out.decode("utf-8", "replace")


def _is_hex(s: str) -> bool:
    return len(s) == 2 and all(c in "0123456789abcdefABCDEF" for c in s)


def read_log(path: Path, *, decode: bool = False) -> list[dict[str, str]]:
    """Parse a log file (plain or gzip) into one dict per line, keyed by field name."""
    with _open_text(Path(path)) as fh:
        return parse_lines(fh, decode=decode, source=str(path))


def parse_lines(
    lines: Iterable[str], *, decode: bool = False, source: str = "<log>"
) -> list[dict[str, str]]:
    it = iter(lines)
    version = next(it, "").rstrip("\n")
    fields_line = next(it, "").rstrip("\n")
    if version != "#Version: 1.0" or not fields_line.startswith("#Fields: "):
        raise ValueError(f"{source}: not a W3C access log (missing #Version/#Fields header)")
    names = fields_line[len("#Fields: ") :].split(" ")
    rows: list[dict[str, str]] = []
    for lineno, line in enumerate(it, start=3):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        values = line.split("\t")
        if len(values) != len(names):
            raise ValueError(f"{source}:{lineno}: {len(values)} fields, expected {len(names)}")
        if decode:
            values = [decode_value(v) for v in values]
        rows.append(dict(zip(names, values, strict=True)))
    return rows
