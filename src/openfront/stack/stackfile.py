"""`stack.json`: where scripts and tests find every running service of a stack.

Shape: {"services": {"<name>": {"url": "...", "pid": N, ...extra}}}; no pid for a service the
stack lists but does not run. Every update is a read-modify-write under an advisory lock, written
to a temp file and renamed over the old one, so a reader always sees a whole document and
services added by other processes are kept.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openfront.fileio import write_atomic


def write_json_atomic(path: Path, data: object) -> None:
    """Write JSON to `path` so readers see the old content or the new, never a torn file."""
    write_atomic(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def read_stack(path: Path) -> dict[str, Any]:
    """The stack document; `{"services": {}}` when the file does not exist yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {"services": {}}
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise ValueError(f"{path}: not a stack file (expected an object with 'services')")
    return data


class StackFile:
    """Small mutation API over one stack.json; safe across processes on one host."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def set(self, name: str, *, url: str, pid: int | None, **extra: Any) -> None:
        """`pid` None: a service this stack lists but does not run (an external S3 store)."""
        entry = {"url": url, **({} if pid is None else {"pid": pid}), **extra}
        with self._locked() as data:
            data["services"][name] = entry

    def remove(self, name: str) -> None:
        with self._locked() as data:
            data["services"].pop(name, None)

    def services(self) -> dict[str, Any]:
        services: dict[str, Any] = read_stack(self.path)["services"]
        return services

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                data = read_stack(self.path)
                yield data
                write_json_atomic(self.path, data)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
