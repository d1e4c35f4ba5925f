"""The edge fleet in SQL: registration, heartbeats, acknowledgements, changes and statuses.

Plain functions over a Session; the caller owns the transaction. An edge holds two cursors:
the highest configuration version ``seq`` it has applied and the highest invalidation ``seq``.
A distribution is Deployed once every healthy edge's configuration cursor has reached its
current version without refusing it; an invalidation Completed once every healthy edge's
invalidation cursor has reached it. Healthy means heard from within ``edge_stale_seconds``:
an edge that stopped talking stops holding anything back. With no healthy edge at all,
nothing waits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from openfront.control.errors import ApiError
from openfront.control.models import (
    Distribution,
    DistributionVersion,
    FleetEdge,
    FleetHead,
    Invalidation,
)
from openfront.control.settings import ApiSettings

HEALTHY, STALE, GONE = "healthy", "stale", "gone"
DEPLOYED, IN_PROGRESS, COMPLETED = "Deployed", "InProgress", "Completed"
EDGE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
LABEL = re.compile(r"^[\x20-\x7e]{0,64}$")
MAX_ADDRESS = 255
MAX_ERROR = 1000
MAX_ERRORS = 200


def health(last_seen: datetime, now: datetime, stale_after: float, gone_after: float) -> str:
    """healthy, stale or gone from when an edge was last heard of."""
    silent = (now - last_seen).total_seconds()
    if silent < stale_after:
        return HEALTHY
    return STALE if silent < gone_after else GONE


def lock_changes(session: Session) -> None:
    """Order this transaction's new version or invalidation after every earlier one.

    The UPDATE holds the head row's lock until commit, so sequence numbers taken after it
    become visible in the order they were taken (SQLite serialises writers anyway).
    """
    session.execute(
        update(FleetHead)
        .where(FleetHead.id == 1)
        .values(changes=FleetHead.changes + 1)
        .execution_options(synchronize_session=False)
    )


def _cutoff(settings: ApiSettings, now: datetime) -> datetime:
    return now - timedelta(seconds=settings.edge_stale_seconds)


def _healthy(session: Session, settings: ApiSettings, now: datetime) -> list[FleetEdge]:
    return list(
        session.scalars(select(FleetEdge).where(FleetEdge.last_seen_at >= _cutoff(settings, now)))
    )


def must_wait(session: Session, settings: ApiSettings, now: datetime) -> bool:
    """Whether a change stored now starts InProgress: some healthy edge has to apply it."""
    if settings.complete_immediately:
        return False
    found = session.scalar(
        select(FleetEdge.id).where(FleetEdge.last_seen_at >= _cutoff(settings, now)).limit(1)
    )
    return found is not None


# --- what edges say -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Registration:
    edge_id: str
    pop: str
    region: str
    address: str
    config_seq: int
    invalidation_seq: int | None  # None: a fresh edge, nothing before now to invalidate


def parse_registration(edge_id: str, body: Any) -> Registration:
    if not EDGE_ID.match(edge_id):
        raise ApiError("InvalidArgument", "An edge id is 1-64 letters, digits, '.', '_', '-'.")
    if not isinstance(body, dict):
        raise ApiError("MalformedInput", "Expected a JSON object.")
    labels = []
    for key in ("pop", "region"):
        value = body.get(key, "")
        if not isinstance(value, str) or not LABEL.match(value):
            raise ApiError("InvalidArgument", f"{key} must be at most 64 printable characters.")
        labels.append(value)
    address = body.get("address", "")
    if not isinstance(address, str) or len(address) > MAX_ADDRESS:
        raise ApiError("InvalidArgument", f"address must be at most {MAX_ADDRESS} characters.")
    inv = body.get("invalidation_seq")
    return Registration(
        edge_id,
        labels[0],
        labels[1],
        address,
        parse_seq(body.get("config_seq", 0), "config_seq"),
        None if inv is None else parse_seq(inv, "invalidation_seq"),
    )


def parse_seq(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 62:
        raise ApiError("InvalidArgument", f"{name} must be a non-negative integer.")
    return value


def parse_errors(value: Any) -> dict[str, Any]:
    """The refused versions an edge reports: {distribution id: {"seq", "message"}}."""
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_ERRORS:
        raise ApiError("InvalidArgument", f"errors must be an object of at most {MAX_ERRORS}.")
    out: dict[str, Any] = {}
    for dist_id, err in value.items():
        if not isinstance(err, dict) or not isinstance(err.get("message"), str):
            raise ApiError("InvalidArgument", "each error is {seq, message}.")
        out[str(dist_id)[:16]] = {
            "seq": parse_seq(err.get("seq"), "seq"),
            "message": err["message"][:MAX_ERROR],
        }
    return out


def register(session: Session, reg: Registration, principal: str, now: datetime) -> FleetEdge:
    """Create or refresh the edge's row; its cursors become what the edge says it holds."""
    inv = reg.invalidation_seq
    if inv is None:
        inv = int(session.scalar(select(func.coalesce(func.max(Invalidation.seq), 0))) or 0)
    row = session.get(FleetEdge, reg.edge_id)
    if row is None:
        row = FleetEdge(id=reg.edge_id, registered_at=now, errors={})
        session.add(row)
    row.pop, row.region, row.address = reg.pop, reg.region, reg.address
    row.principal = principal
    row.last_seen_at = now
    row.config_seq = reg.config_seq
    row.invalidation_seq = inv
    return row


