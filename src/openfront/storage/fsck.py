"""Orphaned chunks after a crash: `weed shell` → `volume.fsck` on a managed store.

A filer.sync or upload killed mid-copy leaves chunks on the volume server that no filer entry
references (never a visible partial object). volume.fsck counts them; with `apply` it deletes
them (`-reallyDeleteFromVolume`). Only chunks older than `cutoff` are considered, so uploads in
flight are not taken for orphans.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from openfront.errors import StorageError

_COUNTS = r"entries:(\d+)\s+orphan:(\d+)\s+[0-9.]+%\s+(\d+)B"
_TOTAL = re.compile(r"^Total\s+" + _COUNTS, re.M)
_VOLUME = re.compile(r"^dataNode:\S+\s+volume:\d+\s+" + _COUNTS, re.M)
DEFAULT_CUTOFF = "5m"
FSCK_TIMEOUT = 600.0


@dataclass(frozen=True, slots=True)
class FsckResult:
    entries: int | None  # chunks checked; None when weed only said "no orphan data"
    orphans: int
    orphan_bytes: int
    applied: bool
    output: str

    def to_json(self) -> dict[str, object]:
        return {
            "entries": self.entries,
            "orphans": self.orphans,
            "orphan_bytes": self.orphan_bytes,
            "deleted": self.applied and self.orphans > 0,
        }


def fsck_script(*, apply: bool, cutoff: str, temp_dir: Path) -> str:
    flags = f"-cutoffTimeAgo={cutoff} -tempPath={temp_dir}"
    if apply:
        flags += " -reallyDeleteFromVolume"
    # The shell's exclusive lock keeps two maintenance commands from running at once.
    return f"lock\nvolume.fsck {flags}\nunlock\n"


def parse_fsck(output: str, applied: bool) -> FsckResult:
    """Sum the `Total entries:N orphan:M P% BYTES` lines; with -reallyDeleteFromVolume weed
    prints only the per-volume lines (`dataNode:... volume:V entries:...`) before purging."""
    matches = list(_TOTAL.finditer(output)) or list(_VOLUME.finditer(output))
    if not matches and "no orphan data" not in output:
        raise StorageError(f"volume.fsck gave no totals: {output.strip()[-500:] or '(no output)'}")
    entries = sum(int(m.group(1)) for m in matches) if matches else None
    orphans = sum(int(m.group(2)) for m in matches)
    size = sum(int(m.group(3)) for m in matches)
    return FsckResult(entries, orphans, size, applied, output)


def run_fsck(
    weed: str,
    master_address: str,
    filer_address: str,
    temp_dir: Path,
    *,
    apply: bool = False,
    cutoff: str = DEFAULT_CUTOFF,
) -> FsckResult:
    temp_dir.mkdir(parents=True, exist_ok=True)
    script = fsck_script(apply=apply, cutoff=cutoff, temp_dir=temp_dir)
    argv = [weed, "shell", f"-master={master_address}", f"-filer={filer_address}"]
    try:
        done = subprocess.run(
            argv, input=script.encode(), capture_output=True, timeout=FSCK_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise StorageError(f"volume.fsck did not finish in {FSCK_TIMEOUT:g}s") from None
    output = done.stdout.decode("utf-8", errors="replace")
    if "error:" in output and "entries:" not in output:
        raise StorageError(f"weed shell: {output.strip()[-500:]}")
    return parse_fsck(output, apply)
