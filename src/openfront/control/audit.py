"""The audit trail (CloudTrail's role): who changed what, from where, and how it ended.

A successful change and its record commit in one transaction; a refused or failed call is
recorded on its own. Parameters are the operation's input as botocore would name it, with every
value the service model marks sensitive (origin custom header values, comments) redacted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openfront.control.awsmodel import shape
from openfront.control.models import AuditRecord

REDACTED = "*** redacted ***"
MAX_QUERY = 10_000


@dataclass(slots=True)
class AuditEntry:
    time: datetime
    request_id: str
    principal: str
    source_ip: str
    user_agent: str
    action: str
    parameters: dict[str, Any] = field(default_factory=dict)
    resource: str = ""


def redact(value: Any, shape_name: str) -> Any:
    """``value`` of ``shape_name`` with the model's sensitive values replaced."""
    sh = shape(shape_name)
    if sh.get("sensitive"):
        return REDACTED
    if sh["type"] == "structure" and isinstance(value, dict):
        members = sh["members"]
        return {k: redact(v, members[k]["shape"]) if k in members else v for k, v in value.items()}
    if sh["type"] == "list" and isinstance(value, list):
        return [redact(v, sh["member"]["shape"]) for v in value]
    return value


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def record(session: Session, entry: AuditEntry, result: str, http_status: int) -> None:
    session.add(
        AuditRecord(
            time=entry.time,
            request_id=entry.request_id,
            principal=entry.principal[:64],
            source_ip=entry.source_ip[:64],
            user_agent=entry.user_agent[:512],
            action=entry.action[:64],
            resource=entry.resource[:128],
            parameters=_jsonable(entry.parameters),
            result=result[:64],
            http_status=http_status,
        )
    )


def query(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    action: str | None = None,
    principal: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Records oldest first, as JSON-ready dicts."""
    stmt = select(AuditRecord).order_by(AuditRecord.seq).limit(min(limit, MAX_QUERY))
    if since is not None:
        stmt = stmt.where(AuditRecord.time >= since)
    if until is not None:
        stmt = stmt.where(AuditRecord.time < until)
    if action:
        stmt = stmt.where(AuditRecord.action == action)
    if principal:
        stmt = stmt.where(AuditRecord.principal == principal)
    return [as_dict(r) for r in session.scalars(stmt)]


def as_dict(row: AuditRecord) -> dict[str, Any]:
    return {
        "time": row.time.isoformat().replace("+00:00", "Z"),
        "requestId": row.request_id,
        "principal": row.principal,
        "sourceIp": row.source_ip,
        "userAgent": row.user_agent,
        "action": row.action,
        "resource": row.resource,
        "parameters": row.parameters,
        "result": row.result,
        "httpStatus": row.http_status,
    }
