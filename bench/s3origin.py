"""Upload and download MB/s to an S3 bucket through the edge (OAC-signed) vs straight to the store.

`python -m bench.run --s3-origin [--s3-mib N]`: one managed `weed mini` and one in-process edge
on 127.0.0.1; a PUT and a GET of N MiB (default 256) each way, the GET through the edge with
caching disabled so that it measures the origin path. Optional and quick (a few seconds).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from openfront.config import parse_config
from openfront.config.storage import StorageConfig
from openfront.edge.server import RunningEdge
from openfront.signing.sigv4 import Credentials, canonical_path, sign_s3
from openfront.storage.ports import random_search_start
from openfront.storage.region import ManagedRegion, prepare_managed

BUCKET, REGION = "bench-oac", "ap-northeast-2"
CHUNK = bytes(range(256)) * 4096  # 1 MiB


def _start_store(root: Path) -> tuple[ManagedRegion, subprocess.Popen[bytes]]:
    cfg = StorageConfig.model_validate(
        {"Regions": [{"Name": REGION, "Buckets": [{"Name": BUCKET}]}]}
    ).regions[0]
    region = prepare_managed(cfg, root / "regions", search_start=random_search_start())
    command = region.command(os.environ)
    with (root / "weed.log").open("ab") as log:
        proc = subprocess.Popen(
            command.argv, env=command.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 30
    while not region.answers(time.monotonic()):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"weed did not start; see {root / 'weed.log'}")
        time.sleep(0.05)  # polling a child process's readiness
    region.provision()
    return region, proc


async def _exchange(
    port: int, method: str, path: str, size: int, headers: list[tuple[str, str]]
) -> tuple[int, int]:
    """(status, body bytes read) of one request that streams ``size`` bytes up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"{method} {path} HTTP/1.1\r\nContent-Length: {size}\r\nConnection: close\r\n"
    head += "".join(f"{n}: {v}\r\n" for n, v in headers)
    writer.write(head.encode() + b"\r\n")
    for _ in range(size // len(CHUNK)):
        writer.write(CHUNK)
        await writer.drain()
    status_line = await reader.readline()
    got = 0
    while chunk := await reader.read(1 << 20):
        got += len(chunk)
    writer.close()
    return int(status_line.split()[1]), got


def _signed(region: ManagedRegion, method: str, key: str) -> list[tuple[str, str]]:
    creds = Credentials(region.credentials.access_key_id, region.credentials.secret_access_key)
    host = f"127.0.0.1:{region.ports.s3}"
    return sign_s3(method, canonical_path(f"/{BUCKET}/{key}"), "", [("Host", host)], creds,
                   REGION, time.time(), payload_hash="UNSIGNED-PAYLOAD")  # fmt: skip


async def _measure(region: ManagedRegion, mib: int) -> dict[str, float]:
    domain = f"{BUCKET}.s3.{REGION}.amazonaws.com"
    cfg: Any = parse_config(
        {
            "edge": {
                "listen": "127.0.0.1:0",
                "admin": {"listen": "127.0.0.1:0", "token": "bench"},
                "s3_origins": [
                    {
                        "domain_name": domain,
                        "endpoint": region.endpoint,
                        "region_dir": str(region.paths.root),
                    }
                ],
            },
            "OriginAccessControls": [{"Id": "EB", "OriginAccessControlConfig": {"Name": "b"}}],
            "distributions": [
                {
                    "DistributionConfig": {
                        "Origins": [
                            {"Id": "s3", "DomainName": domain, "S3OriginConfig": {},
                             "OriginAccessControlId": "EB"}
                        ],
                        "DefaultCacheBehavior": {
                            "TargetOriginId": "s3",
                            "AllowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "POST",
                                               "PATCH", "DELETE"],
                            "CachePolicyId": "CachingDisabled",
                        },
                    }
                }
            ],
        },
        "bench",
    )  # fmt: skip
    edge = RunningEdge(cfg)
    await edge.start()
    size = mib << 20
    out: dict[str, float] = {}
    try:
        for label, port, key, headers in (
            ("direct", region.ports.s3, "direct.bin", lambda m, k: _signed(region, m, k)),
            ("edge", edge.port, "edge.bin", lambda m, k: [("Host", "bench.local")]),
        ):
            path = f"/{BUCKET}/{key}" if label == "direct" else f"/{key}"
            t0 = time.perf_counter()
            status, _ = await _exchange(port, "PUT", path, size, headers("PUT", key))
            out[f"{label} upload MB/s"] = size / 1e6 / (time.perf_counter() - t0)
            assert status == 200, f"{label} PUT answered {status}"
            t0 = time.perf_counter()
            status, got = await _exchange(port, "GET", path, 0, headers("GET", key))
            out[f"{label} download MB/s"] = size / 1e6 / (time.perf_counter() - t0)
            assert status == 200 and got >= size, f"{label} GET answered {status}"
    finally:
        await edge.close()
    return out


def run(mib: int = 256) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="openfront-bench-s3-"))
    region, proc = _start_store(root)
    try:
        results = asyncio.run(_measure(region, mib))
        for name, value in results.items():
            print(f"{name:<24} {value:8.1f}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return results


if __name__ == "__main__":
    run()
