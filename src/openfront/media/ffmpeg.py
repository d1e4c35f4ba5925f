"""Running the bundled ffmpeg: argument lists in, exit status and the end of stderr out."""

from __future__ import annotations

import asyncio
import errno
import functools
import os
import shutil
import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from openfront.media.errors import TranscodeFailed

STDERR_TAIL = 40  # lines kept; a broken input can make ffmpeg print one error per frame
_CHUNK = 65536
_MAX_LINE = 8192  # longer lines are cut, never buffered without bound


@functools.cache
def ffmpeg_exe() -> str:
    """imageio-ffmpeg's static build (or $IMAGEIO_FFMPEG_EXE); no system ffmpeg needed."""
    import imageio_ffmpeg  # type: ignore[import-untyped]  # no stubs, no py.typed

    return str(imageio_ffmpeg.get_ffmpeg_exe())


@functools.cache
def _launcher() -> tuple[str, ...]:
    """``setpriv --pdeathsig KILL --`` where util-linux has it (every Debian): the kernel kills
    ffmpeg when the process that started it dies, so a worker killed with -9 leaves no encoder
    running. setpriv sets the signal and execs ffmpeg in place (same pid, nothing in between)."""
    path = shutil.which("setpriv") if sys.platform.startswith("linux") else None
    return () if path is None else (path, "--pdeathsig", "KILL", "--")


def _check_runnable(exe: str) -> None:
    # which() also finds a bare name on PATH ($IMAGEIO_FFMPEG_EXE=ffmpeg), as exec would.
    if shutil.which(exe) is None:
        if os.path.exists(exe):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), exe)
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), exe)


@dataclass(frozen=True, slots=True)
class Finished:
    returncode: int
    stderr: str  # its last lines


async def run_ffmpeg(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    on_line: Callable[[str], None] | None = None,
    tail_lines: int = STDERR_TAIL,
) -> Finished:
    """Run ffmpeg to completion. Cancelling (or a timeout around this) kills it and waits."""
    try:
        exe = ffmpeg_exe()
        launcher = _launcher()
        if launcher:
            _check_runnable(exe)  # else setpriv would report it as an exit status of its own
        process = await asyncio.create_subprocess_exec(
            *launcher,
            exe,
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if on_line else asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            # Its own session: a terminal's Ctrl-C reaches us, and we decide what ffmpeg gets.
            start_new_session=True,
            env={**os.environ, "AV_LOG_FORCE_NOCOLOR": "1"},
        )
    except (OSError, RuntimeError) as exc:  # imageio-ffmpeg raises RuntimeError when it has none
        raise TranscodeFailed(f"cannot run ffmpeg: {exc}") from exc
    tail: deque[str] = deque(maxlen=tail_lines)
    try:
        assert process.stderr is not None
        readers = [_read_lines(process.stderr, tail.append)]
        if on_line is not None:
            assert process.stdout is not None
            readers.append(_read_lines(process.stdout, on_line))
        await asyncio.gather(*readers)
        returncode = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
        # Reads what is left so the pipes reach EOF and the transport closes with the process.
        await process.communicate()
    return Finished(returncode, "\n".join(tail))


async def _read_lines(stream: asyncio.StreamReader, on_line: Callable[[str], None]) -> None:
    pending = b""
    while chunk := await stream.read(_CHUNK):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            on_line(line[:_MAX_LINE].decode("utf-8", "replace").rstrip("\r"))
        pending = pending[-_MAX_LINE:]
    if pending:
        on_line(pending.decode("utf-8", "replace"))
