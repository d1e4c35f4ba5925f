"""Memory per cached object: load N distinct small objects, divide the growth of the process tree.

RSS is what the issue asks for (VmRSS summed over the contender's process tree). PSS is shown
beside it because nginx's cache index is shared memory touched by several of its processes, which
a plain RSS sum counts more than once.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.client import load
from bench.servers import HOST, HOT_SIZE, BenchError, Server, get, is_hit

WARMUP_OBJECTS = 500


@dataclass
class TreeMemory:
    pids: int
    rss: int
    pss: int


def tree_pids(root: int) -> list[int]:
    """The pid and all its descendants, from /proc/*/stat parent links."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: fields start after the last ')'.
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
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
    hits = sum(is_hit(server.name, get(server.port, path)) for path in sample)
    rss_per = (after.rss - before.rss) / n
    pss_per = (after.pss - before.pss) / n
    body = HOT_SIZE if server.bodies_in_memory else 0
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
        "sampled_hits": f"{hits}/{len(sample)}",
        "page_size": os.sysconf("SC_PAGE_SIZE"),
    }
