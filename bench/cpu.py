"""CPU time of a contender's process tree over a load run, from /proc.

Requests answered per CPU-second of the contender's processes is the work per request, whatever
else ran on the cores; per process it shows how evenly workers sharing a port got the load.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from bench.memory import stat_fields, tree_pids

_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (all its threads), 0.0 once it is gone."""
    fields = stat_fields(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def tree_cpu(root: int) -> dict[int, float]:
    return {pid: process_cpu(pid) for pid in tree_pids(root)}


@dataclass
class CpuUse:
    wall_s: float
    per_process_s: list[float]  # busiest first

    @property
    def total_s(self) -> float:
        return sum(self.per_process_s)

    def as_dict(self, requests: int) -> dict[str, float | list[float]]:
        total = self.total_s
        return {
            "cpu_s": round(total, 3),
            "cpu_cores": round(total / self.wall_s, 3) if self.wall_s else 0.0,
            "cpu_per_process_s": [round(s, 3) for s in self.per_process_s],
            "rps_per_core": round(requests / total, 1) if total else 0.0,
        }


class CpuMeter:
    """Measures the CPU a process tree uses between ``start()`` and ``stop()``."""

    def __init__(self, root: int) -> None:
        self.root = root
        self._before: dict[int, float] = {}
        self._t0 = 0.0

    def start(self) -> None:
        self._before = tree_cpu(self.root)
        self._t0 = time.monotonic()

    def stop(self) -> CpuUse:
        after = tree_cpu(self.root)
        wall = time.monotonic() - self._t0
        used = [after[pid] - self._before.get(pid, 0.0) for pid in after]
        return CpuUse(wall, sorted((u for u in used if u > 0), reverse=True))
