"""Memory per cached object: load N distinct small objects, divide the growth of the process tree.

RSS is what the issue asks for (VmRSS summed over the contender's process tree). PSS is shown
beside it because nginx's cache index is shared memory touched by several of its processes, which
a plain RSS sum counts more than once.

"Index" is reported two ways. ``index_bytes_per_object`` is RSS per object minus the body when
the contender keeps bodies in its memory: it still holds the stored response header block.
``index_without_headers_per_object`` (in the JSON only) also subtracts that block (the header
bytes a hit serves from the store) for contenders that keep headers in RAM, as nginx's figure
leaves them out (its headers live in the cache files with the bodies). For ours it can go below
zero: the memory tier keeps shared lines once and Date/Last-Modified as numbers, fewer bytes
than a hit serves, so the issue's figure is ``index_bytes_per_object``.

``python -m bench.memory [--objects N]`` measures our memory tier alone, in this process: N
objects packed the way the fetcher stores an nginx response, with the per-part breakdown.
``python -m bench.memory --edge [--objects N]`` runs the scenario above against one
``openfront edge`` process in front of a Python origin speaking like the bench's nginx origin
(``OPENFRONT_BENCH_BIN`` picks the build), for machines without nginx.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.client import load
from bench.servers import HOST, HOT_SIZE, BenchError, Reply, Server, get, is_hit

WARMUP_OBJECTS = 500

# Response fields a hit adds per request (or hop by hop): not part of what the cache stores.
_PER_REQUEST = frozenset(
    {
        "x-cache",
        "via",
        "x-amz-cf-pop",
        "x-amz-cf-id",
        "age",
        "connection",
        "keep-alive",
        "x-varnish",
        "x-cache-status",
        "transfer-encoding",
    }
)


@dataclass
class TreeMemory:
    pids: int
    rss: int
    pss: int


def stat_fields(pid: int | str) -> list[str] | None:
    """/proc/PID/stat after the command name (state, ppid, ...), or None once it is gone."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces and parentheses: fields start after the last ')'.
    return stat[stat.rindex(")") + 2 :].split()


