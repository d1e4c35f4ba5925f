"""Run wrk (pinned with taskset) and read its results from a Lua `done` hook."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MARKER = "BENCH_JSON "

# wrk's latency histogram is in microseconds; `done` runs once, after all threads finished.
DONE_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,'
    .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f,'
    .. '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


class WrkError(Exception):
    """wrk failed or printed no result."""


@dataclass
class WrkResult:
    requests: int
    duration_s: float
    rps: float
    bytes_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    errors: int
    error_detail: dict[str, int]
    threads: int
    connections: int
    cpus: str | None
    # The contender's CPU over the run (bench.cpu.CpuUse.as_dict), when it was measured.
    cpu: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Every request a head of its own: a counter in a header the cache key does not read, as
# viewers whose requests carry per-request fields (tracing ids, timestamps) send.
UNIQUE_LUA = """
local seq = 0
request = function()
  seq = seq + 1
  return wrk.format(nil, nil, {["X-Seq"] = tostring(seq)})
end
"""

SCRIPTS = {"done": DONE_LUA, "unique": UNIQUE_LUA + DONE_LUA}


def lua_script(tmp: Path, name: str = "done") -> Path:
    path = tmp / f"{name}.lua"
    if not path.exists():
        path.write_text(SCRIPTS[name])
    return path


def run_wrk(
    url: str,
    tmp: Path,
    *,
    duration_s: float,
    connections: int,
    threads: int = 1,
    cpus: str | None = "1",
    script: str = "done",
) -> WrkResult:
    seconds = max(1, round(duration_s))  # wrk takes whole seconds
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(lua_script(tmp, script)),
        url,
    ]
    if cpus:
        argv = ["taskset", "-c", cpus, *argv]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    except subprocess.TimeoutExpired as exc:
        raise WrkError(f"wrk did not finish: {' '.join(argv)}") from exc
    if done.returncode != 0:
        raise WrkError(
            f"wrk exited {done.returncode}: {done.stderr.strip() or done.stdout.strip()}"
        )
    return parse_output(done.stdout, threads=threads, connections=connections, cpus=cpus)


def parse_output(stdout: str, *, threads: int, connections: int, cpus: str | None) -> WrkResult:
    line = next((ln for ln in stdout.splitlines() if ln.startswith(MARKER)), None)
    if line is None:
        raise WrkError(f"no {MARKER.strip()} line in wrk output:\n{stdout}")
    raw: dict[str, float] = json.loads(line[len(MARKER) :])
    duration = raw["duration_us"] / 1e6
    if duration <= 0:
        raise WrkError(f"wrk reported a non-positive duration: {line}")
    detail = {k[4:]: int(v) for k, v in raw.items() if k.startswith("err_")}
    return WrkResult(
        requests=int(raw["requests"]),
        duration_s=duration,
        rps=raw["requests"] / duration,
        bytes_per_s=raw["bytes"] / duration,
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        p999_ms=raw["p999_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        errors=sum(detail.values()),
        error_detail=detail,
        threads=threads,
        connections=connections,
        cpus=cpus,
    )
