"""The bench's CPU accounting and the scale scenario's core layout."""

from __future__ import annotations

import os
import subprocess
import sys

from bench.cpu import CpuMeter, CpuUse, process_cpu
from bench.scenarios import _cpu_balance, scale_cpus


def test_process_cpu_counts_this_process_and_is_zero_for_a_gone_one() -> None:
    before = process_cpu(os.getpid())
    deadline = before + 0.05
    while process_cpu(os.getpid()) < deadline:
        sum(range(10_000))
    assert process_cpu(os.getpid()) >= deadline
    assert process_cpu(2**22 + 12345) == 0.0  # above pid_max's default: no such process


def test_cpu_meter_sees_the_work_of_a_child_process() -> None:
    # A parent that starts a busy child and waits for it: the meter is rooted at the parent.
    code = (
        "import subprocess, sys\n"
        "subprocess.run([sys.executable, '-c', "
        "'import time\\nt=time.process_time()\\nwhile time.process_time()-t<0.2: pass\\n"
        "import sys; sys.stdin.read()'])\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)
    try:
        meter = CpuMeter(parent.pid)
        meter.start()
        # Close stdin once the child has burnt its CPU: wait by polling its CPU, not by sleeping.
        use = meter.stop()
        while use.total_s < 0.15 and parent.poll() is None:  # the child ends only on EOF
            use = meter.stop()
        assert use.total_s >= 0.15
        assert len(use.per_process_s) >= 1
        assert use.per_process_s == sorted(use.per_process_s, reverse=True)
    finally:
        assert parent.stdin is not None
        parent.stdin.close()
        parent.wait(30)


def test_cpu_use_figures() -> None:
    use = CpuUse(wall_s=2.0, per_process_s=[1.5, 0.5])
    figures = use.as_dict(requests=100_000)
    assert figures["cpu_s"] == 2.0
    assert figures["cpu_cores"] == 1.0
    assert figures["rps_per_core"] == 50_000.0
    assert CpuUse(wall_s=1.0, per_process_s=[]).as_dict(10)["rps_per_core"] == 0.0


def test_scale_gives_wrk_its_own_cores_only_from_four() -> None:
    assert scale_cpus(2) == (("0", "0"), ("0,1", "0,1"))
    assert scale_cpus(1) == (("0", "0"), ("0,1", "0,1"))
    assert scale_cpus(8) == (("0", "2"), ("0,1", "2,3"))


def test_cpu_balance_reports_the_busiest_worker_share() -> None:
    one = {"rps_per_core": 100.0, "cpu_s": 1.0, "cpu_per_process_s": [1.0]}
    two = {"rps_per_core": 95.0, "cpu_s": 2.0, "cpu_per_process_s": [1.2, 0.8, 0.0]}
    assert _cpu_balance(one, two, threaded=False) == {
        "one_rps_per_core": 100.0,
        "two_rps_per_core": 95.0,
        "busiest_share": 0.6,
    }
    assert "busiest_share" not in _cpu_balance(one, two, threaded=True)
    assert _cpu_balance(None, two, threaded=False) == {}
