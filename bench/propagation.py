"""Propagation: how long a change takes from the API's 200 to every edge's applied ack.

    .venv/bin/python -m bench.propagation                     # 20 edges, both transports
    .venv/bin/python -m bench.propagation --edges 5 --changes 10 --transports poll

Starts `openfront api` (SQLite in a temp dir, and `--bus` for the NATS transport), then N
`openfront edge --control-plane` processes (1 worker, a 16 MiB memory cache, no disk), waits
until all are registered and have applied a first distribution, then makes the changes one
after the other: an UpdateDistribution (config) or a CreateInvalidation, alternately. Each is
timed from the API's answer until GET /openfront/edges shows every edge's applied cursor at the
head (polled every 5 ms, so figures carry up to ~5 ms of polling). NATS needs a server with
JetStream (--nats, default $OPENFRONT_TEST_NATS_URL or nats://127.0.0.1:4222); the bench uses a
stream of its own and deletes it. Everything it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

KEY_ID = "AKOFBENCHROOT0000001"
SECRET = "bench-root-secret-0123456789"
POLL = 0.005
START_TIMEOUT = 60.0
CHANGE_TIMEOUT = 30.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.propagation", description=__doc__)
    p.add_argument("--edges", type=int, default=20, help="edge processes (default 20)")
    p.add_argument("--changes", type=int, default=20, help="changes of each kind (default 20)")
    p.add_argument("--transports", default="poll,nats", help="poll,nats (default both)")
    p.add_argument(
        "--nats",
        default=os.environ.get("OPENFRONT_TEST_NATS_URL", "nats://127.0.0.1:4222"),
        help="NATS server with JetStream for the nats transport",
    )
    p.add_argument("--no-json", action="store_true", help="do not write bench/results/*.json")
    return p.parse_args(argv)


def _client(url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "cloudfront",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        config=Config(retries={"max_attempts": 1}),
    )


def _wait_file(path: Path, proc: subprocess.Popen[bytes], what: str) -> dict[str, Any]:
    deadline = time.monotonic() + START_TIMEOUT
    while not path.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} was not ready within {START_TIMEOUT:.0f} s")
        time.sleep(0.02)
    info: dict[str, Any] = json.loads(path.read_text())
    return info


class Fleet:
    """The API and the edges of one transport, in a temp dir; stop() ends them all."""

    def __init__(self, edges: int, bus: tuple[str, str] | None) -> None:
        self.n = edges
        self.bus = bus
        self.dir = Path(tempfile.mkdtemp(prefix="openfront-propagation-"))
        self.procs: list[subprocess.Popen[bytes]] = []
        self.url = ""

    def _spawn(self, args: list[str], log: str, env: dict[str, str] | None = None) -> Any:
        out = open(self.dir / log, "wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "openfront", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        out.close()
        self.procs.append(proc)
        return proc

    def start(self) -> None:
        env = {
            **os.environ,
            "OPENFRONT_ROOT_ACCESS_KEY_ID": KEY_ID,
            "OPENFRONT_ROOT_SECRET_ACCESS_KEY": SECRET,
        }
        ready = self.dir / "api.ready"
        bus_args = [] if self.bus is None else ["--bus", self.bus[0], "--bus-stream", self.bus[1]]
        api = self._spawn(
            ["api", "--data", str(self.dir / "api"), "--listen", "127.0.0.1:0",
             "--ready-file", str(ready), *bus_args],
            "api.log",
            env,
        )  # fmt: skip
        self.url = _wait_file(ready, api, "openfront api")["url"]
        creds = self.dir / "edge.env"
        creds.write_text(f"AWS_ACCESS_KEY_ID={KEY_ID}\nAWS_SECRET_ACCESS_KEY={SECRET}\n")
        creds.chmod(0o600)
        config = self.dir / "edge.yaml"
        config.write_text('edge:\n  cache:\n    memory_bytes: "16MiB"\n')
        edge_bus = [] if self.bus is None else ["--bus", self.bus[0], "--bus-stream", self.bus[1]]
        pending = []
        for i in range(self.n):
            ready_i = self.dir / f"edge{i}.ready"
            proc = self._spawn(
                ["edge", "--config", str(config), "--control-plane", self.url,
                 "--credentials", str(creds), "--data", str(self.dir / f"edge{i}"),
                 "--edge-id", f"bench-{i:02d}", "--pop", f"BEN{i:02d}-C1", "--workers", "1",
                 "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                 "--ready-file", str(ready_i), *edge_bus],
                f"edge{i}.log",
            )  # fmt: skip
            pending.append((ready_i, proc))
        for ready_i, proc in pending:
            _wait_file(ready_i, proc, "openfront edge")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def _edges(url: str) -> list[dict[str, Any]]:
    from openfront.cli.edges_cmd import fetch_edges

    return fetch_edges(url, KEY_ID, SECRET)


def _all_applied(url: str, n: int) -> bool:
    edges = _edges(url)
    healthy = [e for e in edges if e["status"] == "healthy"]
    return len(healthy) == n and all(
        e["configBehind"] == 0 and e["invalidationsBehind"] == 0 and not e["errors"]
        for e in healthy
    )


def _until_applied(url: str, n: int, timeout: float) -> float:
    start = time.monotonic()
    while not _all_applied(url, n):
        if time.monotonic() - start > timeout:
            raise RuntimeError(f"not every edge applied the change within {timeout:.0f} s")
        time.sleep(POLL)
    return time.monotonic() - start


def _config(ref: str, comment: str) -> dict[str, Any]:
    return {
        "CallerReference": ref,
        "Comment": comment,
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "app",
                    "DomainName": "127.0.0.1",
                    "CustomOriginConfig": {
                        "HTTPPort": 9,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "http-only",
                    },
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "app",
            "ViewerProtocolPolicy": "allow-all",
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        },
    }


def measure(fleet: Fleet, changes: int) -> dict[str, list[float]]:
    cf = _client(fleet.url)
    deadline = time.monotonic() + START_TIMEOUT
    while len([e for e in _edges(fleet.url) if e["status"] == "healthy"]) < fleet.n:
        if time.monotonic() > deadline:
            raise RuntimeError("the edges did not all register")
        time.sleep(0.05)
    created = cf.create_distribution(DistributionConfig=_config(uuid.uuid4().hex, "v0"))
    dist_id, etag = created["Distribution"]["Id"], created["ETag"]
    _until_applied(fleet.url, fleet.n, START_TIMEOUT)
    times: dict[str, list[float]] = {"config": [], "invalidation": []}
    ref = created["Distribution"]["DistributionConfig"]["CallerReference"]
    for i in range(changes):
        answer = cf.update_distribution(
            Id=dist_id, IfMatch=etag, DistributionConfig=_config(ref, f"v{i + 1}")
        )
        etag = answer["ETag"]
        times["config"].append(_until_applied(fleet.url, fleet.n, CHANGE_TIMEOUT))
        cf.create_invalidation(
            DistributionId=dist_id,
            InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": [f"/p{i}/*"]},
                "CallerReference": f"bench-{i}",
            },
        )
        times["invalidation"].append(_until_applied(fleet.url, fleet.n, CHANGE_TIMEOUT))
    return times


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def _delete_stream(url: str, stream: str) -> None:
    import nats
    from nats.js.errors import NotFoundError

    nc = await nats.connect(url)
    try:
        await nc.jetstream().delete_stream(stream)
    except NotFoundError:
        pass
    finally:
        await nc.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results: dict[str, Any] = {}
    for transport in [t.strip() for t in args.transports.split(",") if t.strip()]:
        if transport not in ("poll", "nats"):
            print(f"unknown transport {transport!r}", file=sys.stderr)
            return 2
        stream = f"OFBENCH_{uuid.uuid4().hex[:10].upper()}"
        fleet = Fleet(args.edges, (args.nats, stream) if transport == "nats" else None)
        try:
            fleet.start()
            times = measure(fleet, args.changes)
        finally:
            fleet.stop()
            if transport == "nats":
                asyncio.run(_delete_stream(args.nats, stream))
        results[transport] = {
            kind: {
                "p50_ms": round(statistics.median(v) * 1000, 1),
                "p95_ms": round(_p95(v) * 1000, 1),
                "max_ms": round(max(v) * 1000, 1),
                "all_ms": [round(x * 1000, 1) for x in v],
            }
            for kind, v in times.items()
        }
    machine = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "edges": args.edges,
        "changes": args.changes,
    }
    print(f"{args.edges} edges, {args.changes} changes of each kind, {os.cpu_count()} CPUs")
    print(f"{'transport':<10} {'kind':<13} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for transport, kinds in results.items():
        for kind, r in kinds.items():
            row = f"{transport:<10} {kind:<13} {r['p50_ms']:>8} {r['p95_ms']:>8} {r['max_ms']:>8}"
            print(row)
    if not args.no_json:
        out = Path(__file__).with_name("results")
        out.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = out / f"propagation-{stamp}.json"
        path.write_text(json.dumps({"machine": machine, "results": results}, indent=2))
        print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
