"""The replication auditor's decisions: per key, the S3-style replication status and the repair.

Pure: plain listings in, verdicts out, `now` passed in. The shell (audit.py) lists both buckets,
reads metadata, and carries out the actions.

Statuses, as S3 reports them:
- COMPLETED: both sides hold the same object (ETag and size equal, or, for a copy the auditor
  made, the same version stamp and size; plus equal user metadata when it was read). The side
  that wrote it is the source (COMPLETED), the other the REPLICA. Which side wrote it: the
  region named in the version stamp; without a stamp, the side with the older LastModified
  (filer.sync keeps mtimes, so often neither: then no side is called the replica).
- PENDING: the sides differ (or one lacks the key) and the newest change is younger than the
  grace window: replication may still be in flight.
- FAILED: still different after the grace window. Repair: last writer wins. The winner is the
  higher version stamp; an object without a stamp ranks by its LastModified; ties by ETag, so
  both sides always pick the same winner. A missing side is re-copied from the present one,
  unless a delete of that key was recorded after the present copy was written: then the delete
  is the last writer and the stale copy is deleted. Data is never deleted otherwise.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from openfront.storage.versioning import VersionStamp, parse_stamp

SIDES = ("a", "b")


class Status(enum.StrEnum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    REPLICA = "REPLICA"


class ActionKind(enum.StrEnum):
    COPY = "copy"  # copy `source` side's object over `target` side
    DELETE = "delete"  # delete `target` side's object (a newer delete was recorded)


@dataclass(frozen=True, slots=True)
class ObjectState:
    """One side's copy of a key, from a listing (and a HEAD when `metadata` is set)."""

    etag: str
    size: int
    last_modified: float  # epoch seconds
    version: str | None = None  # x-amz-meta-openfront-version, when read
    metadata: Mapping[str, str] | None = None  # user metadata; None = not read

    @property
    def stamp(self) -> VersionStamp | None:
        return parse_stamp(self.version)

    @property
    def written_at(self) -> float:
        stamp = self.stamp
        return stamp.seconds if stamp is not None else self.last_modified


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    target: str  # "a" or "b": the side that changes
    source: str | None = None  # "a" or "b" for a copy


@dataclass(frozen=True, slots=True)
class Verdict:
    key: str
    status: Status  # the source side's status (COMPLETED/PENDING/FAILED)
    source: str | None = None  # side that wrote the object, when known
    age: float = 0.0  # seconds since the newest change, for PENDING/FAILED
    action: Action | None = None  # repair for FAILED
    reason: str = ""

    @property
    def replica(self) -> str | None:
        if self.source is None:
            return None
        return "b" if self.source == "a" else "a"

    def side_status(self, side: str) -> Status:
        """What S3's x-amz-replication-status would say on `side`."""
        if self.status is Status.COMPLETED and side == self.replica:
            return Status.REPLICA
        return self.status


def other(side: str) -> str:
    return "b" if side == "a" else "a"


def strip_etag(etag: str) -> str:
    return etag.strip().strip('"')


def same_object(a: ObjectState, b: ObjectState) -> bool:
    """Equal bodies and metadata, as far as what was read shows."""
    if a.size != b.size:
        return False
    stamps = a.stamp, b.stamp
    same_body = strip_etag(a.etag) == strip_etag(b.etag) or (
        stamps[0] is not None and stamps[0] == stamps[1]
    )
    if not same_body:
        return False
    if a.metadata is not None and b.metadata is not None:
        return dict(a.metadata) == dict(b.metadata)
    return a.version == b.version or a.version is None or b.version is None


def needs_metadata(a: ObjectState | None, b: ObjectState | None, *, deep: bool) -> bool:
    """Whether the shell must HEAD both sides before deciding: when the listing shows a
    difference (the winner depends on version stamps), or always in deep mode."""
    if a is None or b is None:
        return a is not None or b is not None
    return deep or strip_etag(a.etag) != strip_etag(b.etag) or a.size != b.size


