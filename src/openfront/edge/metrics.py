"""Edge counters: plain ints on the hot path, Prometheus text only when scraped.

Each worker keeps an `EdgeMetrics`; `snapshot()` turns it into JSON-able data. With prefork
workers every worker writes its snapshot to a shared directory (`write_snapshot`), and the admin
port sums them (`read_snapshots` + `merge`) before `render_prometheus`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from bisect import bisect_left
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

SNAPSHOT_VERSION = 1
PREFIX = "openfront_edge_"
# First-byte latency in seconds; 30 s is CloudFront's default origin response timeout.
BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

_INTS = ("requests", "bytes_out", "bytes_in", "origin_requests")
_MAPS = ("results", "statuses", "origin_errors")


class Tally:
    """Hits of one status counted by the repeated-head path: two additions per answer.

    Folded into its distribution's requests, bytes, results["Hit"] and statuses when read.
    """

    __slots__ = ("bytes", "count", "status")

    def __init__(self, status: int) -> None:
        self.status = status
        self.count = 0
        self.bytes = 0


class _Dist:
    __slots__ = (
        "bytes_in",
        "bytes_out",
        "latency_counts",
        "latency_sum",
        "origin_errors",
        "origin_requests",
        "requests",
        "results",
        "statuses",
        "tallies",
    )

    def __init__(self) -> None:
        self.requests = 0
        self.bytes_out = 0
        self.bytes_in = 0
        self.results: dict[str, int] = {}
        self.statuses: dict[int, int] = {}
        self.origin_requests = 0
        self.origin_errors: dict[str, int] = {}
        # Non-cumulative per-bucket counts; the last slot is +Inf.
        self.latency_counts = [0] * (len(BUCKETS) + 1)
        self.latency_sum = 0.0
        self.tallies: dict[int, Tally] = {}

    def to_json(self) -> dict[str, Any]:
        results = dict(self.results)
        statuses = dict(self.statuses)
        requests, bytes_out = self.requests, self.bytes_out
        for t in self.tallies.values():
            if t.count:
                requests += t.count
                bytes_out += t.bytes
                results["Hit"] = results.get("Hit", 0) + t.count
                statuses[t.status] = statuses.get(t.status, 0) + t.count
        return {
            "requests": requests,
            "bytes_out": bytes_out,
            "bytes_in": self.bytes_in,
            "results": results,
            "statuses": {str(k): v for k, v in statuses.items()},
            "origin_requests": self.origin_requests,
            "origin_errors": dict(self.origin_errors),
            "origin_latency": {"counts": list(self.latency_counts), "sum": self.latency_sum},
        }


class EdgeMetrics:
    """Per-distribution counters; call from the event loop thread only (no locks)."""

    def __init__(self) -> None:
        self._dists: dict[str, _Dist] = {}

    def _dist(self, dist_id: str) -> _Dist:
        d = self._dists.get(dist_id)
        if d is None:
            d = self._dists[dist_id] = _Dist()
        return d

    def request(
        self, dist_id: str, status: int, result_type: str, bytes_out: int, bytes_in: int = 0
    ) -> None:
        """One viewer response; bytes_out counts header and body bytes sent."""
        d = self._dists.get(dist_id) or self._dist(dist_id)
        d.requests += 1
        d.bytes_out += bytes_out
        d.bytes_in += bytes_in
        results = d.results
        results[result_type] = results.get(result_type, 0) + 1
        statuses = d.statuses
        statuses[status] = statuses.get(status, 0) + 1

    def hit_tally(self, dist_id: str, status: int) -> Tally:
        """The counter of `status` hits on `dist_id` for the repeated-head path."""
        d = self._dists.get(dist_id) or self._dist(dist_id)
        t = d.tallies.get(status)
        if t is None:
            t = d.tallies[status] = Tally(status)
        return t

    def origin(self, dist_id: str, seconds: float | None, error_type: str | None = None) -> None:
        """One origin fetch: time to first byte (None if none arrived) and its failure, if any."""
        d = self._dists.get(dist_id) or self._dist(dist_id)
        d.origin_requests += 1
        if error_type is not None:
            errors = d.origin_errors
            errors[error_type] = errors.get(error_type, 0) + 1
        if seconds is not None:
            d.latency_counts[bisect_left(BUCKETS, seconds)] += 1
            d.latency_sum += seconds

    def snapshot(self) -> dict[str, Any]:
        return {
            "version": SNAPSHOT_VERSION,
            "buckets": list(BUCKETS),
            "distributions": {k: d.to_json() for k, d in sorted(self._dists.items())},
        }

    def write_snapshot(self, path: Path) -> None:
        """Atomically replace `path` with the current snapshot (temp file + rename)."""
        dump_snapshot(self.snapshot(), path)


def dump_snapshot(snapshot: dict[str, Any], path: Path) -> None:
    """Write a snapshot atomically; a reader sees the old file or the new one, never half."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(snapshot, fh, separators=(",", ":"))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_snapshots(directory: Path) -> list[dict[str, Any]]:
    """Every `*.json` snapshot in `directory`; unreadable or invalid ones are logged and skipped."""
    out: list[dict[str, Any]] = []
    for p in sorted(Path(directory).glob("*.json")):
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            check_snapshot(data)
        except (OSError, ValueError) as exc:
            log.warning("metrics: skipped snapshot %s: %s", p, exc)
            continue
        out.append(data)
    return out


