"""Account-level resources in SQL: create, read, update (compare-and-swap on the ETag), delete.

Plain functions over a Session; the caller owns the transaction. Managed policies are served
from ``openfront.config.managed`` and cannot change. Updating a resource that distributions
use writes a new version of each of them (``distributions.redeploy``) in the same
transaction, so edges receive the change through the fleet feed like any other.

Every change here, and every distribution write, first takes the fleet's change lock
(``fleet.lock_changes``) before reading anything, so a distribution never stores a copy of a
resource that a concurrent transaction is changing or deleting (on MariaDB the snapshot a
transaction reads starts at its first plain read, after the lock).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from openfront.control import distributions, fleet, ids
from openfront.control.errors import ApiError
from openfront.control.models import AccountResource, ResourceUse
from openfront.control.resources import (
    KEY_GROUP,
    KINDS,
    MANAGED_POLICIES,
    PUBLIC_KEY,
    key_ids,
    managed_name_taken,
    validate,
)
from openfront.control.settings import ApiSettings

# CloudFront shows the time a managed policy last changed; these never change here.
MANAGED_SINCE = datetime(2020, 5, 31, tzinfo=UTC)
MAX_KEYS_PER_GROUP = 5


@dataclass(frozen=True, slots=True)
class ResourceView:
    id: str
    kind: str
    config: dict[str, Any]  # the model dump, CloudFront key names
    caller_reference: str | None
    etag: str
    created: datetime
    last_modified: datetime
    managed: bool = False

    def api_config(self) -> dict[str, Any]:
        if self.kind == PUBLIC_KEY:
            return {"CallerReference": self.caller_reference, **self.config}
        return self.config


@dataclass(frozen=True, slots=True)
class Page:
    items: list[ResourceView]
    marker: str
    max_items: int
    next_marker: str | None


def _managed_etag(config: dict[str, Any]) -> str:
    digest = hashlib.sha256(repr(sorted(config.items())).encode()).hexdigest().upper()
    return "E" + digest[:13]


def _managed(kind: str) -> list[ResourceView]:
    return [
        ResourceView(
            pid, kind, config, None, _managed_etag(config), MANAGED_SINCE, MANAGED_SINCE, True
        )
        for pid, config in MANAGED_POLICIES.get(kind, ())
    ]


def _view(row: AccountResource) -> ResourceView:
    return ResourceView(
        row.id,
        row.kind,
        dict(row.config),
        row.caller_reference,
        row.etag,
        row.created_at,
        row.last_modified_at,
    )


def _no_such(kind: str, resource_id: str) -> ApiError:
    return ApiError(KINDS[kind].no_such, f"The {kind} {resource_id[:64]!r} does not exist.")


def _row(session: Session, kind: str, resource_id: str) -> AccountResource:
    row = session.get(AccountResource, resource_id)
    if row is None or row.kind != kind:
        raise _no_such(kind, resource_id)
    return row


def _is_managed(kind: str, resource_id: str) -> bool:
    return any(pid == resource_id for pid, _ in MANAGED_POLICIES.get(kind, ()))


def _new_id(kind: str) -> str:
    style = KINDS[kind].id_style
    if style == "uuid":
        return str(uuid.uuid4())
    return style + ids.etag()[1:]  # the same 13 upper-case letters and digits


def _check_if_match(row: AccountResource, if_match: str | None) -> None:
    if not if_match:
        raise ApiError(
            "InvalidIfMatchVersion",
            "The If-Match version is missing or not valid for the resource.",
        )
    if if_match != row.etag:
        raise ApiError(
            "PreconditionFailed",
            "The precondition given in one or more of the request-header fields evaluated "
            "to false.",
        )


def _validated(
    session: Session, kind: str, doc: dict[str, Any], resource_id: str | None
) -> tuple[dict[str, Any], str | None]:
    if kind == KEY_GROUP:
        items = (doc.get("Items") if isinstance(doc.get("Items"), list) else None) or []
        if len(items) > MAX_KEYS_PER_GROUP:
            msg = f"A key group holds at most {MAX_KEYS_PER_GROUP} public keys."
            raise ApiError("TooManyPublicKeysInKeyGroup", msg)
    config, caller_reference = validate(kind, doc)
    name = str(config["Name"])
    spec = KINDS[kind]
    taken = session.scalar(
        select(AccountResource.id).where(
            AccountResource.kind == kind,
            AccountResource.name == name,
            AccountResource.id != (resource_id or ""),
        )
    )
    if taken is not None or managed_name_taken(kind, name):
        raise ApiError(spec.exists, f"A {kind} named {name!r} already exists.")
    if kind == KEY_GROUP:
        for key_id in key_ids(config):
            key = session.get(AccountResource, key_id)
            if key is None or key.kind != PUBLIC_KEY:
                msg = f"KeyGroupConfig.Items: no public key has the Id {key_id[:64]!r}."
                raise ApiError("InvalidArgument", msg)
    return config, caller_reference


def create(
    session: Session, kind: str, doc: dict[str, Any], now: datetime
) -> tuple[ResourceView, bool]:
    """The new resource and True, or (public keys) the one the same request made and False."""
    spec = KINDS[kind]
    fleet.lock_changes(session)
    if kind == PUBLIC_KEY:
        ref = doc.get("CallerReference")
        existing = session.scalar(
            select(AccountResource).where(
                AccountResource.kind == kind, AccountResource.caller_reference == ref
            )
        )
        if existing is not None:
            same = validate(kind, doc)[0] == existing.config
            if same:
                return _view(existing), False
            msg = f"CallerReference {ref!r} was used for another public key: {existing.id}"
            raise ApiError(spec.exists, msg)
    config, caller_reference = _validated(session, kind, doc, None)
    count = session.scalar(
        select(func.count()).select_from(AccountResource).where(AccountResource.kind == kind)
    )
    if int(count or 0) >= spec.quota:
        msg = f"An account has at most {spec.quota} custom {kind} resources."
        raise ApiError(spec.too_many, msg)
    row = AccountResource(
        id=_new_id(kind),
        kind=kind,
        name=str(config["Name"]),
        caller_reference=caller_reference,
        etag=ids.etag(),
        config=config,
        created_at=now,
        last_modified_at=now,
    )
    session.add(row)
    session.flush()
    return _view(row), True


def get(session: Session, kind: str, resource_id: str) -> ResourceView:
    for view in _managed(kind):
        if view.id == resource_id:
            return view
    return _view(_row(session, kind, resource_id))


def update_resource(
    session: Session,
    kind: str,
    resource_id: str,
    doc: dict[str, Any],
    if_match: str | None,
    settings: ApiSettings,
    now: datetime,
) -> ResourceView:
    if _is_managed(kind, resource_id):
        raise ApiError("IllegalUpdate", f"The managed {kind} {resource_id!r} cannot be updated.")
    fleet.lock_changes(session)
    row = _row(session, kind, resource_id)
    _check_if_match(row, if_match)
    config, caller_reference = _validated(session, kind, doc, resource_id)
    if kind == PUBLIC_KEY:
        fixed = ("Name", "EncodedKey")
        if caller_reference != row.caller_reference or any(
            config.get(k) != row.config.get(k) for k in fixed
        ):
            msg = "Only a public key's Comment can change; make a new key for a new key."
            raise ApiError("CannotChangeImmutablePublicKeyFields", msg)
    etag = ids.etag()
    swapped = session.execute(
        update(AccountResource)
        .where(AccountResource.id == resource_id, AccountResource.etag == if_match)
        .values(etag=etag, name=str(config["Name"]), config=config, last_modified_at=now)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(swapped) != 1:
        raise ApiError("PreconditionFailed", f"The {kind} changed while this request ran.")
    session.expire(row)
    if kind != PUBLIC_KEY:  # a key's Comment is all that can change: edges need nothing new
        _redeploy_users(session, resource_id, settings, now)
    return _view(row)


def _redeploy_users(
    session: Session, resource_id: str, settings: ApiSettings, now: datetime
) -> None:
    users = session.scalars(
        select(ResourceUse.distribution_id)
        .where(ResourceUse.resource_id == resource_id)
        .order_by(ResourceUse.distribution_id)
    ).all()
    if not users:
        return
    account = distributions.load_account(session)
    for dist_id in users:
        try:
            distributions.redeploy(session, dist_id, account, settings, now)
        except ApiError as exc:
            if exc.code == "PreconditionFailed":
                raise
            msg = f"The distribution {dist_id} would no longer load: {exc.code}: {exc.message}"
            raise ApiError("InvalidArgument", msg) from None


def delete_resource(session: Session, kind: str, resource_id: str, if_match: str | None) -> None:
    if _is_managed(kind, resource_id):
        raise ApiError("IllegalDelete", f"The managed {kind} {resource_id!r} cannot be deleted.")
    fleet.lock_changes(session)
    row = _row(session, kind, resource_id)
    _check_if_match(row, if_match)
    spec = KINDS[kind]
    if kind == PUBLIC_KEY:
        groups = session.scalars(
            select(AccountResource).where(AccountResource.kind == KEY_GROUP)
        ).all()
        holders = [g.id for g in groups if resource_id in key_ids(g.config)]
        if holders:
            msg = f"The public key is in the key group {holders[0]}."
            raise ApiError(spec.in_use, msg)
    else:
        user = session.scalar(
            select(ResourceUse.distribution_id).where(ResourceUse.resource_id == resource_id)
        )
        if user is not None:
            raise ApiError(spec.in_use, f"The {kind} is used by the distribution {user}.")
    gone = session.execute(
        delete(AccountResource)
        .where(AccountResource.id == resource_id, AccountResource.etag == if_match)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(gone) != 1:
        raise ApiError("PreconditionFailed", f"The {kind} changed while this request ran.")
    session.expunge(row)


def list_resources(
    session: Session, kind: str, policy_type: str | None, marker: str, max_items: int
) -> Page:
    """Custom (and, for policies, managed) resources ordered by id, from after ``marker``."""
    if policy_type not in (None, "", "managed", "custom"):
        raise ApiError("InvalidArgument", "Type must be managed or custom")
    # Quotas keep a kind to at most 100 rows: paging in Python orders ids the same way on
    # every database (collations differ on '-').
    found: list[ResourceView] = []
    if policy_type != "custom":
        found.extend(_managed(kind))
    if policy_type != "managed":
        rows = session.scalars(select(AccountResource).where(AccountResource.kind == kind))
        found.extend(_view(r) for r in rows)
    found = sorted((v for v in found if v.id > marker), key=lambda v: v.id)
    page = found[:max_items]
    truncated = len(found) > max_items
    return Page(page, marker, max_items, page[-1].id if truncated and page else None)


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