def rank(state: ObjectState) -> tuple[int, str, str]:
    """Last-writer-wins order: version stamp, else LastModified; ties broken by region, ETag."""
    stamp = state.stamp
    if stamp is not None:
        return (stamp.ns, stamp.region, strip_etag(state.etag))
    return (int(state.last_modified * 1e9), "", strip_etag(state.etag))


def winner(a: ObjectState, b: ObjectState) -> str:
    return "a" if rank(a) >= rank(b) else "b"


def writer_side(a: ObjectState, b: ObjectState, regions: Mapping[str, str]) -> str | None:
    """Which side wrote an object both sides hold: the stamp's region, else the older copy."""
    stamp = a.stamp or b.stamp
    if stamp is not None:
        for side, region in regions.items():
            if region == stamp.region:
                return side
    if a.last_modified < b.last_modified:
        return "a"
    if b.last_modified < a.last_modified:
        return "b"
    return None


def decide(
    key: str,
    a: ObjectState | None,
    b: ObjectState | None,
    *,
    regions: Mapping[str, str],
    now: float,
    grace: float,
    deleted_at: float | None = None,
) -> Verdict:
    """The status of `key` and, when FAILED, its repair. `regions` maps "a"/"b" to region
    names; `deleted_at` is the latest recorded delete of the key on either side (epoch s)."""
    if a is None and b is None:
        raise ValueError(f"{key!r}: neither side holds it")
    if a is not None and b is not None:
        if same_object(a, b):
            return Verdict(key, Status.COMPLETED, writer_side(a, b, regions))
        win = winner(a, b)
        age = now - max(a.last_modified, b.last_modified)
        if age < grace:
            return Verdict(key, Status.PENDING, win, age, reason="sides differ")
        action = Action(ActionKind.COPY, target=other(win), source=win)
        return Verdict(key, Status.FAILED, win, age, action, "sides differ")
    present = "a" if a is not None else "b"
    state = a if a is not None else b
    assert state is not None
    newest = state.last_modified if deleted_at is None else max(state.last_modified, deleted_at)
    age = now - newest
    if age < grace:
        return Verdict(key, Status.PENDING, present, age, reason=f"missing on {other(present)}")
    if deleted_at is not None and deleted_at > state.written_at:
        action = Action(ActionKind.DELETE, target=present)
        return Verdict(key, Status.FAILED, present, age, action, "deleted later on one side")
    action = Action(ActionKind.COPY, target=other(present), source=present)
    return Verdict(key, Status.FAILED, present, age, action, f"missing on {other(present)}")


def merge_listings(
    a: Iterable[tuple[str, ObjectState]], b: Iterable[tuple[str, ObjectState]]
) -> Iterator[tuple[str, ObjectState | None, ObjectState | None]]:
    """Join two key-sorted listings (S3 lists in UTF-8 byte order) holding one item of each."""
    ia, ib = iter(a), iter(b)
    na, nb = next(ia, None), next(ib, None)
    while na is not None or nb is not None:
        if nb is None or (na is not None and na[0].encode() < nb[0].encode()):
            assert na is not None
            yield na[0], na[1], None
            na = next(ia, None)
        elif na is None or nb[0].encode() < na[0].encode():
            yield nb[0], None, nb[1]
            nb = next(ib, None)
        else:
            yield na[0], na[1], nb[1]
            na, nb = next(ia, None), next(ib, None)


@dataclass
class Tally:
    """Counts per status, the oldest PENDING age (lag) and the FAILED count (divergence)."""

    counts: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in Status})
    lag: float = 0.0
    divergent: int = 0

    def add(self, verdict: Verdict) -> None:
        self.counts[verdict.status.value] += 1
        if verdict.status is Status.COMPLETED and verdict.source is not None:
            self.counts[Status.REPLICA.value] += 1
        if verdict.status is Status.PENDING:
            self.lag = max(self.lag, verdict.age)
        if verdict.status is Status.FAILED:
            self.divergent += 1
