"""`openfront storage`: the replication auditor, orphan-chunk fsck and object events of a stack's
managed stores (found through DATA/stack.json and DATA/replication/plan.json)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from openfront.cli._console import EXIT_CONFIG, fail, out, parse_hostport, warn

_DATA = click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("data"),
    show_default=True,
    help="Data dir of the stack (`openfront up --data`).",
)


@click.group()
def storage() -> None:
    """Replication audit, orphan chunks and object events of the stack's stores."""


@storage.command("audit")
@_DATA
@click.option("--repair", is_flag=True, help="Repair FAILED objects (last writer wins).")
@click.option("--deep", is_flag=True, help="Read every object's metadata, not only differing ones.")
@click.option("--grace", type=float, help="Grace window in seconds (default: the stack's).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole JSON report.")
@click.option("--watch", is_flag=True, help="Audit every interval until stopped (the service).")
@click.option(
    "--metrics-listen", metavar="HOST:PORT", help="With --watch: serve /metrics (Prometheus)."
)
@click.option("--ready-file", type=click.Path(path_type=Path, dir_okay=False), hidden=True)
def audit_cmd(
    data_dir: Path,
    repair: bool,
    deep: bool,
    grace: float | None,
    as_json: bool,
    watch: bool,
    metrics_listen: str | None,
    ready_file: Path | None,
) -> None:
    """Compare both buckets of every replication rule: status per object (PENDING, COMPLETED,
    FAILED, REPLICA), lag and divergence; writes DATA/replication/audit.json.

    Exits 1 when an object is FAILED (or the audit hit an error) and --repair was not given.
    Under `openfront up` the same audit runs as the `replication-audit` service (--watch),
    repairing and serving metrics.
    """
    from openfront.errors import StorageError
    from openfront.storage.audit import Auditor, save_report
    from openfront.storage.region import find_weed
    from openfront.storage.replication import plan_pairs, read_plan

    if grace is not None and grace < 0:
        fail("--grace: seconds, at least 0", EXIT_CONFIG)
    if metrics_listen is not None and not watch:
        fail("--metrics-listen goes with --watch", EXIT_CONFIG)
    try:
        plan = read_plan(data_dir)
        pairs = plan_pairs(plan)
    except StorageError as exc:
        fail(str(exc))
    weed: str | None
    try:
        weed = find_weed()
    except StorageError:
        weed = None  # no recorded deletes then: a key missing on one side is re-copied
    auditor = Auditor(
        pairs,
        grace=float(plan["grace_seconds"] if grace is None else grace),
        repair=repair or (watch and bool(plan.get("repair", True))),
        deep=deep,
        weed=weed,
        tombstone_lookback=float(plan.get("tombstone_lookback_seconds", 7 * 86_400)),
    )
    if watch:
        interval = float(plan.get("audit_interval_seconds", 60.0))
        _watch(auditor, data_dir, interval, metrics_listen, ready_file)
        return
    report = auditor.run()
    path = save_report(data_dir, report)
    if as_json:
        out.print_json(json.dumps(report))
    else:
        _print_summary(report, path)
    bad = any(p["divergent"] or p["errors"] for p in report["pairs"])
    raise click.exceptions.Exit(1 if bad and not repair else 0)


def _print_summary(report: dict[str, Any], path: Path) -> None:
    for pair in report["pairs"]:
        a, b = pair["a"], pair["b"]
        counts = ", ".join(f"{k} {v}" for k, v in pair["counts"].items())
        out.print(
            f"{pair['rule']}: s3://{a['bucket']} ({a['region']}) <-> s3://{b['bucket']} "
            f"({b['region']}): {counts}; lag {pair['lag_seconds']}s; "
            f"repaired {pair['repaired']['copy']} copies, {pair['repaired']['delete']} deletes"
        )
        for entry in pair["objects"][:20]:
            repair = entry.get("repair")
            todo = f" -> {repair['action']} on {repair['target_region']}" if repair else ""
            out.print(
                f"  {entry['status']:<9} {entry['key']} ({entry['reason']}, "
                f"{entry['age_seconds']}s){todo}"
            )
        for error in pair["errors"]:
            warn(f"  error: {error}")
    out.print(f"report: {path}")