def tree_pids(root: int) -> list[int]:
    """The pid and all its descendants, from /proc/*/stat parent links."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = stat_fields(entry.name)
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


def _kib_field(text: str, name: str) -> int:
    for line in text.splitlines():
        if line.startswith(name):
            return int(line.split()[1]) * 1024
    return 0


def tree_memory(root: int) -> TreeMemory:
    rss = pss = count = 0
    for pid in tree_pids(root):
        proc = Path("/proc") / str(pid)
        try:
            rss += _kib_field((proc / "status").read_text(), "VmRSS:")
            pss += _kib_field((proc / "smaps_rollup").read_text(), "Pss:")
        except OSError:
            continue  # the process exited between the listing and the read
        count += 1
    return TreeMemory(count, rss, pss)


def _load(server: Server, paths: list[str]) -> float:
    result = asyncio.run(load(HOST, server.port, paths))
    bad = sum(v for k, v in result.statuses.items() if k != 200)
    if result.errors or bad or result.requests != len(paths):
        detail = result.errors[:3] or dict(result.statuses)
        raise BenchError(f"loading {len(paths)} objects into {server.name} failed: {detail}")
    return result.elapsed_s


def run_memory(server: Server, n: int, run_id: str) -> dict[str, Any]:
    prefix = f"/obj/{server.name}-{run_id}"
    # Warm the process first (connection buffers, lazily built tables) so the baseline is fair.
    _load(server, [f"{prefix}-warm-{i}" for i in range(WARMUP_OBJECTS)])
    before = tree_memory(server.proc.pid)
    elapsed = _load(server, [f"{prefix}-{i}" for i in range(n)])
    after = tree_memory(server.proc.pid)
    sample = [f"{prefix}-{i}" for i in (0, n // 2, n - 1)]
    replies = [get(server.port, path) for path in sample]
    hits = sum(is_hit(server.name, reply) for reply in replies)
    rss_per = (after.rss - before.rss) / n
    pss_per = (after.pss - before.pss) / n
    body = HOT_SIZE if server.bodies_in_memory else 0
    headers = stored_header_bytes(replies[-1]) if server.bodies_in_memory else 0
    return {
        "objects": n,
        "object_body_bytes": HOT_SIZE,
        "load_seconds": round(elapsed, 2),
        "processes": after.pids,
        "rss_before": before.rss,
        "rss_after": after.rss,
        "pss_before": before.pss,
        "pss_after": after.pss,
        "rss_bytes_per_object": round(rss_per, 1),
        "pss_bytes_per_object": round(pss_per, 1),
        "bodies_in_process_memory": server.bodies_in_memory,
        # An upper bound on index overhead: it also holds stored headers and allocator slack.
        "index_bytes_per_object": round(rss_per - body, 1),
        "stored_header_bytes": headers,
        "index_without_headers_per_object": round(rss_per - body - headers, 1),
        "sampled_hits": f"{hits}/{len(sample)}",
        "page_size": os.sysconf("SC_PAGE_SIZE"),
    }


def stored_header_bytes(reply: Reply) -> int:
    """The header block a cache keeps for this reply: its fields as "Name: value\\r\\n" lines,
    without those added per request, plus the blank line."""
    kept = [(n, v) for n, v in reply.headers.items() if n not in _PER_REQUEST]
    return sum(len(n) + len(v) + 4 for n, v in kept) + 2


# --- in-process: our memory tier alone ----------------------------------------------------------


def _nginx_like_entry(i: int, now: float, body: bytes) -> tuple[Any, bytes]:
    """An EntryMeta and body as the fetcher makes them from the bench origin's answer."""
    from openfront.cache.entry import EntryMeta
    from openfront.cache.key import cache_key
    from openfront.cache.policy import KeyPolicy
    from openfront.edge.respond import storable_headers
    from openfront.http.dates import format_http_date

    path = f"/obj/ours-20261125-{i}"
    ck = cache_key(
        host="127.0.0.1:8080",
        path=path,
        query="",
        method="GET",
        header=lambda name: None,
        cookie_header=None,
        policy=KeyPolicy(query_strings="all"),  # the quick mode's UseOriginCacheControlHeaders-QS
    )
    date, modified, etag = format_http_date(now), format_http_date(now - 3600), f'"{i:x}-400"'
    sent = [
        ("Server", "nginx/1.22.1"),
        ("Date", date),
        ("Content-Type", "application/octet-stream"),
        ("Content-Length", str(len(body))),
        ("Last-Modified", modified),
        ("Connection", "keep-alive"),
        ("ETag", etag),
        ("Cache-Control", "max-age=3600"),
        ("Accept-Ranges", "bytes"),
    ]
    meta = EntryMeta(
        key=b"EDEFAULT\0" + ck.key,
        url=ck.url,
        status=200,
        headers=storable_headers(sent),
        body_size=len(body),
        request_time=now,
        response_time=now + 0.001,
        initial_age=0.0 + (i % 2) * 0.0,  # a float per object, as corrected_initial_age returns
        ttl=float(3600),
        stale_if_error=-1.0,
        etag=etag,
        last_modified=modified,
        stored_at=now + 0.001,
        content_type=sys.intern("application/octet-stream"),
    )
    # A fresh body object per response, as the fetch spool hands over.
    return meta, body[:1] + body[1:]


def _rss() -> int:
    return _kib_field(Path("/proc/self/status").read_text(), "VmRSS:")


