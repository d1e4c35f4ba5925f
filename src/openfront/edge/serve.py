"""Writing a response from a stored object or from an in-flight fetch: full, 304/412, ranges.

A stored object's header block is serialised once (EntryMeta.wire); a hit writes the status
line, that block, the few per-request fields and the body as one writelines() call.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, replace

from openfront.cache.entry import EntryMeta
from openfront.cache.response_headers import (
    CacheState,
    Edit,
    EditedHead,
    ResponseHeadersPolicy,
    cors_fields,
    edit_fields,
    generated_fields,
    server_timing_value,
    server_timing_wanted,
)
from openfront.edge.fetch import Fetch, FetchState
from openfront.edge.protocol import Connection
from openfront.edge.request import Request
from openfront.edge.respond import serialise, status_line
from openfront.errors import OriginError
from openfront.http.conditional import Precondition, evaluate_preconditions, if_range_ok
from openfront.http.dates import HttpDateCache
from openfront.http.headers import first_value
from openfront.http.ranges import (
    ByteRanges,
    IgnoreRange,
    Unsatisfiable,
    content_range,
    multipart_plan,
    parse_range,
    unsatisfied_content_range,
)

# RFC 9110 §15.4.5: a 304 carries these if a 200 would have.
_NOT_MODIFIED_FIELDS = frozenset(
    {"cache-control", "content-location", "date", "etag", "expires", "vary", "last-modified"}
)
_CHUNK = 1 << 18


@dataclass(slots=True)
class Plan:
    """What to send for one request against one representation of known size."""

    status: int
    extra: bytes  # extra header lines (Content-Range, ...)
    length: int  # Content-Length of the response body
    ranges: tuple[tuple[int, int], ...]  # byte spans of the representation to send, in order
    parts: tuple[tuple[bytes, int, int], ...] = ()  # multipart part heads, with their spans
    closing: bytes = b""
    replace_type: str | None = None  # multipart/byteranges Content-Type
    body: bool = True


def wire(meta: EntryMeta) -> bytes:
    """The stored header block as sent on the wire."""
    if meta.wire:
        return meta.wire
    if meta.head:
        # A compacted entry keeps only its head: drop the status line and Content-Length line.
        start = meta.head.index(b"\r\n") + 2
        cl = content_length(meta.status, meta.body_size)
        return meta.head[start : len(meta.head) - len(cl)]
    w = meta.wire = serialise(meta.headers)
    return w


def fields(meta: EntryMeta) -> tuple[tuple[str, str], ...]:
    """The stored header fields; parsed back from the head of a compacted entry."""
    if meta.headers or not meta.head:
        return meta.headers
    out = []
    for line in wire(meta).decode("latin-1").split("\r\n"):
        if line:
            name, _, value = line.partition(": ")
            out.append((name, value))
    return tuple(out)


def validators(meta: EntryMeta) -> tuple[str | None, str | None]:
    """ETag and Last-Modified, read back from the head of a compacted entry."""
    if meta.headers or not meta.head:
        return meta.etag, meta.last_modified
    etag = last_modified = None
    for name, value in fields(meta):
        low = name.lower()
        if low == "etag":
            etag = value
        elif low == "last-modified":
            last_modified = value
    return etag, last_modified


def expand(meta: EntryMeta) -> EntryMeta:
    """The full form of a compacted entry (for revalidation and the disk tier)."""
    if meta.headers or not meta.head:
        return meta
    etag, last_modified = validators(meta)
    return replace(meta, headers=fields(meta), etag=etag, last_modified=last_modified)


def compact(meta: EntryMeta) -> EntryMeta:
    """A copy for the memory tier holding its headers once, as the serialised head.

    ETag and Last-Modified live only in the head too; :func:`validators` and :func:`expand`
    read them back on the rare paths that need them.
    """
    head = meta.head or full_head(meta)
    t = meta.response_time
    # Times the memory tier never reads again share one float object (24 bytes each otherwise).
    return replace(
        meta,
        headers=(),
        wire=b"",
        head=head,
        etag=None,
        last_modified=None,
        request_time=t,
        stored_at=t,
        stale_while_revalidate=meta.stale_while_revalidate or _ZERO,
        stale_if_error=meta.stale_if_error or _ZERO,
    )


_ZERO = 0.0


def plan_response(req: Request, meta: EntryMeta, size: int | None, max_ranges: int) -> Plan:
    """Decide status and byte spans: conditionals first (RFC 9110 §13.2.2), then Range."""
    head = req.method == "HEAD"
    if not req.conditional:
        return Plan(meta.status, b"", size or 0, ((0, size - 1),) if size else (), body=not head)
    etag, last_modified = validators(meta)
    if meta.status == 200 or meta.status == 206:
        pre = evaluate_preconditions(
            req.method,
            if_match=req.header("if-match"),
            if_none_match=req.header("if-none-match"),
            if_modified_since=req.header("if-modified-since"),
            if_unmodified_since=req.header("if-unmodified-since"),
            etag=etag,
            last_modified=last_modified,
        )
        if pre is Precondition.NOT_MODIFIED:
            return Plan(304, b"", 0, (), body=False)
        if pre is Precondition.FAILED:
            return Plan(412, b"", 0, (), body=False)
    full = Plan(meta.status, b"", size or 0, ((0, size - 1),) if size else (), body=not head)
    rng = req.header("range")
    # RFC 9110 §14.2: Range is defined for GET only; a HEAD gets the whole representation's head.
    if rng is None or size is None or meta.status != 200 or req.method != "GET":
        return full
    if_range = req.header("if-range")
    if if_range is not None and not if_range_ok(if_range, etag, last_modified):
        return full
    parsed = parse_range(rng, size, max_ranges=max_ranges)
    if isinstance(parsed, IgnoreRange):
        return full
    if isinstance(parsed, Unsatisfiable):
        extra = f"Content-Range: {unsatisfied_content_range(size)}\r\n".encode()
        return Plan(416, extra, 0, (), body=False)
    assert isinstance(parsed, ByteRanges)
    spans = parsed.ranges
    if len(spans) == 1:
        first, last = spans[0]
        extra = f"Content-Range: {content_range(first, last, size)}\r\n".encode()
        return Plan(206, extra, last - first + 1, spans, body=not head)
    ctype = first_value(fields(meta), "content-type")
    boundary = os.urandom(12).hex()
    mp = multipart_plan(spans, size, ctype, boundary)
    return Plan(
        206,
        b"",
        mp.content_length,
        spans,
        parts=mp.parts,
        closing=mp.closing,
        replace_type=mp.content_type,
        body=not head,
    )


def content_length(status: int, length: int) -> bytes:
    """The Content-Length line, absent where RFC 9110 §8.6 forbids it (1xx, 204)."""
    if status == 204 or status < 200:
        return b""
    return b"Content-Length: %d\r\n" % length


def full_head(meta: EntryMeta) -> bytes:
    """Status line, stored fields and Content-Length of a stored object, serialised once."""
    h = status_line(meta.status) + wire(meta) + content_length(meta.status, meta.body_size)
    meta.head = h
    return h


def stored_head(
    meta: EntryMeta, plan: Plan, per_request: bytes, ed: EditedHead | None = None
) -> bytes:
    """head_bytes for a stored object, whose whole-body head is serialised once."""
    if plan.status == meta.status and not plan.extra and plan.replace_type is None:
        if ed is not None:
            return edited_full_head(meta, ed) + per_request + b"\r\n"
        return (meta.head or full_head(meta)) + per_request + b"\r\n"
    return head_bytes(meta, plan, per_request, ed)


def head_bytes(
    meta: EntryMeta, plan: Plan, per_request: bytes, ed: EditedHead | None = None
) -> bytes:
    """Status line + stored fields (as the plan needs them) + per-request fields + CRLF.

    ``ed``: the stored fields as a response headers policy edits them.
    """
    stored = fields(meta) if ed is None else ed.edit.fields
    if plan.status == 304:
        keep = _NOT_MODIFIED_FIELDS if ed is None else _NOT_MODIFIED_FIELDS | ed.policy.added_names
        kept = serialise([(n, v) for n, v in stored if n.lower() in keep])
        return status_line(304) + kept + per_request + b"\r\n"
    if plan.status in (412, 416):
        length = b"Content-Length: 0\r\n"
        if ed is not None:
            names = ed.policy.added_names
            length += serialise([(n, v) for n, v in stored if n.lower() in names])
        return status_line(plan.status) + plan.extra + length + per_request + b"\r\n"
    if plan.replace_type is not None:
        kept = serialise([(n, v) for n, v in stored if n.lower() != "content-type"])
        kept += f"Content-Type: {plan.replace_type}\r\n".encode("latin-1")
    else:
        kept = wire(meta) if ed is None else ed.wire
    length = content_length(plan.status, plan.length)
    return status_line(plan.status) + kept + plan.extra + length + per_request + b"\r\n"


def write_stored(conn: Connection, head: bytes, plan: Plan, body: bytes | memoryview) -> int:
    """Write a whole response whose body is in memory (or mmap'd). Returns body bytes sent."""
    if not plan.body or not plan.ranges:
        conn.write(head)
        return 0
    mv = memoryview(body)
    if plan.parts:
        out: list[bytes | memoryview] = [head]
        for part_head, first, last in plan.parts:
            out.append(part_head)
            out.append(mv[first : last + 1])
        out.append(plan.closing)
        conn.writelines(out)
        return plan.length
    first, last = plan.ranges[0]
    if first == 0 and last + 1 == len(body):
        conn.writelines([head, body])
    else:
        conn.writelines([head, mv[first : last + 1]])
    return plan.length


async def stream_from_fetch(conn: Connection, fetch: Fetch, plan: Plan) -> int:
    """Send the plan's spans from a fetch's spool as bytes arrive. Returns body bytes sent."""
    sent = 0
    spans: list[tuple[bytes, int, int]] = (
        list(plan.parts) if plan.parts else [(b"", a, b) for a, b in plan.ranges]
    )
    for part_head, first, last in spans:
        if part_head:
            conn.write(part_head)
        pos = first
        while pos <= last:
            avail = fetch.received
            if pos < avail:
                data = fetch.spool.read(pos, min(last + 1, avail) - pos)
                pos += len(data)
                sent += len(data)
                await conn.send(data)
                continue
            if fetch.state is FetchState.FAILED:
                raise fetch.error or OriginError("origin body truncated")
            if fetch.state is not FetchState.STREAMING:
                raise OriginError("fetch ended before the requested bytes")
            await fetch.wait_progress()
    if plan.closing:
        conn.write(plan.closing)
    return sent


async def stream_unknown_length(conn: Connection, fetch: Fetch, chunked: bool) -> int:
    """Send a fetch whose length is unknown: chunked to HTTP/1.1 viewers, else until close."""
    pos = 0
    while True:
        avail = fetch.received
        if pos < avail:
            data = fetch.spool.read(pos, min(avail - pos, _CHUNK))
            pos += len(data)
            await conn.send(data, chunked)
            continue
        if fetch.state is FetchState.FAILED:
            raise fetch.error or OriginError("origin body truncated")
        if fetch.state is not FetchState.STREAMING:
            break
        await fetch.wait_progress()
    if chunked:
        conn.write(b"0\r\n\r\n")
    return pos


# --- response headers policies ----------------------------------------------------------------


def edited_head(meta: EntryMeta, policy: ResponseHeadersPolicy) -> EditedHead:
    """The stored fields as ``policy`` edits them, memoised on the entry for its stored head."""
    source: object = meta.headers or meta.head
    ed = meta.edited
    if ed is not None and ed.policy is policy and ed.source is source:
        return ed
    edit = edit_fields(policy, fields(meta))
    ed = meta.edited = EditedHead(policy, source, edit, serialise(edit.fields))
    return ed


def edited_full_head(meta: EntryMeta, ed: EditedHead) -> bytes:
    """Like full_head, for the edited fields (only for complete stored objects)."""
    head = ed.head
    if not head:
        head = status_line(meta.status) + ed.wire + content_length(meta.status, meta.body_size)
        ed.head = head
    return head


def request_fields(
    policy: ResponseHeadersPolicy,
    edit: Edit | None,
    req: Request,
    *,
    cache: CacheState,
    rid: bytes,
    pop: str,
    dates: HttpDateCache,
    upstream_ms: tuple[int, int, int] | None = None,
    cors: bool = True,
) -> bytes:
    """A policy's per-request fields: Date, CORS for an allowed Origin, Server-Timing.

    ``edit``: how the policy edited the stored or origin fields; None for an answer the edge made
    itself, which gets the policy's static fields here.
    """
    out: list[tuple[str, str]] = []
    if edit is None:
        out += generated_fields(policy)
    elif edit.add_date:
        out.append(("Date", dates(time.time()).decode("latin-1")))
    lookup = req.lookup
    if cors and policy.cors is not None:
        present = edit.origin_cors if edit is not None else frozenset()
        out += cors_fields(policy.cors, lookup.get("origin"), present)
    if policy.server_timing:
        origin_timing = edit.origin_timing if edit is not None else None
        if server_timing_wanted(policy, lookup.get("pragma"), random.random() * 100):
            value = server_timing_value(
                cache,
                pop=pop,
                request_id=rid.decode("latin-1"),
                downstream_ms=int((time.monotonic() - req.start) * 1000),
                upstream_ms=upstream_ms,
                origin=origin_timing,
            )
            out.append(("Server-Timing", value))
        elif origin_timing:
            out.append(("Server-Timing", origin_timing))
    return serialise(out) if out else b""
