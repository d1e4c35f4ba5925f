"""Run `python -m openfront <command>` children: ready handshake, restart with back-off, stop.

Each child gets `--ready-file F` and writes JSON there (atomically) once it serves; the supervisor
polls that file every 50 ms, bounded by a deadline, and gives up early if the child exits. A
foreign program (a spec with `command`) cannot write that file: its `probe` is polled instead.
A child that exits while the stack runs is restarted after a growing delay. Children run in their
own session, so a terminal's Ctrl-C reaches only the supervisor, which then stops them in reverse
order: SIGTERM to the child's process group, SIGKILL after a grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openfront._aio import create_task
from openfront.errors import OpenFrontError

READY_POLL = 0.05
LOG_TAIL_BYTES = 4000

ReadyCallback = Callable[[str, dict[str, Any]], None]
DownCallback = Callable[[str, str], None]
# Called every READY_POLL until it returns the ready info; raises ServiceStartError to give up.
ReadyProbe = Callable[[], Awaitable[dict[str, Any] | None]]


class ServiceStartError(OpenFrontError):
    """A child exited or stayed silent before it was ready; the message holds its log's tail."""


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str
    args: tuple[str, ...]  # after `python -m openfront`; `--ready-file` is appended
    log_path: Path  # the child's stdout and stderr are appended here
    ready_timeout: float = 30.0
    command: tuple[str, ...] | None = None  # run this instead of `python -m openfront args`
    env: Mapping[str, str] | None = None  # the child's whole environment; None = inherit
    probe: ReadyProbe | None = None  # readiness for a `command`, which writes no ready file
    grace: float | None = None  # seconds from SIGTERM to SIGKILL; None = the supervisor's
    stop_together: bool = False  # stopped at the same time as adjacent services marked so too


@dataclass(frozen=True, slots=True)
class Backoff:
    first: float = 0.5
    factor: float = 2.0
    limit: float = 30.0
    stable_after: float = 30.0  # a child that ran this long starts again from `first`

    def next(self, previous: float | None, ran_for: float) -> float:
        if previous is None or ran_for >= self.stable_after:
            return self.first
        return min(previous * self.factor, self.limit)


@dataclass
class _Child:
    spec: ServiceSpec
    process: asyncio.subprocess.Process
    started: float
    ready: dict[str, Any]


