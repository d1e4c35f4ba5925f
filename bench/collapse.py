"""Request collapsing: N concurrent misses for one fresh key, origin requests counted.

All N connections are opened first, then the N requests are written back to back, so they reach
the contender within a few milliseconds, while the slow origin (bench.origin) holds the first fetch
for its delay. A collapsing cache makes exactly one origin request.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.client import ClientError, close, read_response, request_bytes
from bench.servers import HOST, Server, get

CONNECT_BATCH = 100  # below any listen backlog, so no SYN is dropped and retried a second later


@dataclass
class StormResult:
    clients: int
    statuses: Counter[int] = field(default_factory=Counter)
    body_lens: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    send_spread_ms: float = 0.0
    elapsed_ms: float = 0.0


async def _connect_all(
    port: int, n: int
) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        while len(conns) < n:
            batch = min(CONNECT_BATCH, n - len(conns))
            conns.extend(
                await asyncio.gather(*(asyncio.open_connection(HOST, port) for _ in range(batch)))
            )
    except BaseException:
        await asyncio.gather(*(close(w) for _, w in conns))
        raise
    return conns


async def _read_one(reader: asyncio.StreamReader, result: StormResult, wait_s: float) -> None:
    try:
        async with asyncio.timeout(wait_s):
            resp = await read_response(reader)
    except (ClientError, ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
        result.errors.append(repr(exc))
        return
    except TimeoutError:
        result.errors.append(f"no response within {wait_s} s")
        return
    result.statuses[resp.status] += 1
    result.body_lens[resp.body_len] += 1


async def storm(port: int, path: str, n: int, wait_s: float = 60.0) -> StormResult:
    result = StormResult(clients=n)
    conns = await _connect_all(port, n)
    try:
        request = request_bytes(HOST, port, path)
        start = time.perf_counter()
        for _, writer in conns:
            writer.write(request)
        result.send_spread_ms = (time.perf_counter() - start) * 1000
        await asyncio.gather(*(w.drain() for _, w in conns))
        await asyncio.gather(*(_read_one(r, result, wait_s) for r, _ in conns))
        result.elapsed_ms = (time.perf_counter() - start) * 1000
    finally:
        await asyncio.gather(*(close(w) for _, w in conns))
    return result


def origin_counts(slow_origin: Server) -> dict[str, int]:
    reply = get(slow_origin.port, "/__stats")
    counts: dict[str, int] = json.loads(reply.body) if reply.body else {}
    return counts


def run_collapse(server: Server, slow_origin: Server, path: str, n: int) -> dict[str, Any]:
    before = origin_counts(slow_origin).get(path, 0)
    result = asyncio.run(storm(server.port, path, n))
    origin_requests = origin_counts(slow_origin).get(path, 0) - before
    return {
        "clients": n,
        "path": path,
        "origin_requests": origin_requests,
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
        "body_lengths": {str(k): v for k, v in sorted(result.body_lens.items())},
        "errors": len(result.errors),
        "first_errors": result.errors[:3],
        "send_spread_ms": round(result.send_spread_ms, 2),
        "elapsed_ms": round(result.elapsed_ms, 1),
    }
