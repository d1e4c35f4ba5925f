"""Distributions: create, read, update (compare-and-swap on the ETag), delete, list.

Plain functions over a Session; the caller owns the transaction. Every accepted configuration
becomes a new version row with a new ETag. The UPDATE/DELETE that changes the current version
carries the expected ETag in its WHERE clause, so of two writers holding the same ETag exactly
one matches a row and the other gets PreconditionFailed, on every database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from openfront.control import fleet, ids
from openfront.control.compat import api_document, checked_config, model_document
from openfront.control.errors import ApiError
from openfront.control.models import (
    AccountResource,
    Alias,
    Distribution,
    DistributionVersion,
    Invalidation,
    ResourceUse,
)
from openfront.control.resources import (
    KEY_GROUP,
    Account,
    Resource,
    active_key_groups,
    has_key_groups,
)
from openfront.control.settings import ApiSettings

DEPLOYED = "Deployed"
IN_PROGRESS = "InProgress"
MAX_CALLER_REFERENCE = 255


@dataclass(frozen=True, slots=True)
class DistributionView:
    id: str
    arn: str
    status: str
    last_modified: datetime
    domain_name: str
    etag: str
    enabled: bool
    config: dict[str, Any]  # the API document (CloudFront's DistributionConfig)
    in_progress_invalidations: int
    key_groups: list[dict[str, Any]] = field(default_factory=list)  # ActiveTrustedKeyGroups


@dataclass(frozen=True, slots=True)
class Page:
    items: list[DistributionView]
    marker: str
    max_items: int
    next_marker: str | None


def _no_such(dist_id: str) -> ApiError:
    return ApiError("NoSuchDistribution", f"The specified distribution does not exist: {dist_id}")


def _check_if_match(row: Distribution, if_match: str | None) -> None:
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


def _stale(_: str) -> ApiError:
    return ApiError("PreconditionFailed", "The distribution changed while this request ran.")


@dataclass(frozen=True, slots=True)
class Validated:
    api_config: dict[str, Any]
    config: dict[str, Any]  # what edges load, with the account resources it uses
    used: frozenset[str]  # the resource ids it references
    enabled: bool
    aliases: list[str]


def load_account(session: Session) -> Account:
    rows = session.scalars(select(AccountResource)).all()
    return Account.of(Resource(r.id, r.kind, dict(r.config)) for r in rows)


def _validated(session: Session, doc: dict[str, Any], account: Account | None = None) -> Validated:
    model, resolved = checked_config(doc, load_account(session) if account is None else account)
    ref = model.caller_reference or ""
    if not ref or len(ref) > MAX_CALLER_REFERENCE:
        msg = f"CallerReference must be 1 to {MAX_CALLER_REFERENCE} characters"
        raise ApiError("InvalidArgument", msg)
    aliases = sorted({a.lower() for a in model.aliases})
    return Validated(
        api_document(doc, model),
        resolved.edge_config(model_document(model)),
        resolved.used,
        model.enabled,
        aliases,
    )


def _key_groups(session: Session, config: dict[str, Any]) -> list[dict[str, Any]]:
    if not has_key_groups(config):
        return []
    groups = session.scalars(select(AccountResource).where(AccountResource.kind == KEY_GROUP))
    account = Account.of(Resource(r.id, r.kind, dict(r.config)) for r in groups)
    return active_key_groups(config, account)


def _in_progress(session: Session, dist_id: str) -> int:
    count = session.scalar(
        select(func.count())
        .select_from(Invalidation)
        .where(Invalidation.distribution_id == dist_id, Invalidation.status == IN_PROGRESS)
    )
    return int(count or 0)


def _view(
    session: Session, row: Distribution, config: dict[str, Any], busy: int | None = None
) -> DistributionView:
    return DistributionView(
        id=row.id,
        arn=row.arn,
        status=row.status,
        last_modified=row.last_modified_at,
        domain_name=row.domain_name,
        etag=row.etag,
        enabled=row.enabled,
        config=config,
        in_progress_invalidations=_in_progress(session, row.id) if busy is None else busy,
        key_groups=_key_groups(session, config) if busy is None else [],
    )


def _current_config(session: Session, row: Distribution) -> dict[str, Any]:
    config = session.scalar(
        select(DistributionVersion.api_config).where(
            DistributionVersion.distribution_id == row.id,
            DistributionVersion.version == row.version,
        )
    )
    assert isinstance(config, dict), "a distribution always has its current version"
    return config


def _set_aliases(session: Session, dist_id: str, aliases: list[str]) -> None:
    if aliases:
        taken = session.execute(
            select(Alias.alias, Alias.distribution_id).where(
                Alias.alias.in_(aliases), Alias.distribution_id != dist_id
            )
        ).first()
        if taken is not None:
            msg = f"The CNAME {taken[0]!r} is already associated with distribution {taken[1]}."
            raise ApiError("CNAMEAlreadyExists", msg)
    session.execute(delete(Alias).where(Alias.distribution_id == dist_id))
    session.add_all(Alias(alias=a, distribution_id=dist_id) for a in aliases)


def _add_version(
    session: Session,
    dist_id: str,
    version: int,
    etag: str,
    now: datetime,
    api_config: dict[str, Any] | None,
    config: dict[str, Any] | None,
    used: frozenset[str] = frozenset(),
) -> None:
    fleet.lock_changes(session)
    session.execute(delete(ResourceUse).where(ResourceUse.distribution_id == dist_id))
    session.add_all(ResourceUse(distribution_id=dist_id, resource_id=r) for r in sorted(used))
    session.add(
        DistributionVersion(
            distribution_id=dist_id,
            version=version,
            etag=etag,
            deleted=api_config is None,
            config=config,
            api_config=api_config,
            created_at=now,
        )
    )


def create_distribution(
    session: Session, doc: dict[str, Any], settings: ApiSettings, now: datetime
) -> tuple[DistributionView, bool]:
    """The new distribution and True, or the one created earlier by the same request and False."""
    # First: the account resources read below stay as read until this commits (see account.py).
    fleet.lock_changes(session)
    checked = _validated(session, doc)
    api_config, aliases = checked.api_config, checked.aliases
    ref = api_config["CallerReference"]
    existing = session.scalar(select(Distribution).where(Distribution.caller_reference == ref))
    if existing is not None:
        if _current_config(session, existing) == api_config:
            return _view(session, existing, api_config), False
        msg = "The caller reference you attempted to create the distribution with is "
        msg += f"associated with another distribution: {existing.id}"
        raise ApiError("DistributionAlreadyExists", msg)
    count = session.scalar(select(func.count()).select_from(Distribution)) or 0
    if count >= settings.max_distributions:
        msg = "Processing your request would cause you to exceed the maximum number of "
        msg += f"distributions allowed ({settings.max_distributions})."
        raise ApiError("TooManyDistributions", msg)
    dist_id, etag = ids.distribution_id(), ids.etag()
    row = Distribution(
        id=dist_id,
        caller_reference=ref,
        arn=f"arn:aws:cloudfront::{settings.account_id}:distribution/{dist_id}",
        domain_name=f"{dist_id.lower()}.{settings.domain_suffix}",
        status=IN_PROGRESS if fleet.must_wait(session, settings, now) else DEPLOYED,
        enabled=checked.enabled,
        version=1,
        etag=etag,
        created_at=now,
        last_modified_at=now,
        tags={},
    )
    session.add(row)
    session.flush()
    _set_aliases(session, dist_id, aliases)
    _add_version(session, dist_id, 1, etag, now, api_config, checked.config, checked.used)
    return _view(session, row, api_config), True


def get_distribution(session: Session, dist_id: str) -> DistributionView:
    row = session.get(Distribution, dist_id)
    if row is None:
        raise _no_such(dist_id)
    return _view(session, row, _current_config(session, row))


def update_distribution(
    session: Session,
    dist_id: str,
    doc: dict[str, Any],
    if_match: str | None,
    settings: ApiSettings,
    now: datetime,
) -> DistributionView:
    fleet.lock_changes(session)  # before any read: see create_distribution
    row = session.get(Distribution, dist_id)
    if row is None:
        raise _no_such(dist_id)
    _check_if_match(row, if_match)
    checked = _validated(session, doc)
    api_config = checked.api_config
    if api_config["CallerReference"] != row.caller_reference:
        raise ApiError("IllegalUpdate", "CallerReference cannot be changed by an update.")
    etag, version = ids.etag(), row.version + 1
    swapped = session.execute(
        update(Distribution)
        .where(Distribution.id == dist_id, Distribution.etag == if_match)
        .values(
            etag=etag,
            version=version,
            enabled=checked.enabled,
            status=IN_PROGRESS if fleet.must_wait(session, settings, now) else DEPLOYED,
            last_modified_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if _rowcount(swapped) != 1:
        raise _stale(dist_id)
    session.expire(row)
    _set_aliases(session, dist_id, checked.aliases)
    _add_version(session, dist_id, version, etag, now, api_config, checked.config, checked.used)
    return _view(session, row, api_config)


def redeploy(
    session: Session, dist_id: str, account: Account, settings: ApiSettings, now: datetime
) -> None:
    """A new version of the distribution carrying the account's current resources.

    An account resource changed under it: its document is checked again (a change that
    breaks a distribution using it is refused) and edges get the new version as usual.
    """
    row = session.get(Distribution, dist_id)
    if row is None:
        return
    checked = _validated(session, _current_config(session, row), account)
    etag, version = ids.etag(), row.version + 1
    swapped = session.execute(
        update(Distribution)
        .where(Distribution.id == dist_id, Distribution.etag == row.etag)
        .values(
            etag=etag,
            version=version,
            status=IN_PROGRESS if fleet.must_wait(session, settings, now) else DEPLOYED,
            last_modified_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if _rowcount(swapped) != 1:
        raise _stale(dist_id)
    session.expire(row)
    _add_version(
        session, dist_id, version, etag, now, checked.api_config, checked.config, checked.used
    )


def delete_distribution(
    session: Session, dist_id: str, if_match: str | None, now: datetime
) -> None:
    row = session.get(Distribution, dist_id)
    if row is None:
        raise _no_such(dist_id)
    _check_if_match(row, if_match)
    if row.enabled:
        msg = "The distribution you are trying to delete has not been disabled."
        raise ApiError("DistributionNotDisabled", msg)
    version = row.version + 1
    session.execute(delete(Alias).where(Alias.distribution_id == dist_id))
    session.execute(delete(ResourceUse).where(ResourceUse.distribution_id == dist_id))
    session.execute(delete(Invalidation).where(Invalidation.distribution_id == dist_id))
    gone = session.execute(
        delete(Distribution)
        .where(Distribution.id == dist_id, Distribution.etag == if_match)
        .where(Distribution.enabled.is_(False))
        .execution_options(synchronize_session=False)
    )
    if _rowcount(gone) != 1:
        raise _stale(dist_id)
    session.expunge(row)
    _add_version(session, dist_id, version, ids.etag(), now, None, None)


def list_distributions(session: Session, marker: str, max_items: int) -> Page:
    query = (
        select(Distribution, DistributionVersion.api_config)
        .join(
            DistributionVersion,
            (DistributionVersion.distribution_id == Distribution.id)
            & (DistributionVersion.version == Distribution.version),
        )
        .order_by(Distribution.id)
        .limit(max_items + 1)
    )
    if marker:
        query = query.where(Distribution.id > marker)
    rows = session.execute(query).all()
    ids = [row.id for row, _ in rows[:max_items]]
    counts = session.execute(
        select(Invalidation.distribution_id, func.count())
        .where(Invalidation.distribution_id.in_(ids), Invalidation.status == IN_PROGRESS)
        .group_by(Invalidation.distribution_id)
    )
    busy = {dist_id: int(count) for dist_id, count in counts}
    views = [_view(session, row, config, busy.get(row.id, 0)) for row, config in rows[:max_items]]
    truncated = len(rows) > max_items
    return Page(views, marker, max_items, views[-1].id if truncated and views else None)


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def set_tags(session: Session, dist_id: str, tags: dict[str, str]) -> None:
    row = session.get(Distribution, dist_id)
    if row is None:
        raise _no_such(dist_id)
    row.tags = dict(tags)


def get_tags(session: Session, dist_id: str) -> dict[str, str]:
    row = session.get(Distribution, dist_id)
    if row is None:
        raise _no_such(dist_id)
    return dict(row.tags)
