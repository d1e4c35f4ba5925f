"""Python work per hot 1 KiB memory-tier hit, without sockets or a load generator.

One edge (quick mode, in this process) in front of a local origin; a ``Connection`` on a fake
transport is fed ``--batch`` pipelined GETs per ``data_received`` (32 by default) for one stored
1 KiB object. ``--batch 1`` is what a load generator without pipelining sends: one request per
read, the same bytes every time, so those hits go through the repeated-head memo
(docs/edge.md, "Repeated request heads"); ``--no-memo`` turns the memo off to compare. Wall time
on a loaded machine swings by 10-20%; two steadier measures:

``python -m bench.hitcost [--layout arena|objects]``: thread CPU time per hit, best of
``--rounds`` rounds of ``--hits`` hits.

``python -m bench.hitcost --callgrind``: CPU instructions per hit under ``valgrind
--tool=callgrind`` (two runs of N and 2N hits; the difference over N cancels start-up). Counts
are stable to well under 1% from run to run, whatever else the machine does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any

from bench.servers import HOT_SIZE

BATCH = 32
_HEAD = (
    "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: {date}\r\n"
    "Content-Type: application/octet-stream\r\nContent-Length: {size}\r\n"
    "Last-Modified: Wed, 25 Nov 2026 16:55:00 GMT\r\nConnection: keep-alive\r\n"
    'ETag: "6925ed14-400"\r\nCache-Control: max-age=3600\r\nAccept-Ranges: bytes\r\n\r\n'
)


class _Transport(asyncio.Transport):
    """Counts what the edge writes; never blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.bytes = 0

    def write(self, data: Any) -> None:
        self.writes += 1
        self.bytes += len(data)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _origin() -> tuple[asyncio.Server, int]:
    body = os.urandom(HOT_SIZE)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                head = _HEAD.format(date=formatdate(usegmt=True), size=len(body))
                writer.write(head.encode() + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def _drain(t: _Transport, want: int, deadline: float) -> None:
    while t.writes < want:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {t.writes} of {want} responses written")
        await asyncio.sleep(0)


async def measure(
    layout: str,
    hits: int,
    rounds: int,
    batch: int = 32,
    memo: bool = True,
    unique: bool = False,
) -> float:
    """Best thread-CPU microseconds per hit over ``rounds`` rounds of ``hits`` hits."""
    from openfront.config.load import quick_config
    from openfront.edge.app import protocol_error_responder
    from openfront.edge.protocol import Connection
    from openfront.edge.server import RunningEdge

    origin, port = await _origin()
    cfg = quick_config(
        f"http://127.0.0.1:{port}",
        "127.0.0.1:0",
        {"cache": {"memory_layout": layout}},
    )
    edge = RunningEdge(cfg)
    await edge.start(admin=False)
    try:
        assert edge.sweeper is not None
        env = edge.env
        conn = Connection(
            env.edge.handle,
            protocol_error_responder(env.edge),
            env.limits,
            edge.sweeper,
            heads=env.edge.heads if memo else None,
        )
        t = _Transport()
        conn.connection_made(t)
        req = b"GET /obj/hot HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        conn.data_received(req)  # the miss that stores it
        deadline = time.monotonic() + 30
        while len(env.memory) < 1:
            if time.monotonic() > deadline:
                raise RuntimeError("the object was not stored")
            await asyncio.sleep(0.005)
        await _drain(t, 1, deadline)
        per_yield = max(1, BATCH // batch)  # yield to the loop as often as with 32 per chunk
        best = float("inf")
        for _ in range(rounds):
            chunks = _chunks(req, hits, batch, unique)
            want = t.writes + hits
            start = time.thread_time()
            for i, chunk in enumerate(chunks):
                conn.data_received(chunk)
                if i % per_yield == 0:
                    await asyncio.sleep(0)
            await _drain(t, want, time.monotonic() + 60)
            best = min(best, (time.thread_time() - start) / hits * 1e6)
        conn.connection_lost(None)
        return best
    finally:
        await edge.close()
        origin.close()


def _chunks(req: bytes, hits: int, batch: int, unique: bool) -> list[bytes]:
    """The reads to feed: ``batch`` requests each; with ``unique``, every head different (an
    ``X-Seq`` counter, as the bench's "unique" scenario sends), built before the clock starts."""
    if not unique:
        return [req * batch] * (hits // batch)
    line, _, rest = req.partition(b"\r\n")
    heads = [b"%s\r\nX-Seq: %d\r\n%s" % (line, i, rest) for i in range(hits)]
    return [b"".join(heads[i : i + batch]) for i in range(0, hits, batch)]


def _instructions(layout: str, hits: int, extra: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="openfront-hitcost-") as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-m",
                "bench.hitcost",
                "--layout",
                layout,
                "--hits",
                str(hits),
                "--rounds",
                "1",
                *extra,
            ],
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        found = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
        if found is None:
            raise RuntimeError("no instruction total in the callgrind output")
        return int(found.group(1))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.hitcost", description=__doc__)
    p.add_argument("--layout", choices=("arena", "objects"), default="arena")
    p.add_argument("--hits", type=int, default=32_000)
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--batch", type=int, default=BATCH, help="requests per data_received")
    p.add_argument("--no-memo", action="store_true", help="without the repeated-head memo")
    p.add_argument(
        "--unique", action="store_true", help="every request head different (X-Seq counter)"
    )
    p.add_argument("--callgrind", action="store_true", help="instructions per hit (valgrind)")
    args = p.parse_args(argv)
    batch = max(1, args.batch)
    hits = max(BATCH, args.hits // BATCH * BATCH)
    what = f"{args.layout}, batch {batch}{', no memo' if args.no_memo else ''}"
    what += ", unique heads" if args.unique else ""
    if args.callgrind:
        n = min(hits, 3_200)
        extra = ["--batch", str(batch), *(["--no-memo"] if args.no_memo else [])]
        extra += ["--unique"] if args.unique else []
        per = (_instructions(args.layout, 2 * n, extra) - _instructions(args.layout, n, extra)) / n
        print(f"{what}: {per:,.0f} instructions per hit")
    else:
        us = asyncio.run(
            measure(args.layout, hits, args.rounds, batch, not args.no_memo, args.unique)
        )
        print(f"{what}: {us:.2f} µs per hit (thread CPU, best of {args.rounds})")


if __name__ == "__main__":
    main()
