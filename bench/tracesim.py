"""Seeded synthetic-trace simulator: object and byte miss ratios of our S3-FIFO against LRU.

``arena`` is the memory tier's own policy (``ArenaStore``: S3-FIFO's queues as byte rings of
one arena, a fingerprint ghost), run on a virtual arena: records are charged their size but
bodies are never written.

Run ``python -m bench.tracesim`` (defaults finish well under a minute). The traces mix Zipf
popularity, one-hit wonders, periodic catalogue scans, popularity churn and heavy-tailed object
sizes; the same seed always gives the same trace and the same table. Pure ``random``: no numpy.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from openfront.cache.eviction import Lru, S3Fifo
from openfront.edge.store.arena import ArenaStore

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    alpha: float  # Zipf exponent of the catalogue's popularity
    one_hit: float  # fraction of requests for objects that are never requested again
    sizes: str  # "lognormal" or "pareto"
    scan_every: int = 0  # a sequential catalogue scan every this many requests (0: none)
    scan_len: int = 0
    churn_every: int = 0  # shift which objects are hot every this many requests (0: never)


WORKLOADS = (
    Workload("zipf0.8 ohw35% lognormal", 0.8, 0.35, "lognormal"),
    Workload(
        "zipf1.0 ohw20% pareto +scans", 1.0, 0.20, "pareto", scan_every=25_000, scan_len=4_000
    ),
    Workload("zipf0.7 ohw50% pareto +churn", 0.7, 0.50, "pareto", churn_every=20_000),
    Workload(
        "zipf1.1 ohw25% lognormal +scans +churn",
        1.1,
        0.25,
        "lognormal",
        scan_every=30_000,
        scan_len=6_000,
        churn_every=40_000,
    ),
)


@dataclass(slots=True)
class Trace:
    keys: list[int]
    sizes: list[int]  # per request: the size of that request's object

    def unique_bytes(self) -> int:
        return sum(dict(zip(self.keys, self.sizes, strict=True)).values())


def draw_size(rng: random.Random, kind: str) -> int:
    if kind == "lognormal":  # median ~16 KiB, a long tail into the MiBs
        size = rng.lognormvariate(math.log(16 * KIB), 1.6)
    elif kind == "pareto":  # x_m 4 KiB, alpha 1.2: infinite-variance tail
        size = 4 * KIB * rng.paretovariate(1.2)
    else:
        raise ValueError(f"unknown size distribution {kind!r}")
    return max(64, min(int(size), 256 * MIB))


def make_trace(w: Workload, requests: int, objects: int, seed: int) -> Trace:
    rng = random.Random(f"{seed}:{w.name}")
    sizes = [draw_size(rng, w.sizes) for _ in range(objects)]
    perm = list(range(objects))
    rng.shuffle(perm)  # popularity rank is independent of size
    cum = list(itertools.accumulate(1.0 / (r**w.alpha) for r in range(1, objects + 1)))
    ranks = rng.choices(range(objects), cum_weights=cum, k=requests)
    keys: list[int] = []
    req_sizes: list[int] = []
    next_new = objects
    shift = scan_pos = 0
    for i, rank in enumerate(ranks):
        if len(keys) >= requests:
            break
        if w.churn_every and i and i % w.churn_every == 0:
            shift += max(1, objects // 50)
        if w.scan_every and i and i % w.scan_every == 0:
            for _ in range(min(w.scan_len, requests - len(keys))):
                keys.append(scan_pos)
                req_sizes.append(sizes[scan_pos])
                scan_pos = (scan_pos + 1) % objects
        if rng.random() < w.one_hit:
            keys.append(next_new)
            req_sizes.append(draw_size(rng, w.sizes))
            next_new += 1
        else:
            obj = perm[(rank + shift) % objects]
            keys.append(obj)
            req_sizes.append(sizes[obj])
    del keys[requests:], req_sizes[requests:]
    return Trace(keys, req_sizes)


class Policy(Protocol):
    def access(self, key: int) -> bool: ...
    def insert(self, key: int, size: int) -> list[int]: ...


@dataclass(frozen=True, slots=True)
class Result:
    obj_miss: float
    byte_miss: float


def simulate(policy: Policy, trace: Trace) -> Result:
    misses = miss_bytes = 0
    access, insert = policy.access, policy.insert
    for key, size in zip(trace.keys, trace.sizes, strict=True):
        if not access(key):
            misses += 1
            miss_bytes += size
            insert(key, size)
    return Result(misses / len(trace.keys), miss_bytes / sum(trace.sizes))


def belady(trace: Trace, capacity: int) -> Result:
    """Furthest-next-use with bypass; optimal for equal sizes, a near-bound with sizes."""
    n = len(trace.keys)
    nxt = [n] * n
    last: dict[int, int] = {}
    for i in range(n - 1, -1, -1):
        nxt[i] = last.get(trace.keys[i], n)
        last[trace.keys[i]] = i
    cached: dict[int, int] = {}  # key -> its next use
    sizes: dict[int, int] = {}
    heap: list[tuple[int, int]] = []
    used = misses = miss_bytes = 0
    for i, (key, size) in enumerate(zip(trace.keys, trace.sizes, strict=True)):
        if key in cached:
            cached[key] = nxt[i]
            heapq.heappush(heap, (-nxt[i], key))
            continue
        misses += 1
        miss_bytes += size
        if nxt[i] == n or size > capacity:
            continue
        cached[key], sizes[key], used = nxt[i], size, used + size
        heapq.heappush(heap, (-nxt[i], key))
        while used > capacity:
            neg, victim = heapq.heappop(heap)
            if cached.get(victim) != -neg:
                continue  # a stale heap entry
            del cached[victim]
            used -= sizes.pop(victim)
    return Result(misses / n, miss_bytes / sum(trace.sizes))


def _mix64(key: bytes) -> int:
    """splitmix64's finaliser: Python's own bytes hash changes with every process."""
    z = (int.from_bytes(key, "little") + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return z ^ (z >> 31)


class ArenaPolicy:
    """The memory tier's arena store as a simulator policy (virtual bodies)."""

    def __init__(self, capacity: int) -> None:
        # Keys are 8-byte integers: a fixed hash keeps runs deterministic across processes.
        self.store = ArenaStore(capacity, capacity, virtual=True, key_hash=_mix64)

    def access(self, key: int) -> bool:
        return self.store.touch(key.to_bytes(8, "little"))

    def insert(self, key: int, size: int) -> list[int]:
        self.store.put_virtual(key.to_bytes(8, "little"), size)
        return []


