"""ffmpeg dies with the process that started it: a worker killed with -9 leaves no encoder."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from bench.memory import tree_pids

from openfront.media.ffmpeg import _check_runnable, _launcher

# A process that starts an endless ffmpeg (a test pattern encoded to nowhere, at real-time
# pace) through run_ffmpeg and says so once ffmpeg reports progress.
_CHILD = """
import asyncio, sys
from openfront.media.ffmpeg import run_ffmpeg

def line(text):
    if text.startswith("progress="):
        print("RUNNING", flush=True)

asyncio.run(run_ffmpeg(
    ["-hide_banner", "-nostdin", "-re", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=10",
     "-f", "null", "-progress", "pipe:1", "-stats_period", "0.1", "-"],
    on_line=line,
))
"""


@pytest.mark.skipif(not _launcher(), reason="setpriv (util-linux) is not installed here")
def test_ffmpeg_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", _CHILD], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    ) as parent:
        _kill_ffmpeg_parent(parent)


def _kill_ffmpeg_parent(parent: subprocess.Popen[str]) -> None:
    try:
        assert parent.stdout is not None
        assert parent.stdout.readline().strip() == "RUNNING"
        (ffmpeg,) = [p for p in tree_pids(parent.pid)[1:] if "ffmpeg" in _comm(p)]
        pidfd = os.pidfd_open(ffmpeg)
        try:
            parent.send_signal(signal.SIGKILL)
            parent.wait(30)
            ready, _, _ = select.select([pidfd], [], [], 30)  # readable once ffmpeg has exited
            if not ready:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)  # leave no orphan behind
            assert ready == [pidfd], f"ffmpeg {ffmpeg} outlived its parent"
        finally:
            os.close(pidfd)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(30)


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def test_an_ffmpeg_that_cannot_run_is_named_as_exec_would(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="No such file"):
        _check_runnable(str(tmp_path / "no-ffmpeg"))
    plain = tmp_path / "not-executable"
    plain.write_bytes(b"")
    with pytest.raises(PermissionError, match="Permission denied"):
        _check_runnable(str(plain))
    _check_runnable("sh")  # a bare name is looked up on PATH