def run_in_process(n: int, layout: str = "arena") -> dict[str, Any]:
    """Bytes per object of our memory tier: RSS growth, and where the bytes go (tracemalloc).

    ``layout`` is ``cache.memory_layout``. The arena is sized to hold every object (its pages
    count only once written); tracemalloc does not see it, only the Python objects beside it.
    """
    import gc
    import time
    import tracemalloc

    from openfront.edge.serve import compact
    from openfront.edge.store import MemoryTier, memory_tier

    body = os.urandom(HOT_SIZE)

    def fill(store: MemoryTier, count: int, base: int) -> None:
        now = time.time()
        for i in range(base, base + count):
            meta, data = _nginx_like_entry(i, now, body)
            store.put(meta.key, compact(meta), data)

    def new_store() -> MemoryTier:
        capacity = 1 << 40 if layout == "objects" else max(256 << 20, (n + 11 * n // 10) * 2048)
        return memory_tier(layout, capacity, 1 << 20)

    store = new_store()
    fill(store, WARMUP_OBJECTS, -WARMUP_OBJECTS)
    gc.collect()
    before = _rss()
    fill(store, n, 0)
    gc.collect()
    rss_per = (_rss() - before) / n
    sample, _ = _nginx_like_entry(n // 2, time.time(), body)
    head = compact(sample).head
    block = len(head) - len(b"HTTP/1.1 200 OK\r\n") + 2  # header lines, Content-Length, blank
    # The header bytes each object keeps for itself (the rest is shared between objects).
    entry = store.entry(sample.key) if hasattr(store, "entry") else None
    own = entry.shape.hlen if entry is not None else block

    small = new_store()
    fill(small, WARMUP_OBJECTS, -WARMUP_OBJECTS)
    count = max(1, n // 10)
    tracemalloc.start()
    snap0 = tracemalloc.take_snapshot()
    fill(small, count, 10 * n)
    gc.collect()
    snap1 = tracemalloc.take_snapshot()
    tracemalloc.stop()
    parts = [
        ("/".join(stat.traceback[0].filename.split("/")[-3:]), stat.traceback[0].lineno, stat)
        for stat in snap1.compare_to(snap0, "lineno")
    ]
    by_line = [
        (f"{name}:{line}", round(stat.size_diff / count, 1))
        for name, line, stat in parts
        if abs(stat.size_diff) / count >= 4
    ]
    return {
        "layout": layout,
        "objects": n,
        "object_body_bytes": HOT_SIZE,
        "stored_header_bytes": block,
        "key_bytes": len(sample.key),
        "rss_bytes_per_object": round(rss_per, 1),
        "index_bytes_per_object": round(rss_per - HOT_SIZE, 1),
        "index_without_headers_per_object": round(rss_per - HOT_SIZE - block, 1),
        "own_header_bytes": own,
        "index_without_own_headers_per_object": round(rss_per - HOT_SIZE - own, 1),
        "traced_bytes_by_line": by_line,
    }


# --- our edge alone, without nginx ---------------------------------------------------------------

# The bench origin's (nginx's) answer for /obj/...: the same header fields, in the same order.
_NGINX_HEAD = (
    "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: {date}\r\n"
    "Content-Type: application/octet-stream\r\nContent-Length: {size}\r\n"
    "Last-Modified: Wed, 25 Nov 2026 16:55:00 GMT\r\nConnection: keep-alive\r\n"
    'ETag: "6925ed14-400"\r\nCache-Control: max-age=3600\r\nAccept-Ranges: bytes\r\n\r\n'
)


async def _nginx_like_origin(ready: Any, port_box: list[int], stop: Any) -> None:
    from email.utils import formatdate

    body = os.urandom(HOT_SIZE)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                head = _NGINX_HEAD.format(date=formatdate(usegmt=True), size=len(body))
                writer.write(head.encode() + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, HOST, 0)
    port_box.append(server.sockets[0].getsockname()[1])
    ready.set()
    async with server:
        await asyncio.get_running_loop().run_in_executor(None, stop.wait)


def run_edge_process(n: int) -> dict[str, Any]:
    """The bench's memory scenario for our edge alone: ``openfront edge --origin`` in front of a
    Python origin that answers ``/obj/...`` with nginx's header set (for machines without nginx)."""
    import tempfile
    import threading

    from bench.servers import start_ours

    ready, stop = threading.Event(), threading.Event()
    port_box: list[int] = []
    thread = threading.Thread(
        target=lambda: asyncio.run(_nginx_like_origin(ready, port_box, stop)), daemon=True
    )
    thread.start()
    if not ready.wait(10):
        raise BenchError("the origin did not start")
    try:
        with tempfile.TemporaryDirectory(prefix="openfront-bench-") as tmp:
            server = start_ours(Path(tmp), port_box[0], 1, None)
            try:
                return run_memory(server, n, "edge")
            finally:
                server.stop()
    finally:
        stop.set()
        thread.join(10)


def main(argv: list[str] | None = None) -> None:
    import argparse
    import json

    p = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    p.add_argument("--objects", type=int, default=None, help="objects (100,000; --edge 20,000)")
    p.add_argument(
        "--edge",
        action="store_true",
        help="run an `openfront edge` process in front of an nginx-like Python origin instead",
    )
    p.add_argument(
        "--layout",
        choices=("arena", "objects"),
        default="arena",
        help="the memory tier measured in process (cache.memory_layout)",
    )
    args = p.parse_args(argv)
    if args.edge:
        print(json.dumps(run_edge_process(args.objects or 20_000), indent=1))
    else:
        print(json.dumps(run_in_process(args.objects or 100_000, args.layout), indent=1))


if __name__ == "__main__":
    main()
