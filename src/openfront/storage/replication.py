"""Cross-region replication: one supervised `weed filer.sync` per enabled rule, and the plan file
(DATA/replication/plan.json) that tells the auditor and `openfront storage` where each side is.

filer.sync keeps its checkpoint in the two filers (under /etc/...), about once a minute, and
resumes from it after a restart; replays are harmless. Its output (including progress bars) goes
to DATA/run/replication-<a>-<b>.log and its glog files to DATA/run/replication-<a>-<b>/.
"""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openfront.config.storage import BLOCK_SPAN, ReplicationConfig, ReplicationRule
from openfront.errors import StorageError
from openfront.stack.stackfile import write_json_atomic
from openfront.stack.supervisor import ServiceSpec
from openfront.storage.region import ManagedRegion
from openfront.storage.weed import gomemlimit, weed_env

SERVICE_PREFIX = "replication-"
MAX_RULES = 11  # one metrics port each in BP+9 .. BP+19 of the Source store's port step
PLAN_VERSION = 1
SYNC_READY_TIMEOUT = 30.0
SYNC_STOP_GRACE = 10.0


def replication_service(region_a: str, region_b: str) -> str:
    return f"{SERVICE_PREFIX}{region_a}-{region_b}"


@dataclass(frozen=True, slots=True)
class SyncSide:
    region: str
    bucket: str
    endpoint: str  # S3
    credentials_file: str
    filer_address: str  # host:port.grpcport

    @property
    def path(self) -> str:
        return f"/buckets/{self.bucket}"

    def to_json(self) -> dict[str, str]:
        return {
            "region": self.region,
            "bucket": self.bucket,
            "endpoint": self.endpoint,
            "credentials_file": self.credentials_file,
            "filer_address": self.filer_address,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SyncSide:
        return cls(
            str(data["region"]),
            str(data["bucket"]),
            str(data["endpoint"]),
            str(data["credentials_file"]),
            str(data["filer_address"]),
        )


@dataclass(frozen=True, slots=True)
class SyncPair:
    rule_id: str
    a: SyncSide
    b: SyncSide
    bidirectional: bool = True

    @property
    def service(self) -> str:
        return replication_service(self.a.region, self.b.region)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.rule_id,
            "service": self.service,
            "a": self.a.to_json(),
            "b": self.b.to_json(),
            "bidirectional": self.bidirectional,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SyncPair:
        return cls(
            str(data["id"]),
            SyncSide.from_json(data["a"]),
            SyncSide.from_json(data["b"]),
            bool(data.get("bidirectional", True)),
        )


def _side(region: ManagedRegion, bucket: str) -> SyncSide:
    ports = region.ports
    return SyncSide(
        region.name,
        bucket,
        region.endpoint,
        str(region.paths.s3_config),
        f"{region.host}:{ports.filer}.{ports.filer_grpc}",
    )


def sync_pairs(
    rules: Sequence[ReplicationRule], managed: Sequence[ManagedRegion]
) -> list[SyncPair]:
    by_name = {r.name: r for r in managed}
    pairs = []
    for rule in rules:
        try:
            a, b = by_name[rule.source.region], by_name[rule.destination.region]
        except KeyError as exc:
            raise StorageError(
                f"replication rule {rule.id!r}: region {exc} is not managed"
            ) from None
        pairs.append(
            SyncPair(
                rule.id,
                _side(a, rule.source.bucket),
                _side(b, rule.destination.bucket),
                rule.bidirectional,
            )
        )
    return pairs


def plan_path(data_dir: Path) -> Path:
    return data_dir / "replication" / "plan.json"


def write_plan(data_dir: Path, pairs: Sequence[SyncPair], config: ReplicationConfig) -> Path:
    """What the auditor needs (no secrets: credentials stay in each region's s3.json)."""
    path = plan_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(
        path,
        {
            "version": PLAN_VERSION,
            "pairs": [p.to_json() for p in pairs],
            "grace_seconds": config.grace_seconds,
            "audit_interval_seconds": config.audit_interval_seconds,
            "repair": config.repair,
            "tombstone_lookback_seconds": config.tombstone_lookback_seconds,
        },
    )
    return path


def read_plan(data_dir: Path) -> dict[str, Any]:
    path = plan_path(data_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StorageError(
            f"{path} does not exist: start the stack with `openfront up` (replication rules "
            "are written there)"
        ) from None
    except (OSError, ValueError) as exc:
        raise StorageError(f"{path}: unreadable ({exc})") from None
    if not isinstance(data, dict) or data.get("version") != PLAN_VERSION:
        raise StorageError(f"{path}: not a replication plan of this OpenFront version")
    return data


def plan_pairs(plan: Mapping[str, Any]) -> list[SyncPair]:
    try:
        return [SyncPair.from_json(p) for p in plan.get("pairs", [])]
    except (KeyError, TypeError) as exc:
        raise StorageError(f"replication plan: malformed pair ({exc})") from None


def sync_command(
    weed: str, pair: SyncPair, *, log_dir: Path, metrics_port: int, host: str = "127.0.0.1"
) -> tuple[str, ...]:
    argv = [
        weed,
        f"-logdir={log_dir}",
        "-alsologtostderr=false",
        "filer.sync",
        f"-a={pair.a.filer_address}",
        f"-b={pair.b.filer_address}",
        f"-a.path={pair.a.path}",
        f"-b.path={pair.b.path}",
        f"-metricsIp={host}",
        f"-metricsPort={metrics_port}",
    ]
    if not pair.bidirectional:
        argv.append("-isActivePassive")
    return tuple(argv)


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def sync_metrics_port(source_base_port: int, rule_index: int) -> int:
    """filer.sync's metrics port: in the unused part of the Source store's port step
    (BP+9 .. BP+19; weed uses BP..BP+8). It must stay the same across restarts, because a busy
    metrics port makes filer.sync exit, and a port taken from the ephemeral range (bind to 0)
    can be handed to an outgoing connection before the next restart."""
    if not 0 <= rule_index < MAX_RULES:
        raise ValueError(f"at most {MAX_RULES} replication rules")
    return source_base_port + BLOCK_SPAN + rule_index


def sync_spec(
    pair: SyncPair,
    weed: str,
    run_dir: Path,
    environ: Mapping[str, str],
    memory_limit: int,
    metrics_port: int,
    host: str = "127.0.0.1",
) -> ServiceSpec:
    """filer.sync as a service; ready once its metrics endpoint answers (it has then dialled
    both filers)."""
    log_dir = run_dir / pair.service
    log_dir.mkdir(parents=True, exist_ok=True)
    port = metrics_port
    url = f"http://{host}:{port}"
    metrics = f"{url}/metrics"
    env = weed_env(environ, memory_limit)

    async def probe() -> dict[str, Any] | None:
        if not await asyncio.to_thread(_answers, metrics):
            return None
        return {
            "url": url,
            "metrics_url": metrics,
            "rule": pair.rule_id,
            "a": {"region": pair.a.region, "bucket": pair.a.bucket},
            "b": {"region": pair.b.region, "bucket": pair.b.bucket},
            "bidirectional": pair.bidirectional,
            "gomemlimit": gomemlimit(memory_limit),
            "log_dir": str(log_dir),
        }

    return ServiceSpec(
        pair.service,
        (),
        run_dir / f"{pair.service}.log",
        ready_timeout=SYNC_READY_TIMEOUT,
        command=sync_command(weed, pair, log_dir=log_dir, metrics_port=port, host=host),
        env=env,
        probe=probe,
        grace=SYNC_STOP_GRACE,
    )


AUDITOR_SERVICE = "replication-audit"


def auditor_spec(data_dir: Path, run_dir: Path) -> ServiceSpec:
    """The auditor as one supervised loop over every pair (`openfront storage audit --watch`)."""
    return ServiceSpec(
        AUDITOR_SERVICE,
        ("storage", "audit", "--data", str(data_dir), "--watch", "--metrics-listen", "127.0.0.1:0"),
        run_dir / f"{AUDITOR_SERVICE}.log",
    )
