"""Replication lag between two managed stores, and MB/s straight to one store.

`python -m bench.run --replication [--replication-objects N] [--s3-mib M]`: two `weed mini` and
a `weed filer.sync` between them on 127.0.0.1, as `openfront up` runs them. Lag: PUT a small
object in one region, then HEAD it in the other every millisecond until it is there (from the
PUT's answer to the first successful HEAD), N times each way; p50/p95/max. Throughput: one PUT
and one GET of M MiB with boto3 (managed transfer: 8 MiB parts). Optional and quick (~10 s).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from openfront.config.storage import StorageConfig
from openfront.storage.client import s3_client
from openfront.storage.ports import random_search_start
from openfront.storage.region import ManagedRegion, prepare_managed, remove_stale_sockets
from openfront.storage.replication import SyncPair, SyncSide, free_port, sync_command

REGIONS = (("ap-northeast-2", "bench-rep-a"), ("sa-east-1", "bench-rep-b"))
POLL = 0.001
DEADLINE = 30.0


def _start(root: Path, name: str, bucket: str, taken: list[int]) -> tuple[ManagedRegion, Any]:
    cfg = StorageConfig.model_validate(
        {
            "Regions": [
                {"Name": name, "Store": {"MemoryLimit": "512MiB"}, "Buckets": [{"Name": bucket}]}
            ]
        }
    ).regions[0]
    region = prepare_managed(cfg, root / "regions", search_start=random_search_start(), taken=taken)
    taken += region.ports.all()
    command = region.command(os.environ)
    with (root / f"{name}.log").open("ab") as log:
        proc = subprocess.Popen(
            command.argv, env=command.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + DEADLINE
    while not region.answers(time.monotonic()):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"weed did not start; see {root / f'{name}.log'}")
        time.sleep(0.05)  # polling a child process's readiness
    region.provision()
    return region, proc


def _side(region: ManagedRegion, bucket: str) -> SyncSide:
    ports = region.ports
    return SyncSide(
        region.name,
        bucket,
        region.endpoint,
        str(region.paths.s3_config),
        f"{region.host}:{ports.filer}.{ports.filer_grpc}",
    )


def _client(region: ManagedRegion) -> Any:
    return s3_client(region.endpoint, region.credentials, region.name)


def _visible(client: Any, bucket: str, key: str) -> bool:
    try:
        client.head_object(Bucket=bucket, Key=key)
    except client.exceptions.ClientError:
        return False
    return True


def _lag(src: Any, src_bucket: str, dst: Any, dst_bucket: str, n: int, tag: str) -> list[float]:
    lags = []
    for i in range(n):
        key = f"lag/{tag}-{i}"
        src.put_object(Bucket=src_bucket, Key=key, Body=b"x" * 1024)
        acked = time.perf_counter()
        deadline = acked + DEADLINE
        while not _visible(dst, dst_bucket, key):
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{key} never reached {dst_bucket}")
            time.sleep(POLL)  # the probe interval of the measurement itself
        lags.append(time.perf_counter() - acked)
    return lags


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _throughput(client: Any, bucket: str, mib: int) -> tuple[float, float]:
    """MB/s of one upload (boto3's managed transfer: 8 MiB parts, 10 threads) and one
    streamed download of `mib` MiB."""
    import io

    body = os.urandom(1 << 20) * mib
    start = time.perf_counter()
    client.upload_fileobj(io.BytesIO(body), bucket, "throughput.bin")
    put = time.perf_counter() - start
    start = time.perf_counter()
    stream = client.get_object(Bucket=bucket, Key="throughput.bin")["Body"]
    while stream.read(1 << 20):
        pass
    get = time.perf_counter() - start
    size = mib * 1024 * 1024 / 1e6
    return size / put, size / get


def run(objects: int = 50, mib: int = 64) -> dict[str, Any]:
    procs: list[Any] = []
    regions: list[ManagedRegion] = []
    with tempfile.TemporaryDirectory(prefix="bench-replication-") as tmp:
        root = Path(tmp)
        taken: list[int] = []
        try:
            for name, bucket in REGIONS:
                region, proc = _start(root, name, bucket, taken)
                regions.append(region)
                procs.append(proc)
            pair = SyncPair(
                "bench", *(_side(r, b) for r, (_, b) in zip(regions, REGIONS, strict=True))
            )
            argv = sync_command(
                regions[0].weed, pair, log_dir=root, metrics_port=free_port("127.0.0.1")
            )
            with (root / "sync.log").open("ab") as log:
                procs.append(
                    subprocess.Popen(
                        argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                    )
                )
            a, b = (_client(r) for r in regions)
            (_, bucket_a), (_, bucket_b) = REGIONS
            _lag(a, bucket_a, b, bucket_b, 1, "warm")  # filer.sync's first connection
            lags = _lag(a, bucket_a, b, bucket_b, objects, "ab")
            lags += _lag(b, bucket_b, a, bucket_a, objects, "ba")
            put, get = _throughput(a, bucket_a, mib)
        finally:
            for proc in reversed(procs):
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
                    try:
                        proc.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        os.killpg(proc.pid, signal.SIGKILL)
                        proc.wait()
            for region in regions:
                remove_stale_sockets(region.ports)
    result = {
        "objects": 2 * objects,
        "lag_ms": {
            "p50": 1000 * _pct(lags, 0.5),
            "p95": 1000 * _pct(lags, 0.95),
            "max": 1000 * max(lags),
            "mean": 1000 * statistics.fmean(lags),
        },
        "mib": mib,
        "put_mb_s": put,
        "get_mb_s": get,
    }
    lag = result["lag_ms"]
    print(
        "Replication lag (PUT answered in one region -> visible in the other), "
        f"{2 * objects} objects of 1 KiB, both ways:"
    )
    print(f"  p50 {lag['p50']:.1f} ms   p95 {lag['p95']:.1f} ms   max {lag['max']:.1f} ms")
    print(
        f"Direct to one store (boto3, one {mib} MiB object): "
        f"upload {put:.0f} MB/s   download {get:.0f} MB/s"
    )
    return result
