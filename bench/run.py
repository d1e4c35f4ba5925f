"""Side-by-side benchmarks of our edge, nginx proxy_cache and Varnish: `python -m bench.run`.

Every contender sits in front of the same origin (nginx serving static files; /slow/ proxied to a
counting Python origin), runs one worker pinned to core 0, and is loaded by wrk pinned to core 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console

from bench import servers
from bench.report import SCENARIOS, print_report, targets
from bench.scenarios import Bench
from bench.servers import BenchError

ALL_SCENARIOS = list(SCENARIOS)
TOOLS = ("nginx", "varnishd", "wrk", "taskset")
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    p.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run (default 10)")
    p.add_argument("--quick", action="store_true", help="smoke run: 2 s runs, 5,000 objects")
    p.add_argument("--repeat", type=int, default=1, help="wrk runs per figure; the median is shown")
    p.add_argument("--only", default=",".join(servers.CONTENDERS), help="nginx,varnish,ours")
    p.add_argument("--scenarios", default=",".join(ALL_SCENARIOS), help=",".join(ALL_SCENARIOS))
    p.add_argument("--objects", type=int, default=None, help="objects for memory (20,000)")
    p.add_argument("--clients", type=int, default=1000, help="concurrent misses (default 1,000)")
    p.add_argument("--origin-delay", type=float, default=0.2, help="slow origin delay, seconds")
    p.add_argument("--no-install", action="store_true", help="never run bench/install.sh")
    p.add_argument("--no-json", action="store_true", help="do not write bench/results/*.json")
    p.add_argument(
        "--s3-origin",
        action="store_true",
        help="only the S3-origin section: MB/s up/down through the edge vs the store (weed)",
    )
    p.add_argument("--s3-mib", type=int, default=256, help="MiB per S3 transfer (default 256)")
    p.add_argument(
        "--replication",
        action="store_true",
        help="only the replication section: lag p50/p95 between two stores, MB/s to one store",
    )
    p.add_argument("--replication-objects", type=int, default=50, help="objects each way (50)")
    args = p.parse_args(argv)
    if args.quick:
        args.duration = min(args.duration, 2.0)
    if args.objects is None:
        args.objects = 5000 if args.quick else 20000
    args.only = _pick(p, args.only, list(servers.CONTENDERS), "--only")
    args.scenarios = _pick(p, args.scenarios, ALL_SCENARIOS, "--scenarios")
    if min(args.duration, args.objects, args.clients, args.repeat) <= 0 or args.origin_delay < 0:
        p.error("--duration, --objects, --clients, --repeat must be positive, --origin-delay ≥ 0")
    return args


def _pick(p: argparse.ArgumentParser, value: str, allowed: list[str], flag: str) -> list[str]:
    chosen = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in allowed]
    if unknown or not chosen:
        p.error(f"{flag}: unknown or empty {unknown or value!r}; choose from {','.join(allowed)}")
    return [v for v in allowed if v in chosen]  # canonical order


def _version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[0] if lines else "?"


def machine_info() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    model = next(
        (ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")),
        platform.processor() or "unknown",
    )
    distro = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                distro = line.split("=", 1)[1].strip('"')
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    load1 = os.getloadavg()[0]
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "distro": distro,
        "python": platform.python_version(),
        "loadavg_1m_at_start": round(load1, 2),
        "nginx": _version(["nginx", "-v"]),
        "varnish": _version(["varnishd", "-V"]),
        "wrk": _version(["wrk", "--version"]),
    }


def ensure_tools(console: Console, allow_install: bool) -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if not missing:
        return
    script = Path(__file__).resolve().parent / "install.sh"
    if not allow_install:
        raise BenchError(f"missing {', '.join(missing)}: run `sh {script}`")
    console.print(f"[yellow]missing {', '.join(missing)}: running {script}[/]")
    subprocess.run(["sh", str(script)], check=True)


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds through every finally: servers stop


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.s3_origin:
        from bench import s3origin

        s3origin.run(args.s3_mib)
        return 0
    if args.replication:
        from bench import replication

        replication.run(args.replication_objects, min(args.s3_mib, 64))
        return 0
    console = Console() if sys.stdout.isatty() else Console(width=120)
    # Also SIGINT: a shell starting us in the background may have set it to be ignored.
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    raise_fd_limit()
    ensure_tools(console, not args.no_install)
    machine = machine_info()
    console.print("[bold]Machine[/]")
    for key, value in machine.items():
        console.print(f"  {key:<20} {value}", highlight=False)
    if machine["loadavg_1m_at_start"] > 0.5:
        console.print(
            "[yellow]The machine is busy (1-minute load average "
            f"{machine['loadavg_1m_at_start']}): other work skews the figures.[/]"
        )
    contenders = list(args.only)
    skipped: dict[str, str] = {}
    if "ours" in contenders:
        ok, why = servers.ours_available()
        if not ok:
            console.print(f"[yellow]Skipping ours: the edge is not runnable yet ({why}).[/]")
            skipped["ours"] = why
            contenders.remove("ours")
    tmp = Path(tempfile.mkdtemp(prefix="openfront-bench-"))
    bench = Bench(args, console, tmp)
    try:
        if contenders:
            bench.run(contenders)
        else:
            console.print("[yellow]No contender left to run.[/]")
    finally:
        servers.remove_tree(tmp)
    shown = [*contenders, *skipped]
    for name, why in skipped.items():
        bench.results[name] = {s: {"skipped": why} for s in args.scenarios}
    print_report(console, bench.results, shown, args.scenarios)
    if not args.no_json:
        path = write_json(bench, machine, skipped)
        console.print(f"results written to {path}")
    return 0


def write_json(bench: Bench, machine: dict[str, Any], skipped: dict[str, str]) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{bench.run_id}.json"
    args = {k: v for k, v in vars(bench.args).items()}
    doc = {
        "run_id": bench.run_id,
        "machine": machine,
        "args": args,
        "skipped": skipped,
        "results": bench.results,
        "targets": [t.__dict__ | {"status": t.status} for t in targets(bench.results)],
        "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
    }
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    return path


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except (BenchError, subprocess.CalledProcessError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        sys.exit(1)