PolicyFactory = Callable[[int], Policy]
POLICIES: dict[str, PolicyFactory] = {
    "lru": Lru,
    "s3fifo": S3Fifo,
    "arena": ArenaPolicy,
}


def _pct(x: float) -> str:
    return f"{100 * x:6.2f}%"


def _delta(x: float, base: float) -> str:
    return f"{100 * (x - base) / base:+6.1f}%" if base else "   n/a"


def run(args: argparse.Namespace, out: Callable[[str], None]) -> None:
    names = list(POLICIES) + (["belady"] if args.requests <= args.belady_max else [])
    out(f"requests={args.requests} objects={args.objects} seed={args.seed}")
    out("obj/byte = miss ratios; d(obj)/d(byte) = change vs LRU (negative is better)\n")
    for w in WORKLOADS:
        trace = make_trace(w, args.requests, args.objects, args.seed)
        total = trace.unique_bytes()
        out(f"## {w.name}  ({len(set(trace.keys))} objects, {total / MIB:.0f} MiB unique)")
        out("| cache | policy | obj miss | byte miss | d(obj) vs LRU | d(byte) vs LRU |")
        out("|---|---|---|---|---|---|")
        for pct in args.cache_pct:
            capacity = max(1, int(total * pct / 100))
            results = {
                name: (
                    belady(trace, capacity)
                    if name == "belady"
                    else simulate(POLICIES[name](capacity), trace)
                )
                for name in names
            }
            base = results["lru"]
            for name, r in results.items():
                out(
                    f"| {pct:g}% | {name} | {_pct(r.obj_miss)} | {_pct(r.byte_miss)} | "
                    f"{_delta(r.obj_miss, base.obj_miss)} | {_delta(r.byte_miss, base.byte_miss)} |"
                )
        out("")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.tracesim", description=__doc__)
    p.add_argument("--requests", type=int, default=200_000, help="requests per trace")
    p.add_argument("--objects", type=int, default=50_000, help="catalogue size (before one-hits)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--cache-pct",
        type=float,
        nargs="+",
        default=[0.5, 2.0, 10.0],
        help="cache sizes as %% of the trace's unique bytes",
    )
    p.add_argument(
        "--belady-max",
        type=int,
        default=300_000,
        help="run Belady only on traces up to this many requests",
    )
    args = p.parse_args(argv)
    if args.requests <= 0 or args.objects <= 0 or any(c <= 0 for c in args.cache_pct):
        p.error("--requests, --objects and --cache-pct must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    run(args, print)
    print(f"({time.perf_counter() - start:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