def _edge(session: Session, edge_id: str) -> FleetEdge:
    row = session.get(FleetEdge, edge_id) if EDGE_ID.match(edge_id) else None
    if row is None:
        raise ApiError("NoSuchEdge", f"Edge {edge_id[:64]!r} is not registered.")
    return row


def seen(session: Session, edge_id: str, now: datetime) -> None:
    _edge(session, edge_id).last_seen_at = now


def acknowledge(
    session: Session,
    edge_id: str,
    config_seq: int,
    invalidation_seq: int,
    errors: dict[str, Any],
    now: datetime,
) -> None:
    row = _edge(session, edge_id)
    row.last_seen_at = now
    row.config_seq = config_seq
    row.invalidation_seq = invalidation_seq
    row.errors = errors


# --- what edges get -----------------------------------------------------------------------------


def changes(
    session: Session, config_after: int, invalidations_after: int, limit: int
) -> dict[str, Any]:
    """Configurations and invalidations after the cursors, oldest first.

    Only each distribution's newest version after the cursor is sent: an edge holds whole
    configurations, so the versions in between would be replaced at once anyway.
    """
    newest = (
        select(func.max(DistributionVersion.seq))
        .where(DistributionVersion.seq > config_after)
        .group_by(DistributionVersion.distribution_id)
    )
    versions = session.scalars(
        select(DistributionVersion)
        .where(DistributionVersion.seq.in_(newest))
        .order_by(DistributionVersion.seq)
    ).all()
    config_seq = max((v.seq for v in versions), default=config_after)
    invalidations = session.scalars(
        select(Invalidation)
        .where(Invalidation.seq > invalidations_after)
        .order_by(Invalidation.seq)
        .limit(limit)
    ).all()
    inv_seq = invalidations[-1].seq if invalidations else invalidations_after
    return {
        "config_seq": config_seq,
        "invalidation_seq": inv_seq,
        "configs": [config_message(v, _domains(session, versions)) for v in versions],
        "invalidations": [invalidation_message(i) for i in invalidations],
    }


def config_message(v: DistributionVersion, domains: dict[str, str]) -> dict[str, Any]:
    return {
        "seq": v.seq,
        "distribution_id": v.distribution_id,
        "domain_name": domains.get(v.distribution_id),
        "etag": v.etag,
        "deleted": v.deleted,
        "config": v.config,
    }


def _domains(session: Session, versions: Sequence[DistributionVersion]) -> dict[str, str]:
    """Each distribution's DomainName: edges route it to the distribution, as CloudFront does."""
    ids = {v.distribution_id for v in versions if not v.deleted}
    if not ids:
        return {}
    rows = session.execute(
        select(Distribution.id, Distribution.domain_name).where(Distribution.id.in_(ids))
    )
    return {dist_id: domain for dist_id, domain in rows}


