"""Version stamps and collision-free keys for objects our writers put in replicated buckets.

filer.sync settles a conflict by whole-second mtimes, so one key written in two regions within
one second stays different forever. Two rules make that impossible for our writers and let the
auditor repair anything else deterministically:

- every key a writer creates carries the writing region (`upload_key`), so two regions never
  create the same key;
- every object carries a version stamp in `x-amz-meta-openfront-version`:
  `<epoch_ns, 19 digits>-<region>`, from a clock that never goes back in a process. Stamps are
  totally ordered by (time, region name): the last writer wins, and two writes in the same
  nanosecond are ordered by region.

Pure: no clock is read here; callers pass `now_ns`.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

VERSION_META = "openfront-version"  # x-amz-meta-openfront-version; boto3's Metadata key
VERSION_HEADER = f"x-amz-meta-{VERSION_META}"
_STAMP = re.compile(r"^([0-9]{19})-([a-z]{2}(?:-[a-z]+)+-[0-9]{1,2})$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME = 128


@dataclass(frozen=True, slots=True, order=True)
class VersionStamp:
    """Ordered by `ns`, then `region`: the total order last-writer-wins uses."""

    ns: int
    region: str

    def __str__(self) -> str:
        return f"{self.ns:019d}-{self.region}"

    @property
    def seconds(self) -> float:
        return self.ns / 1e9


def parse_stamp(text: str | None) -> VersionStamp | None:
    """The stamp in `text`, or None when it is missing or not one of ours."""
    if not text:
        return None
    match = _STAMP.match(text.strip())
    if match is None:
        return None
    return VersionStamp(int(match.group(1)), match.group(2))


def next_stamp(previous: VersionStamp | None, now_ns: int, region: str) -> VersionStamp:
    """A stamp after `previous` (a hybrid logical clock: wall time unless it went back)."""
    floor = previous.ns + 1 if previous is not None else 0
    return VersionStamp(max(now_ns, floor), region)


def stamp_metadata(stamp: VersionStamp) -> dict[str, str]:
    """boto3's `Metadata` for a write carrying `stamp` (x-amz-meta-openfront-version)."""
    return {VERSION_META: str(stamp)}


class StampClock:
    """One writer's stamps: strictly increasing even if the wall clock steps back. A writer's
    threads may share one clock (the lock keeps two of them from taking the same stamp)."""

    def __init__(self, region: str) -> None:
        self.region = region
        self._last: VersionStamp | None = None
        self._lock = threading.Lock()

    def stamp(self, now_ns: int) -> VersionStamp:
        with self._lock:
            self._last = next_stamp(self._last, now_ns, self.region)
            return self._last


def safe_name(filename: str) -> str:
    """A file name reduced to `[A-Za-z0-9._-]`, at most 128 characters, never empty."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip("._") or "file"
    return cleaned[-MAX_NAME:]


def upload_key(user_id: str, filename: str, stamp: VersionStamp, prefix: str = "videos") -> str:
    """`videos/<user_id>/<stamp>_<name>`: the stamp names the writing region, so no two
    regions (and no two writes of one clock) ever create the same key."""
    user = _UNSAFE.sub("_", user_id).strip("._")
    if not user:
        raise ValueError("user_id has no usable character")
    return f"{prefix}/{user}/{stamp}_{safe_name(filename)}"


def key_stamp(key: str) -> VersionStamp | None:
    """The stamp a key made by `upload_key` starts its last part with, or None."""
    last = key.rsplit("/", 1)[-1]
    return parse_stamp(last.split("_", 1)[0])


def key_region(key: str) -> str | None:
    """The writing region named in a key made by `upload_key`, or None."""
    stamp = key_stamp(key)
    return stamp.region if stamp is not None else None
