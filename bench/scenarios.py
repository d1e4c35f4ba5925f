"""The scenarios, run side by side: contenders up together, wrk rounds interleaved between them.

Interleaving (round 1: nginx, varnish, ours; round 2: varnish, ours, nginx; …) spreads whatever
else the machine is doing over all contenders, so the ratios hold up better than absolute numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from bench import servers
from bench.collapse import run_collapse
from bench.cpu import CpuMeter
from bench.memory import run_memory
from bench.report import Results
from bench.servers import BIG_SIZE, HOT_SIZE, BenchError, Server
from bench.wrk import WrkError, WrkResult, run_wrk

SERVER_CPU, CLIENT_CPU = "0", "1"
FAILURES = (BenchError, WrkError, OSError, ValueError, ExceptionGroup)


class Bench:
    def __init__(self, args: argparse.Namespace, console: Console, tmp: Path) -> None:
        self.args, self.console, self.tmp = args, console, tmp
        self.run_id = time.strftime("%Y%m%dT%H%M%S")
        self.slow: Server | None = None
        self.origin: Server | None = None
        self.results: Results = {}

    def record(self, name: str, scenario: str, figures: dict[str, Any]) -> None:
        self.results.setdefault(name, {})[scenario] = figures

    def fail(self, name: str, scenarios: list[str], exc: BaseException) -> None:
        text = f"{type(exc).__name__}: {exc}"
        self.console.print(f"  [red]{name} {','.join(scenarios)} failed:[/] {text}")
        for scenario in scenarios:
            self.record(name, scenario, {"error": text})

    def start_all(
        self,
        stack: contextlib.ExitStack,
        names: list[str],
        workers: int,
        cpus: str | None,
        scenarios: list[str],
    ) -> dict[str, Server]:
        assert self.origin is not None
        up: dict[str, Server] = {}
        for name in names:
            where = f"pinned to core {cpus}" if cpus else "unpinned"
            self.console.print(f"  starting {name}, {workers} worker(s), {where}")
            try:
                server = servers.STARTERS[name](self.tmp, self.origin.port, workers, cpus)
            except BenchError as exc:  # record it and go on with the others
                self.fail(name, scenarios, exc)
                continue
            stack.callback(server.stop)
            up[name] = server
        return up

    def warm(self, server: Server, path: str, size: int) -> str:
        """Fetch until the contender says it served from cache; a note if it never does."""
        for _ in range(5):
            reply = servers.get(server.port, path)
            if reply.status != 200 or len(reply.body) != size:
                raise BenchError(f"{path}: status {reply.status}, {len(reply.body)} bytes")
            if servers.is_hit(server.name, reply):
                return ""
        return f"{path} not served from cache after 5 requests"

    def measure(
        self,
        up: dict[str, Server],
        scenario: str,
        path: str,
        size: int,
        conns: int,
        threads: int = 1,
        cpus: str | None = CLIENT_CPU,
        script: str = "done",
    ) -> dict[str, dict[str, Any]]:
        self.console.print(f"  {scenario}: {self.args.repeat} round(s) over {', '.join(up)}")

        def wrk(server: Server, seconds: float) -> WrkResult:
            url = server.url + path
            meter = CpuMeter(server.proc.pid)
            meter.start()
            result = run_wrk(
                url,
                self.tmp,
                duration_s=seconds,
                connections=conns,
                threads=threads,
                cpus=cpus,
                script=script,
            )
            result.cpu = meter.stop().as_dict(result.requests)
            return result

        notes: dict[str, str] = {}
        runs: dict[str, list[WrkResult]] = {}
        for name, server in up.items():
            try:
                notes[name] = self.warm(server, path, size)
                wrk(server, 1)  # warm-up run, not counted
                runs[name] = []
            except FAILURES as exc:
                self.fail(name, [scenario], exc)
        for r in range(self.args.repeat):
            for name in _rotated(list(runs), r):
                try:
                    runs[name].append(wrk(up[name], self.args.duration))
                except FAILURES as exc:
                    self.fail(name, [scenario], exc)
                    del runs[name]
        return {name: _median(done) | {"note": notes[name]} for name, done in runs.items()}

    def collapse(self, name: str, server: Server) -> None:
        assert self.slow is not None
        self.console.print(f"  collapse: {name}")
        path = f"/slow/{name}-{self.run_id}-{time.monotonic_ns()}"
        try:
            figures = run_collapse(server, self.slow, path, self.args.clients)
        except FAILURES as exc:
            self.fail(name, ["collapse"], exc)
            return
        figures["ok"] = figures["statuses"].get("200", 0)
        self.record(name, "collapse", figures)

    def one_worker_phase(self, names: list[str]) -> None:
        wanted = self.args.scenarios
        phase = [s for s in ("hot", "unique", "big", "collapse") if s in wanted]
        if not phase:
            return
        with contextlib.ExitStack() as stack:
            up = self.start_all(stack, names, 1, SERVER_CPU, phase)
            if "hot" in phase:
                self._store("hot", self.measure(up, "hot", "/hot.bin", HOT_SIZE, 64))
            if "unique" in phase:
                unique = self.measure(up, "unique", "/hot.bin", HOT_SIZE, 64, script="unique")
                self._store("unique", unique)
            if "big" in phase:
                big = self.measure(up, "big", "/big.bin", BIG_SIZE, 16)
                for figures in big.values():
                    figures["gb_per_s"] = figures["bytes_per_s"] / 1e9
                self._store("big", big)
            if "collapse" in phase:
                for name, server in up.items():
                    self.collapse(name, server)

    def memory_phase(self, names: list[str]) -> None:
        for name in names:  # one at a time, each a fresh instance
            with contextlib.ExitStack() as stack:
                up = self.start_all(stack, [name], 1, SERVER_CPU, ["memory"])
                if name not in up:
                    continue
                self.console.print(f"  memory: {name}, {self.args.objects:,} objects")
                try:
                    figures = run_memory(up[name], self.args.objects, self.run_id)
                except FAILURES as exc:
                    self.fail(name, ["memory"], exc)
                    continue
                self.record(name, "memory", figures)

    def scale_phase(self, names: list[str]) -> None:
        one_cpus, two_cpus = scale_cpus(os.cpu_count() or 1)
        runs: list[dict[str, dict[str, Any]]] = []
        threaded: dict[str, bool] = {}
        for workers, (server_cpus, client_cpus) in ((1, one_cpus), (2, two_cpus)):
            with contextlib.ExitStack() as stack:
                up = self.start_all(stack, names, workers, server_cpus, ["scale"])
                threaded |= {name: server.threaded for name, server in up.items()}
                runs.append(
                    self.measure(
                        up, "scale", "/hot.bin", HOT_SIZE, 64, threads=workers, cpus=client_cpus
                    )
                )
        one, two = runs
        for name, figures in two.items():
            base = one.get(name)
            if base is None or not base["rps"]:
                self.record(name, "scale", {"error": "no one-worker figure"})
                continue
            self.record(
                name,
                "scale",
                {
                    "one_rps": base["rps"],
                    "two_rps": figures["rps"],
                    "factor": figures["rps"] / base["rps"],
                    **_cpu_balance(base.get("cpu"), figures.get("cpu"), threaded[name]),
                    "server_cpus": [one_cpus[0], two_cpus[0]],
                    "client_cpus": [one_cpus[1], two_cpus[1]],
                    "one_worker": base,
                    "two_workers": figures,
                    "note": figures["note"] or base["note"],
                },
            )

    def _store(self, scenario: str, figures: dict[str, dict[str, Any]]) -> None:
        for name, value in figures.items():
            self.record(name, scenario, value)

    def run(self, names: list[str]) -> None:
        started: list[Server] = []
        with servers.running(started):
            self.slow = servers.start_slow_origin(self.tmp, self.args.origin_delay, CLIENT_CPU)
            started.append(self.slow)
            self.origin = servers.start_static_origin(self.tmp, self.slow.port, CLIENT_CPU)
            started.append(self.origin)
            phases: list[tuple[str, Callable[[list[str]], None]]] = [
                ("one worker each, pinned", self.one_worker_phase),
                ("memory", self.memory_phase),
                ("one worker, then two, wrk beside them", self.scale_phase),
            ]
            for title, phase in phases:
                if title == "memory" and "memory" not in self.args.scenarios:
                    continue
                if title.startswith("one worker, then") and "scale" not in self.args.scenarios:
                    continue
                self.console.print(f"[bold]{title}[/]")
                phase(names)


def _rotated(names: list[str], by: int) -> list[str]:
    """Each round starts with the next contender, so none always runs first (or last)."""
    if not names:
        return names
    k = by % len(names)
    return names[k:] + names[:k]


def scale_cpus(cores: int) -> tuple[tuple[str, str], tuple[str, str]]:
    """(server cores, wrk cores) for one worker and for two.

    With 4 cores or more, wrk gets cores of its own. With fewer, each worker shares its core with
    one wrk thread, the same in both runs, so the load generator's share of each core is the
    same and the factor is the server's own.
    """
    if cores >= 4:
        return ("0", "2"), ("0,1", "2,3")
    return ("0", "0"), ("0,1", "0,1")


def _cpu_balance(
    one: dict[str, Any] | None, two: dict[str, Any] | None, threaded: bool
) -> dict[str, float]:
    """Requests per CPU-second of the contender with one and two workers, and how evenly the
    two workers shared the load (the busiest worker process's share of the CPU; 0.5 is even).
    A threaded server's pools are not a process each: no share is given for it."""
    if not one or not two or not two["cpu_s"]:
        return {}
    figures = {"one_rps_per_core": one["rps_per_core"], "two_rps_per_core": two["rps_per_core"]}
    if not threaded:
        figures["busiest_share"] = round(two["cpu_per_process_s"][0] / two["cpu_s"], 3)
    return figures


def _median(runs: list[WrkResult]) -> dict[str, Any]:
    # The median run by req/s, whole (its latencies belong to it), with every run's rate kept.
    median = sorted(runs, key=lambda r: r.rps)[len(runs) // 2]
    return median.as_dict() | {"runs_rps": [round(r.rps) for r in runs]}