def invalidation_message(i: Invalidation) -> dict[str, Any]:
    return {"seq": i.seq, "id": i.id, "distribution_id": i.distribution_id, "paths": i.paths}


def each_change_after(
    session: Session, config_after: int, invalidations_after: int, limit: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every version and invalidation after the cursors (none collapsed), for the bus."""
    versions = session.scalars(
        select(DistributionVersion)
        .where(DistributionVersion.seq > config_after)
        .order_by(DistributionVersion.seq)
        .limit(limit)
    ).all()
    invalidations = session.scalars(
        select(Invalidation)
        .where(Invalidation.seq > invalidations_after)
        .order_by(Invalidation.seq)
        .limit(limit)
    ).all()
    domains = _domains(session, versions)
    configs = [config_message(v, domains) for v in versions]
    return configs, [invalidation_message(i) for i in invalidations]


def head(session: Session) -> tuple[int, int]:
    """The newest configuration and invalidation sequence numbers."""
    config = session.scalar(select(func.coalesce(func.max(DistributionVersion.seq), 0)))
    inv = session.scalar(select(func.coalesce(func.max(Invalidation.seq), 0)))
    return int(config or 0), int(inv or 0)


# --- statuses -----------------------------------------------------------------------------------


def pending(session: Session) -> bool:
    """Whether anything is InProgress (so settling could change something)."""
    dist = session.scalar(select(Distribution.id).where(Distribution.status == IN_PROGRESS))
    inv = session.scalar(select(Invalidation.seq).where(Invalidation.status == IN_PROGRESS))
    return dist is not None or inv is not None


def settle(session: Session, settings: ApiSettings, now: datetime) -> int:
    """Mark Deployed / Completed what every healthy edge has applied; returns how many."""
    edges = [] if settings.complete_immediately else _healthy(session, settings, now)
    current = session.execute(
        select(Distribution.id, DistributionVersion.seq)
        .join(
            DistributionVersion,
            (DistributionVersion.distribution_id == Distribution.id)
            & (DistributionVersion.version == Distribution.version),
        )
        .where(Distribution.status == IN_PROGRESS)
    ).all()
    done = [
        dist_id
        for dist_id, seq in current
        if all(e.config_seq >= seq and dist_id not in e.errors for e in edges)
    ]
    if done:
        session.execute(
            update(Distribution)
            .where(Distribution.id.in_(done), Distribution.status == IN_PROGRESS)
            .values(status=DEPLOYED)
            .execution_options(synchronize_session=False)
        )
    reached = min((e.invalidation_seq for e in edges), default=None)
    query = update(Invalidation).where(Invalidation.status == IN_PROGRESS)
    if reached is not None:
        query = query.where(Invalidation.seq <= reached)
    completed = session.execute(
        query.values(status=COMPLETED, completed_at=now).execution_options(
            synchronize_session=False
        )
    )
    return len(done) + int(getattr(completed, "rowcount", 0) or 0)


def list_edges(session: Session, settings: ApiSettings, now: datetime) -> list[dict[str, Any]]:
    config_head, inv_head = head(session)
    rows = session.scalars(select(FleetEdge).order_by(FleetEdge.pop, FleetEdge.id)).all()
    return [
        {
            "id": r.id,
            "pop": r.pop,
            "region": r.region,
            "address": r.address,
            "status": health(
                r.last_seen_at, now, settings.edge_stale_seconds, settings.edge_gone_seconds
            ),
            "lastSeen": r.last_seen_at.isoformat().replace("+00:00", "Z"),
            "registered": r.registered_at.isoformat().replace("+00:00", "Z"),
            "configSeq": r.config_seq,
            "configBehind": max(0, config_head - r.config_seq),
            "invalidationSeq": r.invalidation_seq,
            "invalidationsBehind": max(0, inv_head - r.invalidation_seq),
            "errors": r.errors,
        }
        for r in rows
    ]
