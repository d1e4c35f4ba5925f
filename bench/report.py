"""Tables of results with ours/nginx and ours/varnish ratios, and the issue's targets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

Results = dict[str, dict[str, dict[str, Any]]]  # contender -> scenario -> figures


@dataclass(frozen=True)
class Column:
    label: str
    key: str
    fmt: Callable[[float], str]
    ratio: bool = True  # whether ours/other is meaningful for this column


def _num(digits: int) -> Callable[[float], str]:
    return lambda v: f"{v:,.{digits}f}"


_SMALL_HITS = [
    Column("req/s", "rps", _num(0)),
    Column("p50 ms", "p50_ms", _num(3)),
    Column("p99 ms", "p99_ms", _num(3)),
    Column("errors", "errors", _num(0), ratio=False),
]

SCENARIOS: dict[str, tuple[str, list[Column]]] = {
    "hot": ("Hot 1 KiB hits (one worker on core 0, wrk -t1 -c64 on core 1)", _SMALL_HITS),
    "unique": (
        "Hot 1 KiB hits, every request head different (X-Seq: <counter>; one worker, core 0)",
        _SMALL_HITS,
    ),
    "big": (
        "1 MiB hits (one worker on core 0, wrk -t1 -c16 on core 1)",
        [
            Column("GB/s", "gb_per_s", _num(2)),
            Column("req/s", "rps", _num(0)),
            Column("p99 ms", "p99_ms", _num(2)),
            Column("errors", "errors", _num(0), ratio=False),
        ],
    ),
    "collapse": (
        "Concurrent misses for one fresh key (origin requests counted; 1 = fully collapsed)",
        [
            Column("clients", "clients", _num(0), ratio=False),
            Column("origin requests", "origin_requests", _num(0)),
            Column("200s", "ok", _num(0), ratio=False),
            Column("errors", "errors", _num(0), ratio=False),
            Column("all answered ms", "elapsed_ms", _num(0)),
        ],
    ),
    "memory": (
        "Memory per cached 1 KiB object (growth of the process tree / N)",
        [
            Column("objects", "objects", _num(0), ratio=False),
            Column("RSS B/obj", "rss_bytes_per_object", _num(0)),
            Column("PSS B/obj", "pss_bytes_per_object", _num(0)),
            Column("index B/obj (RSS − body if in RAM)", "index_bytes_per_object", _num(0)),
        ],
    ),
    "scale": (
        "One worker on core 0, then two on cores 0-1 (wrk -t1, then -t2, -c64)",
        [
            Column("1 worker req/s", "one_rps", _num(0)),
            Column("2 workers req/s", "two_rps", _num(0)),
            Column("2w / 1w", "factor", _num(2)),
            Column("1w req/CPU-s", "one_rps_per_core", _num(0)),
            Column("2w req/CPU-s", "two_rps_per_core", _num(0)),
            Column("busiest worker", "busiest_share", _num(2), ratio=False),
        ],
    ),
}

SCALE_CAVEAT = (
    "Scale: one worker on core 0 with wrk -t1, then two workers on cores 0-1 with wrk -t2, both "
    "-c64. Below 4 cores each wrk thread shares a core with a worker in both runs (the same share "
    "of each core goes to load generation); from 4 cores wrk runs on cores 2-3. req/CPU-s is "
    "requests per CPU-second of the contender's processes; busiest worker is the busiest worker "
    "process's share of that CPU (0.50 is an even spread)."
)


def figure(results: Results, contender: str, scenario: str, key: str) -> float | None:
    value = results.get(contender, {}).get(scenario, {}).get(key)
    return float(value) if isinstance(value, int | float) else None


def ratio(results: Results, scenario: str, key: str, other: str) -> float | None:
    ours, theirs = (figure(results, c, scenario, key) for c in ("ours", other))
    if ours is None or theirs is None or theirs == 0:
        return None
    return ours / theirs


def _note(figures: dict[str, Any]) -> str:
    if "skipped" in figures:
        return "skipped (reason above)"
    text = str(figures.get("error") or figures.get("note") or "")
    return text if len(text) <= 60 else text[:57] + "…"


def scenario_table(results: Results, scenario: str, contenders: list[str]) -> Table:
    title, columns = SCENARIOS[scenario]
    table = Table(title=title, title_justify="left")
    table.add_column("contender")
    for col in columns:
        table.add_column(col.label, justify="right")
    table.add_column("note")
    for name in contenders:
        figures = results.get(name, {}).get(scenario)
        if figures is None:
            continue
        note = _note(figures)
        cells = []
        for col in columns:
            value = figure(results, name, scenario, col.key)
            cells.append("—" if value is None else col.fmt(value))
        table.add_row(name, *cells, str(note))
    for other in ("nginx", "varnish"):
        if "ours" not in contenders or other not in contenders:
            continue
        cells = []
        for col in columns:
            r = ratio(results, scenario, col.key, other) if col.ratio else None
            cells.append("—" if r is None else f"{r:.2f}×")
        table.add_row(f"ours/{other}", *cells, "", style="bold")
    return table


@dataclass(frozen=True)
class Target:
    name: str
    value: float | None
    goal: str
    met: bool | None

    @property
    def status(self) -> str:
        return {True: "met", False: "not met", None: "n/a"}[self.met]


def _check(value: float | None, ok: Callable[[float], bool]) -> bool | None:
    return None if value is None else ok(value)


def targets(results: Results) -> list[Target]:
    hot = ratio(results, "hot", "rps", "nginx")
    big = ratio(results, "big", "gb_per_s", "nginx")
    index = figure(results, "ours", "memory", "index_bytes_per_object")
    scale = figure(results, "ours", "scale", "factor")
    origin = figure(results, "ours", "collapse", "origin_requests")
    return [
        Target("hot 1 KiB hit req/s, ours/nginx", hot, "≥ 1.2×", _check(hot, lambda v: v >= 1.2)),
        Target("1 MiB GB/s, ours/nginx", big, "≥ 1.0×", _check(big, lambda v: v >= 1.0)),
        Target("index bytes per object, ours", index, "≤ 256", _check(index, lambda v: v <= 256)),
        Target("2 workers / 1 worker, ours", scale, "≥ 1.8×", _check(scale, lambda v: v >= 1.8)),
        Target(
            "origin requests, 1,000 misses, ours", origin, "= 1", _check(origin, lambda v: v == 1)
        ),
    ]


def targets_table(found: list[Target]) -> Table:
    table = Table(title="Targets (issue 3)", title_justify="left")
    for label in ("target", "measured", "goal", "status"):
        table.add_column(label, justify="left" if label == "target" else "right")
    colours = {"met": "green", "not met": "red", "n/a": "yellow"}
    for t in found:
        shown = (
            "—" if t.value is None else f"{t.value:,.3f}" if t.value < 100 else f"{t.value:,.0f}"
        )
        status = f"[{colours[t.status]}]{t.status}[/]"
        table.add_row(t.name, shown, t.goal, status)
    return table


def print_report(
    console: Console, results: Results, contenders: list[str], scenarios: list[str]
) -> None:
    for scenario in scenarios:
        console.print(scenario_table(results, scenario, contenders))
        if scenario == "scale":
            console.print(f"[dim]{SCALE_CAVEAT}[/]")
    console.print(targets_table(targets(results)))
