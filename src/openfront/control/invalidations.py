"""Invalidations: CallerReference idempotency, CloudFront's path rules and in-progress quotas."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openfront.cache.invalidation import validate_invalidation_path
from openfront.control import fleet, ids
from openfront.control.distributions import IN_PROGRESS
from openfront.control.errors import ApiError
from openfront.control.models import Distribution, Invalidation
from openfront.control.settings import ApiSettings

COMPLETED = "Completed"
MAX_CALLER_REFERENCE = 255


@dataclass(frozen=True, slots=True)
class InvalidationView:
    id: str
    status: str
    create_time: datetime
    caller_reference: str
    paths: list[str]


@dataclass(frozen=True, slots=True)
class InvalidationPage:
    items: list[InvalidationView]
    marker: str
    max_items: int
    next_marker: str | None


def _view(row: Invalidation) -> InvalidationView:
    return InvalidationView(row.id, row.status, row.created_at, row.caller_reference, row.paths)


def _distribution(session: Session, dist_id: str, *, lock: bool = False) -> Distribution:
    row = session.get(Distribution, dist_id, with_for_update=lock)
    if row is None:
        msg = f"The specified distribution does not exist: {dist_id}"
        raise ApiError("NoSuchDistribution", msg)
    return row


def batch_paths(batch: dict[str, Any]) -> tuple[str, list[str]]:
    """The CallerReference and the paths of an InvalidationBatch, checked as CloudFront does."""
    ref = batch.get("CallerReference") or ""
    if not ref or len(ref) > MAX_CALLER_REFERENCE:
        msg = f"CallerReference must be 1 to {MAX_CALLER_REFERENCE} characters"
        raise ApiError("InvalidArgument", msg)
    paths_obj = batch.get("Paths") or {}
    items = list(paths_obj.get("Items") or ())
    if paths_obj.get("Quantity") != len(items):
        msg = f"Quantity is {paths_obj.get('Quantity')} but Items has {len(items)} paths."
        raise ApiError("InconsistentQuantities", msg)
    if not items:
        raise ApiError("InvalidArgument", "An invalidation batch needs at least one path.")
    for path in items:
        problem = validate_invalidation_path(path)
        if problem is not None:
            raise ApiError("InvalidArgument", problem[0].upper() + problem[1:] + ".")
    return ref, items


def create_invalidation(
    session: Session,
    dist_id: str,
    batch: dict[str, Any],
    settings: ApiSettings,
    now: datetime,
) -> tuple[InvalidationView, bool]:
    """The new invalidation and True, or the earlier one with this CallerReference and False."""
    ref, paths = batch_paths(batch)
    _distribution(session, dist_id, lock=True)  # serialises the quota check per distribution
    existing = session.scalar(
        select(Invalidation).where(
            Invalidation.distribution_id == dist_id, Invalidation.caller_reference == ref
        )
    )
    if existing is not None:
        if Counter(existing.paths) == Counter(paths):
            return _view(existing), False
        msg = "An invalidation batch with this CallerReference already exists with other paths."
        raise ApiError("InvalidationBatchAlreadyExists", msg)
    wildcards = sum(p.endswith("*") for p in paths)
    files = len(paths) - wildcards
    file_limit = settings.max_invalidation_paths_in_progress
    wildcard_limit = settings.max_wildcard_paths_in_progress
    if files > file_limit or wildcards > wildcard_limit:
        msg = f"A batch holds at most {file_limit} paths and {wildcard_limit} wildcard paths "
        msg += f"(got {files} and {wildcards})."
        raise ApiError("BatchTooLarge", msg)
    busy_files, busy_wildcards = session.execute(
        select(
            func.coalesce(func.sum(Invalidation.path_count - Invalidation.wildcard_count), 0),
            func.coalesce(func.sum(Invalidation.wildcard_count), 0),
        ).where(Invalidation.distribution_id == dist_id, Invalidation.status == IN_PROGRESS)
    ).one()
    if busy_files + files > file_limit or busy_wildcards + wildcards > wildcard_limit:
        msg = f"In progress: {busy_files} paths and {busy_wildcards} wildcard paths; the limits "
        msg += f"are {file_limit} and {wildcard_limit} per distribution."
        raise ApiError("TooManyInvalidationsInProgress", msg)
    fleet.lock_changes(session)
    done = not fleet.must_wait(session, settings, now)
    row = Invalidation(
        id=ids.invalidation_id(),
        distribution_id=dist_id,
        caller_reference=ref,
        paths=paths,
        path_count=len(paths),
        wildcard_count=wildcards,
        status=COMPLETED if done else IN_PROGRESS,
        created_at=now,
        completed_at=now if done else None,
    )
    session.add(row)
    return _view(row), True


def get_invalidation(session: Session, dist_id: str, inv_id: str) -> InvalidationView:
    _distribution(session, dist_id)
    row = session.scalar(
        select(Invalidation).where(
            Invalidation.distribution_id == dist_id, Invalidation.id == inv_id
        )
    )
    if row is None:
        raise ApiError("NoSuchInvalidation", f"The specified invalidation does not exist: {inv_id}")
    return _view(row)


def list_invalidations(
    session: Session, dist_id: str, marker: str, max_items: int
) -> InvalidationPage:
    """Newest first, as CloudFront lists them; Marker is the last Id of the previous page."""
    _distribution(session, dist_id)
    query = (
        select(Invalidation)
        .where(Invalidation.distribution_id == dist_id)
        .order_by(Invalidation.seq.desc())
        .limit(max_items + 1)
    )
    if marker:
        seq = session.scalar(
            select(Invalidation.seq).where(
                Invalidation.distribution_id == dist_id, Invalidation.id == marker
            )
        )
        if seq is None:
            raise ApiError("InvalidArgument", f"Marker {marker!r} is not an invalidation Id here.")
        query = query.where(Invalidation.seq < seq)
    rows = list(session.scalars(query))
    views = [_view(r) for r in rows[:max_items]]
    truncated = len(rows) > max_items
    return InvalidationPage(views, marker, max_items, views[-1].id if truncated else None)