def _watch(
    auditor: Any, data_dir: Path, interval: float, listen: str | None, ready_file: Path | None
) -> None:
    from prometheus_client import start_http_server

    from openfront.stack.stackfile import write_json_atomic
    from openfront.storage.audit import AuditMetrics, report_path, save_report

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    auditor.stop = stop
    metrics = AuditMetrics()
    url = ""
    if listen is not None:
        host, port = parse_hostport(listen, "--metrics-listen")
        server, _thread = start_http_server(port, host, registry=metrics.registry)
        url = f"http://{host}:{server.server_port}"
    if ready_file is not None:
        info = {"url": url, "pid": os.getpid(), "report": str(report_path(data_dir.resolve()))}
        if url:
            info["metrics_url"] = f"{url}/metrics"
        write_json_atomic(ready_file, info)
    while not stop.is_set():
        report = auditor.run()
        if stop.is_set():
            break  # a cut-short pass would understate every count
        save_report(data_dir, report)
        metrics.record(report)
        for pair in report["pairs"]:
            for error in pair["errors"]:
                print(f"{pair['rule']}: {error}", file=sys.stderr, flush=True)
        stop.wait(interval)


def _managed_region(data_dir: Path, region: str | None) -> dict[str, Any]:
    from openfront.stack.stackfile import read_stack

    try:
        services = read_stack(data_dir / "stack.json")["services"]
    except (OSError, ValueError) as exc:
        fail(f"cannot read {data_dir / 'stack.json'}: {exc}")
    regions = {
        str(info["region"]): info
        for info in services.values()
        if isinstance(info, dict) and info.get("managed") and info.get("filer_address")
    }
    if not regions:
        fail(f"no managed store is listed in {data_dir / 'stack.json'}: start `openfront up`")
    name = region or sorted(regions)[0]
    if name not in regions:
        fail(f"--region {name}: not a managed region of this stack", EXIT_CONFIG)
    return dict(regions[name])


_REGION = click.option("--region", metavar="NAME", help="Region (default: the first listed).")


@storage.command("fsck")
@_DATA
@_REGION
@click.option("--apply", is_flag=True, help="Delete the orphaned chunks (-reallyDeleteFromVolume).")
@click.option(
    "--cutoff", default="5m", show_default=True, help="Only chunks older than this (weed duration)."
)
def fsck_cmd(data_dir: Path, region: str | None, apply: bool, cutoff: str) -> None:
    """Count (or with --apply delete) chunks no object references, left by a crash mid-copy."""
    from openfront.errors import StorageError
    from openfront.storage.fsck import run_fsck
    from openfront.storage.region import find_weed

    info = _managed_region(data_dir, region)
    try:
        result = run_fsck(
            find_weed(),
            str(info["master_address"]),
            str(info["filer_address"]),
            Path(str(info["data_dir"])) / "run" / "fsck",
            apply=apply,
            cutoff=cutoff,
        )
    except StorageError as exc:
        fail(f"region {info['region']}: {exc}")
    if result.orphans == 0:
        n = result.entries
        checked = "" if n is None else f" ({n} chunk{'' if n == 1 else 's'} checked)"
        out.print(f"{info['region']}: no orphaned chunks{checked}")
        return
    verb = "deleted" if apply else "found (dry run; --apply deletes them)"
    out.print(
        f"{info['region']}: {result.entries} chunks checked, {result.orphans} orphaned "
        f"({result.orphan_bytes} bytes) {verb}"
    )


@storage.command("events")
@_DATA
@_REGION
@click.option("--bucket", help="Bucket (default: the region's first).")
@click.option(
    "--offset-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Durable offset (default DATA/replication/events-<region>-<bucket>.json).",
)
@click.option("--local-only", is_flag=True, help="Leave out writes filer.sync replicated here.")
def events_cmd(
    data_dir: Path,
    region: str | None,
    bucket: str | None,
    offset_file: Path | None,
    local_only: bool,
) -> None:
    """Print the bucket's object events as JSON lines, resuming from the saved offset."""
    from openfront.storage.events import EventSubscriber
    from openfront.storage.region import find_weed

    info = _managed_region(data_dir, region)
    buckets = list(info.get("buckets") or [])
    name = bucket or (buckets[0] if buckets else None)
    if name is None or name not in buckets:
        fail(f"--bucket: choose one of {', '.join(buckets) or '(none)'}", EXIT_CONFIG)
    where = info["region"]
    offsets = offset_file or data_dir / "replication" / f"events-{where}-{name}.json"
    subscriber = EventSubscriber(find_weed(), str(info["filer_address"]), name, str(where), offsets)

    def show(event: Any) -> None:
        if not (local_only and event.from_replication):
            print(json.dumps(event.to_json()), flush=True)

    async def follow() -> None:
        # Ctrl-C or SIGTERM cancels the subscriber, which then stops its filer.meta.tail (a
        # signal to this process alone would leave that child running).
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await subscriber.run(show)

    asyncio.run(follow())