class Supervisor:
    def __init__(
        self,
        run_dir: Path,
        *,
        on_ready: ReadyCallback | None = None,
        on_down: DownCallback | None = None,
        grace: float = 5.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.run_dir = run_dir
        self.grace = grace
        self.backoff = backoff or Backoff()
        self._on_ready = on_ready
        self._on_down = on_down
        self._order: list[str] = []
        self._children: dict[str, _Child] = {}
        self._spawning: dict[str, asyncio.subprocess.Process] = {}
        self._monitors: dict[str, asyncio.Task[None]] = {}
        self._stopping = False

    def stopping(self) -> bool:
        return self._stopping

    def ready_info(self, name: str) -> dict[str, Any]:
        return self._children[name].ready

    def pid(self, name: str) -> int:
        return self._children[name].process.pid

    async def start(self, spec: ServiceSpec) -> dict[str, Any]:
        """Start one service and wait until it is ready; it is then kept running until stop()."""
        if spec.name in self._order:
            raise ValueError(f"service {spec.name!r} already started")
        child = await self._launch(spec)
        self._order.append(spec.name)
        self._children[spec.name] = child
        self._notify_ready(spec.name, child)
        self._monitors[spec.name] = create_task(self._monitor(spec), name=f"watch-{spec.name}")
        return child.ready

    async def stop(self) -> None:
        """Stop every service, the last started first; adjacent `stop_together` ones at once."""
        self._stopping = True
        for task in self._monitors.values():
            task.cancel()
        await asyncio.gather(*self._monitors.values(), return_exceptions=True)
        for process in list(self._spawning.values()):
            await terminate(process, self.grace)
        for names in self._stop_batches():
            children = [self._children[n] for n in names if n in self._children]
            await asyncio.gather(*(terminate(c.process, self._grace(c.spec)) for c in children))
            for name in names:
                self._ready_file(name).unlink(missing_ok=True)
        self._order.clear()
        self._children.clear()

    def _stop_batches(self) -> list[list[str]]:
        """Reverse start order; a run of adjacent `stop_together` services is one batch."""
        batches: list[list[str]] = []
        previous = False
        for name in reversed(self._order):
            child = self._children.get(name)
            together = child is not None and child.spec.stop_together
            if together and previous:
                batches[-1].append(name)
            else:
                batches.append([name])
            previous = together
        return batches

    async def _launch(self, spec: ServiceSpec) -> _Child:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        ready_file = self._ready_file(spec.name)
        ready_file.unlink(missing_ok=True)
        process = await _spawn(spec, ready_file)
        self._spawning[spec.name] = process
        try:
            ready = await _wait_ready(process, ready_file, spec)
        except BaseException:
            await terminate(process, self._grace(spec))
            raise
        finally:
            self._spawning.pop(spec.name, None)
        return _Child(spec, process, time.monotonic(), ready)

    def _ready_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.ready.json"

    def _grace(self, spec: ServiceSpec) -> float:
        return self.grace if spec.grace is None else spec.grace

    async def _monitor(self, spec: ServiceSpec) -> None:
        delay: float | None = None
        while True:
            child = self._children[spec.name]
            code = await child.process.wait()
            _kill_group(child.process.pid)
            if self.stopping():
                return
            ran_for = time.monotonic() - child.started
            while True:
                delay = self.backoff.next(delay, ran_for)
                self._notify_down(spec.name, f"exited with code {code}; restart in {delay:g}s")
                await asyncio.sleep(delay)
                try:
                    child = await self._launch(spec)
                    break
                except ServiceStartError as exc:
                    ran_for = 0.0
                    code = -1
                    self._notify_down(spec.name, str(exc))
            self._children[spec.name] = child
            self._notify_ready(spec.name, child)

    def _notify_ready(self, name: str, child: _Child) -> None:
        if self._on_ready is not None:
            self._on_ready(name, {**child.ready, "pid": child.process.pid})

    def _notify_down(self, name: str, message: str) -> None:
        if self._on_down is not None:
            self._on_down(name, message)


async def _spawn(spec: ServiceSpec, ready_file: Path) -> asyncio.subprocess.Process:
    argv = [sys.executable, "-m", "openfront", *spec.args, "--ready-file", str(ready_file)]
    if spec.command is not None:
        argv = list(spec.command)  # a foreign program: no `--ready-file`, its probe says when
    spec.log_path.parent.mkdir(parents=True, exist_ok=True)
    log = await asyncio.to_thread(spec.log_path.open, "ab")
    try:
        return await asyncio.create_subprocess_exec(
            *argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=None if spec.env is None else dict(spec.env),
        )
    finally:
        log.close()


async def _wait_ready(
    process: asyncio.subprocess.Process, ready_file: Path, spec: ServiceSpec
) -> dict[str, Any]:
    deadline = time.monotonic() + spec.ready_timeout
    exited = create_task(process.wait(), name=f"wait-{spec.name}")
    try:
        while True:
            ready = await spec.probe() if spec.probe is not None else _read_ready(ready_file)
            if ready is not None:
                return ready
            if exited.done():
                raise ServiceStartError(_failure(spec, f"exited with code {exited.result()}"))
            if time.monotonic() >= deadline:
                reason = f"not ready after {spec.ready_timeout:g}s"
                raise ServiceStartError(_failure(spec, reason))
            await asyncio.wait({exited}, timeout=READY_POLL)
    finally:
        exited.cancel()


def _read_ready(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _failure(spec: ServiceSpec, reason: str) -> str:
    return f"{spec.name} {reason}; last lines of {spec.log_path}:\n{log_tail(spec.log_path)}"


def log_tail(path: Path, limit: int = LOG_TAIL_BYTES) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - limit))
            return handle.read().decode("utf-8", errors="replace").rstrip()
    except OSError:
        return "(no output)"


async def terminate(process: asyncio.subprocess.Process, grace: float) -> int:
    """SIGTERM the child's process group, SIGKILL it after `grace` seconds; returns the code."""
    if process.returncode is None:
        _signal_group(process.pid, signal.SIGTERM)
        try:
            async with asyncio.timeout(grace):
                await process.wait()
        except TimeoutError:
            _signal_group(process.pid, signal.SIGKILL)
    code = await process.wait()
    _kill_group(process.pid)
    return code


def _kill_group(pgid: int) -> None:
    # Workers the child forked share its group; once the leader is gone, none may outlive it.
    _signal_group(pgid, signal.SIGKILL)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
