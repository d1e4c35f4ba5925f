"""The replication auditor: lists both buckets of each replication pair, compares them with
audit_rules, repairs FAILED objects (last writer wins) and reports statuses, lag and divergence
as a JSON report and Prometheus metrics.

Listings are paged and merged in key order, so memory stays bounded by a page per side plus the
report's sample of objects that are not COMPLETED. Objects are read (HEAD) only when the listing
shows a difference, or for every key with `deep`. Before a repair both sides are read again and
the decision is taken anew, so a write that raced the audit is not overwritten by stale data.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

from openfront.errors import StorageError
from openfront.stack.stackfile import write_json_atomic
from openfront.storage.audit_rules import (
    SIDES,
    ActionKind,
    ObjectState,
    Status,
    Tally,
    Verdict,
    decide,
    merge_listings,
    needs_metadata,
)
from openfront.storage.client import describe_error, error_code, s3_client
from openfront.storage.credentials import read_credentials_file
from openfront.storage.events import recorded_deletes
from openfront.storage.replication import SyncPair, SyncSide
from openfront.storage.versioning import VERSION_META

REPORT_SAMPLE = 1000  # objects listed per pair in the report (not COMPLETED ones)
_COPIED_HEADERS = (
    "ContentType",
    "CacheControl",
    "ContentDisposition",
    "ContentEncoding",
    "ContentLanguage",
)
Clock = Callable[[], float]


@dataclass
class Side:
    name: str  # "a" or "b"
    config: SyncSide
    client: Any

    @property
    def label(self) -> str:
        return f"s3://{self.config.bucket} ({self.config.region})"


def open_side(name: str, config: SyncSide) -> Side:
    credentials = read_credentials_file(Path(config.credentials_file))
    client = s3_client(config.endpoint, credentials, config.region, connect_timeout=3.0)
    return Side(name, config, client)


def list_bucket(side: Side) -> Iterator[tuple[str, ObjectState]]:
    paginator = side.client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=side.config.bucket, PaginationConfig={"PageSize": 1000}):
        for item in page.get("Contents", []):
            yield (
                item["Key"],
                ObjectState(
                    str(item.get("ETag", "")),
                    int(item.get("Size", 0)),
                    item["LastModified"].timestamp(),
                ),
            )


def head(side: Side, key: str) -> ObjectState | None:
    try:
        meta = side.client.head_object(Bucket=side.config.bucket, Key=key)
    except Exception as exc:
        if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    metadata = {k.lower(): v for k, v in (meta.get("Metadata") or {}).items()}
    return ObjectState(
        str(meta.get("ETag", "")),
        int(meta.get("ContentLength", 0)),
        meta["LastModified"].timestamp(),
        metadata.get(VERSION_META),
        metadata,
    )


def copy_object(source: Side, target: Side, key: str) -> None:
    """S3 CopyObject across endpoints: a streamed GET from one store into a PUT on the other,
    with the source's content headers and user metadata (its version stamp included)."""
    got = source.client.get_object(Bucket=source.config.bucket, Key=key)
    extra: dict[str, Any] = {"Metadata": got.get("Metadata") or {}}
    for name in _COPIED_HEADERS:
        if got.get(name):
            extra[name] = got[name]
    body = got["Body"]
    try:
        target.client.upload_fileobj(body, target.config.bucket, key, ExtraArgs=extra)
    finally:
        body.close()


@dataclass
class PairReport:
    pair: SyncPair
    tally: Tally = field(default_factory=Tally)
    objects: list[dict[str, Any]] = field(default_factory=list)
    repaired: dict[str, int] = field(default_factory=lambda: {"copy": 0, "delete": 0})
    errors: list[str] = field(default_factory=list)
    truncated: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.pair.rule_id,
            "a": {"region": self.pair.a.region, "bucket": self.pair.a.bucket},
            "b": {"region": self.pair.b.region, "bucket": self.pair.b.bucket},
            "counts": self.tally.counts,
            "lag_seconds": round(self.tally.lag, 3),
            "divergent": self.tally.divergent,
            "repaired": self.repaired,
            "objects": self.objects,
            "objects_left_out": self.truncated,
            "errors": self.errors,
        }


