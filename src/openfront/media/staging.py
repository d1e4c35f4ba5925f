"""Outputs are built in a hidden directory next to the destination and renamed into place.

A reader of `out_dir` sees the previous complete output or the new complete output, never a
half-written one; a crash leaves only `.<name>.partial-*` siblings, removed by the next run.
Blocking calls: run them with asyncio.to_thread.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

PARTIAL = "partial"
OLD = "old"


def _sibling(out_dir: Path, kind: str) -> Path:
    return out_dir.parent / f".{out_dir.name}.{kind}-{secrets.token_hex(4)}"


def start(out_dir: Path) -> Path:
    """Remove leftovers of interrupted runs for this destination; return a new empty staging dir.

    Leftovers are anyone's staging dirs for `out_dir`: one job at a time per video (issue 7).
    """
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    for kind in (PARTIAL, OLD):
        for stale in out_dir.parent.glob(f".{out_dir.name}.{kind}-*"):
            shutil.rmtree(stale, ignore_errors=True)
    staging = _sibling(out_dir, PARTIAL)
    staging.mkdir()
    return staging


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def publish(staging: Path, out_dir: Path) -> None:
    """fsync every file and directory, then rename into place (replacing an older output)."""
    fsync_tree(staging)
    old: Path | None = None
    if out_dir.exists():
        old = _sibling(out_dir, OLD)
        out_dir.rename(old)
    staging.rename(out_dir)
    _fsync_dir(out_dir.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def fsync_tree(root: Path) -> None:
    for directory, _, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(directory, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(directory))


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text(path: Path, text: str) -> None:
    """Write a small file we generate (playlists, VTT); fsync_tree makes it durable."""
    path.write_text(text, encoding="utf-8")


def files_under(root: Path) -> tuple[str, ...]:
    """Every file below root as a sorted POSIX path relative to it."""
    return tuple(sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()))