def _check_count(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where}: expected a non-negative integer, got {value!r}")
    return value


def _check_map(value: object, where: str) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object")
    for k, v in value.items():
        _check_count(v, f"{where}.{k}")
    return value


def check_snapshot(data: object) -> None:
    """Raise ValueError naming the bad key if `data` is not a snapshot of this version."""
    if not isinstance(data, dict) or data.get("version") != SNAPSHOT_VERSION:
        raise ValueError(f"not a version {SNAPSHOT_VERSION} metrics snapshot")
    if data.get("buckets") != list(BUCKETS):
        raise ValueError("snapshot histogram buckets differ from this build's")
    dists = data.get("distributions")
    if not isinstance(dists, dict):
        raise ValueError("distributions: expected an object")
    for name, d in dists.items():
        if not isinstance(d, dict):
            raise ValueError(f"distributions.{name}: expected an object")
        for key in _INTS:
            _check_count(d.get(key), f"distributions.{name}.{key}")
        for key in _MAPS:
            _check_map(d.get(key), f"distributions.{name}.{key}")
        lat = d.get("origin_latency")
        where = f"distributions.{name}.origin_latency"
        if not isinstance(lat, dict) or not isinstance(lat.get("counts"), list):
            raise ValueError(f"{where}: expected counts and sum")
        if len(lat["counts"]) != len(BUCKETS) + 1:
            raise ValueError(f"{where}.counts: expected {len(BUCKETS) + 1} buckets")
        for i, c in enumerate(lat["counts"]):
            _check_count(c, f"{where}.counts[{i}]")
        if not isinstance(lat.get("sum"), int | float):
            raise ValueError(f"{where}.sum: expected a number")


def _empty_dist() -> dict[str, Any]:
    return _Dist().to_json()


def merge(snapshots: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum snapshots (one per prefork worker) into one; ValueError on an invalid snapshot."""
    dists: dict[str, dict[str, Any]] = {}
    for snap in snapshots:
        check_snapshot(snap)
        for name, d in snap["distributions"].items():
            acc = dists.setdefault(name, _empty_dist())
            for key in _INTS:
                acc[key] += d[key]
            for key in _MAPS:
                m = acc[key]
                for k, v in d[key].items():
                    m[k] = m.get(k, 0) + v
            lat = acc["origin_latency"]
            lat["counts"] = [
                a + b for a, b in zip(lat["counts"], d["origin_latency"]["counts"], strict=True)
            ]
            lat["sum"] += d["origin_latency"]["sum"]
    return {
        "version": SNAPSHOT_VERSION,
        "buckets": list(BUCKETS),
        "distributions": dict(sorted(dists.items())),
    }


class _SnapshotCollector(Collector):
    def __init__(self, snapshot: dict[str, Any]) -> None:
        check_snapshot(snapshot)
        self._snap = snapshot

    def collect(self) -> Iterator[Any]:
        dists: dict[str, dict[str, Any]] = self._snap["distributions"]
        yield self._counter("requests", "Viewer requests answered.", dists, "requests")
        yield self._counter("bytes_out", "Bytes sent to viewers.", dists, "bytes_out")
        yield self._counter("bytes_in", "Bytes received from viewers.", dists, "bytes_in")
        yield self._labelled(
            "results", "Viewer responses by X-Cache result type.", dists, "results", "result"
        )
        yield self._labelled(
            "responses", "Viewer responses by status code.", dists, "statuses", "status"
        )
        yield self._counter(
            "origin_requests", "Requests sent to an origin.", dists, "origin_requests"
        )
        yield self._labelled(
            "origin_errors",
            "Origin failures by x-edge-detailed-result-type.",
            dists,
            "origin_errors",
            "error",
        )
        yield self._histogram(dists)

    @staticmethod
    def _counter(
        name: str, doc: str, dists: dict[str, dict[str, Any]], key: str
    ) -> CounterMetricFamily:
        fam = CounterMetricFamily(PREFIX + name, doc, labels=["distribution"])
        for dist, d in dists.items():
            fam.add_metric([dist], d[key])
        return fam

    @staticmethod
    def _labelled(
        name: str, doc: str, dists: dict[str, dict[str, Any]], key: str, label: str
    ) -> CounterMetricFamily:
        fam = CounterMetricFamily(PREFIX + name, doc, labels=["distribution", label])
        for dist, d in dists.items():
            for value, count in sorted(d[key].items()):
                fam.add_metric([dist, value], count)
        return fam

    @staticmethod
    def _histogram(dists: dict[str, dict[str, Any]]) -> HistogramMetricFamily:
        fam = HistogramMetricFamily(
            PREFIX + "origin_first_byte_seconds",
            "Seconds from sending an origin request to its first response byte.",
            labels=["distribution"],
        )
        for dist, d in dists.items():
            lat = d["origin_latency"]
            buckets: list[tuple[str, float]] = []
            total = 0
            for le, count in zip([*map(str, BUCKETS), "+Inf"], lat["counts"], strict=True):
                total += count
                buckets.append((le, total))
            fam.add_metric([dist], buckets, sum_value=lat["sum"])
        return fam


def render_prometheus(snapshot: dict[str, Any]) -> bytes:
    """Prometheus text exposition (format 0.0.4) of a snapshot or merged snapshot."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(snapshot))
    return generate_latest(registry)