@dataclass
class Auditor:
    """One audit pass over every pair; `repair` carries out the FAILED verdicts' actions."""

    pairs: list[SyncPair]
    grace: float
    repair: bool = False
    deep: bool = False
    weed: str | None = None  # for reading recorded deletes from the filers' metadata logs
    tombstone_lookback: float = 7 * 86_400.0
    clock: Clock = time.time
    stop: threading.Event | None = None  # set = finish the key at hand and return

    def run(self) -> dict[str, Any]:
        started = self.clock()
        reports = [self.audit_pair(pair) for pair in self.pairs]
        return {
            "generated_at": started,
            "duration_seconds": round(self.clock() - started, 3),
            "grace_seconds": self.grace,
            "repair": self.repair,
            "pairs": [r.to_json() for r in reports],
        }

    def audit_pair(self, pair: SyncPair) -> PairReport:
        report = PairReport(pair)
        try:
            sides = {"a": open_side("a", pair.a), "b": open_side("b", pair.b)}
            self._compare(pair, sides, report)
        except StorageError as exc:
            report.errors.append(str(exc))
        except Exception as exc:
            report.errors.append(describe_error(exc))
        return report

    def _compare(self, pair: SyncPair, sides: Mapping[str, Side], report: PairReport) -> None:
        regions = {"a": pair.a.region, "b": pair.b.region}
        deletes: dict[str, float] | None = None
        for key, a, b in merge_listings(list_bucket(sides["a"]), list_bucket(sides["b"])):
            if self.stop is not None and self.stop.is_set():
                report.errors.append("stopped before the end of the listing")
                return
            if needs_metadata(a, b, deep=self.deep):
                a = head(sides["a"], key) if a is not None else None
                b = head(sides["b"], key) if b is not None else None
                if a is None and b is None:
                    continue  # deleted on both sides since the listing
            now = self.clock()
            deleted_at = None
            if (a is None) != (b is None):
                present = a or b
                assert present is not None
                if now - present.last_modified >= self.grace:
                    if deletes is None:
                        deletes = self._deletes(pair, now)
                    deleted_at = deletes.get(key)
            verdict = decide(
                key, a, b, regions=regions, now=now, grace=self.grace, deleted_at=deleted_at
            )
            if verdict.status is Status.FAILED and self.repair:
                verdict = self._repair(verdict, sides, regions, deleted_at, report)
            report.tally.add(verdict)
            if verdict.status is not Status.COMPLETED:
                self._note(report, verdict, regions)

    def _deletes(self, pair: SyncPair, now: float) -> dict[str, float]:
        if self.weed is None:
            return {}
        since = int((now - self.tombstone_lookback) * 1e9)
        merged: dict[str, float] = {}
        for side in (pair.a, pair.b):
            found = recorded_deletes(
                self.weed,
                side.filer_address,
                side.bucket,
                side.region,
                since_ns=max(0, since),
                now_ns=int(now * 1e9),
            )
            for key, when in found.items():
                merged[key] = max(when, merged.get(key, 0.0))
        return merged

    def _repair(
        self,
        verdict: Verdict,
        sides: Mapping[str, Side],
        regions: Mapping[str, str],
        deleted_at: float | None,
        report: PairReport,
    ) -> Verdict:
        key = verdict.key
        fresh = {name: head(sides[name], key) for name in SIDES}
        if fresh["a"] is None and fresh["b"] is None:
            return Verdict(key, Status.COMPLETED)
        again = decide(
            key,
            fresh["a"],
            fresh["b"],
            regions=regions,
            now=self.clock(),
            grace=self.grace,
            deleted_at=deleted_at,
        )
        if again.status is not Status.FAILED or again.action != verdict.action:
            return again  # something changed since the listing: judge it next time
        action = again.action
        assert action is not None
        target = sides[action.target]
        try:
            if action.kind is ActionKind.COPY:
                assert action.source is not None
                copy_object(sides[action.source], target, key)
            else:
                target.client.delete_object(Bucket=target.config.bucket, Key=key)
        except Exception as exc:
            report.errors.append(f"{key}: repair failed: {describe_error(exc)}")
            return again
        report.repaired[action.kind.value] += 1
        # The repaired key is COMPLETED from the winner's side; replication of the repair
        # write itself is checked by the next audit.
        return Verdict(key, Status.COMPLETED, again.source, reason=f"repaired ({action.kind})")

    def _note(self, report: PairReport, verdict: Verdict, regions: Mapping[str, str]) -> None:
        if len(report.objects) >= REPORT_SAMPLE:
            report.truncated += 1
            return
        entry: dict[str, Any] = {
            "key": verdict.key,
            "status": verdict.status.value,
            "age_seconds": round(verdict.age, 3),
            "reason": verdict.reason,
        }
        if verdict.source is not None:
            entry["source_region"] = regions[verdict.source]
        if verdict.action is not None:
            entry["repair"] = {
                "action": verdict.action.kind.value,
                "target_region": regions[verdict.action.target],
            }
        report.objects.append(entry)


class AuditMetrics:
    """The auditor's Prometheus metrics, labelled by rule."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.objects = Gauge(
            "openfront_replication_objects",
            "Objects per replication status at the last audit",
            ["rule", "status"],
            registry=r,
        )
        self.lag = Gauge(
            "openfront_replication_lag_seconds",
            "Age of the oldest PENDING object at the last audit",
            ["rule"],
            registry=r,
        )
        self.divergent = Gauge(
            "openfront_replication_divergent_objects",
            "FAILED objects (still different after the grace window) at the last audit",
            ["rule"],
            registry=r,
        )
        self.repairs = Counter(
            "openfront_replication_repairs",
            "Objects repaired by the auditor",
            ["rule", "action"],
            registry=r,
        )
        self.errors = Counter(
            "openfront_replication_audit_errors",
            "Audit passes that hit an error",
            ["rule"],
            registry=r,
        )
        self.last = Gauge(
            "openfront_replication_last_audit_timestamp_seconds",
            "When the last audit started",
            registry=r,
        )
        self.duration = Gauge(
            "openfront_replication_audit_duration_seconds",
            "How long the last audit took",
            registry=r,
        )

    def record(self, report: Mapping[str, Any]) -> None:
        self.last.set(report["generated_at"])
        self.duration.set(report["duration_seconds"])
        for pair in report["pairs"]:
            rule = pair["rule"]
            for status, count in pair["counts"].items():
                self.objects.labels(rule, status).set(count)
            self.lag.labels(rule).set(pair["lag_seconds"])
            self.divergent.labels(rule).set(pair["divergent"])
            for action, count in pair["repaired"].items():
                self.repairs.labels(rule, action).inc(count)
            if pair["errors"]:
                self.errors.labels(rule).inc()


def report_path(data_dir: Path) -> Path:
    return data_dir / "replication" / "audit.json"


def save_report(data_dir: Path, report: Mapping[str, Any]) -> Path:
    path = report_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, report)
    return path
