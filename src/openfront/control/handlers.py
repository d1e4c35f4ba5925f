"""The implemented CloudFront operations: botocore parameters in, botocore output dict out.

Each runs in a worker thread (the database drivers block). Writes go through ``Call.write``,
which adds the audit record to the same transaction as the change.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openfront.control import account, audit, distributions, invalidations
from openfront.control.account import ResourceView
from openfront.control.audit import AuditEntry
from openfront.control.db import Database
from openfront.control.distributions import DistributionView
from openfront.control.errors import ApiError
from openfront.control.invalidations import InvalidationView
from openfront.control.resources import KINDS, POLICY_KINDS
from openfront.control.settings import ApiSettings

DEFAULT_MAX_ITEMS = 100
MAX_MAX_ITEMS = 1000
MAX_TAGS = 50
_ARN = re.compile(r"^arn:aws:cloudfront::[0-9]{12}:distribution/([A-Z0-9]{1,16})$")
_TAG_KEY = re.compile(r"^[\w .:/=+@-]{1,128}$")
_TAG_VALUE = re.compile(r"^[\w .:/=+@-]{0,256}$")


@dataclass(slots=True)
class Call:
    db: Database
    settings: ApiSettings
    now: datetime
    entry: AuditEntry
    base_url: str
    success_status: int
    audited: bool = False

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self.db.write() as session:
            yield session
            audit.record(session, self.entry, "Success", self.success_status)
            self.audited = True


Handler = Callable[[Call, dict[str, Any]], dict[str, Any]]
T = TypeVar("T")


# --- shapes of the answers ----------------------------------------------------------------------


def _distribution(view: DistributionView) -> dict[str, Any]:
    return {
        "Id": view.id,
        "ARN": view.arn,
        "Status": view.status,
        "LastModifiedTime": view.last_modified,
        "InProgressInvalidationBatches": view.in_progress_invalidations,
        "DomainName": view.domain_name,
        "ActiveTrustedSigners": {"Enabled": False, "Quantity": 0},
        "ActiveTrustedKeyGroups": {
            "Enabled": bool(view.key_groups),
            "Quantity": len(view.key_groups),
            "Items": view.key_groups,
        },
        "DistributionConfig": view.config,
    }


def _summary(view: DistributionView) -> dict[str, Any]:
    # conform() keeps the DistributionSummary members of the config and drops the rest.
    return {
        **view.config,
        "Id": view.id,
        "ARN": view.arn,
        "ETag": view.etag,
        "Status": view.status,
        "LastModifiedTime": view.last_modified,
        "DomainName": view.domain_name,
    }


def _invalidation(view: InvalidationView) -> dict[str, Any]:
    return {
        "Id": view.id,
        "Status": view.status,
        "CreateTime": view.create_time,
        "InvalidationBatch": {
            "Paths": {"Quantity": len(view.paths), "Items": view.paths},
            "CallerReference": view.caller_reference,
        },
    }


def _created(call: Call, view: DistributionView) -> dict[str, Any]:
    return {
        "Distribution": _distribution(view),
        "ETag": view.etag,
        "Location": f"{call.base_url}/2020-05-31/distribution/{view.id}",
    }


def _max_items(params: dict[str, Any]) -> int:
    raw = params.get("MaxItems")
    if raw is None or raw == "":
        return DEFAULT_MAX_ITEMS
    if not str(raw).isdigit() or not 1 <= int(raw) <= MAX_MAX_ITEMS:
        raise ApiError("InvalidArgument", f"MaxItems must be an integer from 1 to {MAX_MAX_ITEMS}")
    return int(raw)


# --- distributions ------------------------------------------------------------------------------


def _once_more_on_conflict(write: Callable[[], T]) -> T:
    """Run ``write`` again when a concurrent transaction took a unique key it checked was free.

    The second run sees that transaction's row: the same CallerReference becomes the
    idempotent answer or DistributionAlreadyExists, a CNAME becomes CNAMEAlreadyExists.
    """
    try:
        return write()
    except IntegrityError:
        return write()


def create_distribution(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    return create_distribution_with_tags(
        call, {"DistributionConfigWithTags": {"DistributionConfig": params["DistributionConfig"]}}
    )


def create_distribution_with_tags(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    wrapped = params["DistributionConfigWithTags"]
    tags = _tags(wrapped.get("Tags"))

    def write() -> DistributionView:
        with call.write() as session:
            view, created = distributions.create_distribution(
                session, wrapped["DistributionConfig"], call.settings, call.now
            )
            if created and tags:
                distributions.set_tags(session, view.id, tags)
            call.entry.resource = view.id
        return view

    return _created(call, _once_more_on_conflict(write))


def get_distribution(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    with call.db.read() as session:
        view = distributions.get_distribution(session, params["Id"])
    return {"Distribution": _distribution(view), "ETag": view.etag}


def get_distribution_config(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    with call.db.read() as session:
        view = distributions.get_distribution(session, params["Id"])
    return {"DistributionConfig": view.config, "ETag": view.etag}


def update_distribution(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    call.entry.resource = params["Id"]

    def write() -> DistributionView:
        with call.write() as session:
            return distributions.update_distribution(
                session,
                params["Id"],
                params["DistributionConfig"],
                params.get("IfMatch"),
                call.settings,
                call.now,
            )

    view = _once_more_on_conflict(write)
    return {"Distribution": _distribution(view), "ETag": view.etag}


def delete_distribution(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    call.entry.resource = params["Id"]
    with call.write() as session:
        distributions.delete_distribution(session, params["Id"], params.get("IfMatch"), call.now)
    return {}


def list_distributions(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    max_items = _max_items(params)
    with call.db.read() as session:
        page = distributions.list_distributions(session, params.get("Marker", ""), max_items)
    listing: dict[str, Any] = {
        "Marker": page.marker,
        "MaxItems": page.max_items,
        "IsTruncated": page.next_marker is not None,
        "Quantity": len(page.items),
        "Items": [_summary(v) for v in page.items],
    }
    if page.next_marker is not None:
        listing["NextMarker"] = page.next_marker
    return {"DistributionList": listing}


# --- invalidations ------------------------------------------------------------------------------


def create_invalidation(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    dist_id = params["DistributionId"]
    call.entry.resource = dist_id
    with call.write() as session:
        view, _ = invalidations.create_invalidation(
            session, dist_id, params["InvalidationBatch"], call.settings, call.now
        )
        call.entry.resource = f"{dist_id}/{view.id}"
    return {
        "Invalidation": _invalidation(view),
        "Location": f"{call.base_url}/2020-05-31/distribution/{dist_id}/invalidation/{view.id}",
    }


def get_invalidation(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    with call.db.read() as session:
        view = invalidations.get_invalidation(session, params["DistributionId"], params["Id"])
    return {"Invalidation": _invalidation(view)}


def list_invalidations(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    max_items = _max_items(params)
    with call.db.read() as session:
        page = invalidations.list_invalidations(
            session, params["DistributionId"], params.get("Marker", ""), max_items
        )
    listing: dict[str, Any] = {
        "Marker": page.marker,
        "MaxItems": page.max_items,
        "IsTruncated": page.next_marker is not None,
        "Quantity": len(page.items),
        "Items": [
            {"Id": v.id, "CreateTime": v.create_time, "Status": v.status} for v in page.items
        ],
    }
    if page.next_marker is not None:
        listing["NextMarker"] = page.next_marker
    return {"InvalidationList": listing}


# --- tags ---------------------------------------------------------------------------------------


def _tags(tags: dict[str, Any] | None) -> dict[str, str]:
    items = list((tags or {}).get("Items") or ())
    if len(items) > MAX_TAGS:
        raise ApiError("InvalidTagging", f"At most {MAX_TAGS} tags per resource.")
    out: dict[str, str] = {}
    for tag in items:
        key, value = tag.get("Key", ""), tag.get("Value", "")
        if not _TAG_KEY.match(key) or not _TAG_VALUE.match(value):
            raise ApiError("InvalidTagging", f"Tag {key[:128]!r} has a key or value not allowed.")
        out[key] = value
    return out


def _resource(params: dict[str, Any]) -> str:
    found = _ARN.match(params.get("Resource", ""))
    if found is None:
        raise ApiError("InvalidArgument", "Resource must be a distribution ARN.")
    return found.group(1)


def list_tags_for_resource(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    with call.db.read() as session:
        tags = distributions.get_tags(session, _resource(params))
    items = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
    return {"Tags": {"Items": items}}


def tag_resource(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    dist_id = _resource(params)
    call.entry.resource = dist_id
    new = _tags(params.get("Tags"))
    with call.write() as session:
        merged = {**distributions.get_tags(session, dist_id), **new}
        if len(merged) > MAX_TAGS:
            raise ApiError("InvalidTagging", f"At most {MAX_TAGS} tags per resource.")
        distributions.set_tags(session, dist_id, merged)
    return {}


def untag_resource(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    dist_id = _resource(params)
    call.entry.resource = dist_id
    drop = set((params.get("TagKeys") or {}).get("Items") or ())
    with call.write() as session:
        tags = distributions.get_tags(session, dist_id)
        distributions.set_tags(session, dist_id, {k: v for k, v in tags.items() if k not in drop})
    return {}


# --- account-level resources ---------------------------------------------------------------------


def _shown(view: ResourceView) -> dict[str, Any]:
    """The resource as Get/Create/Update show it (CachePolicy, PublicKey, KeyGroup, ...)."""
    out: dict[str, Any] = {"Id": view.id, f"{view.kind}Config": view.api_config()}
    if view.kind == "PublicKey":
        out["CreatedTime"] = view.created
    elif view.kind != "OriginAccessControl":
        out["LastModifiedTime"] = view.last_modified
    return out


def _resource_summary(view: ResourceView) -> dict[str, Any]:
    if view.kind in POLICY_KINDS:
        return {"Type": "managed" if view.managed else "custom", view.kind: _shown(view)}
    if view.kind == "KeyGroup":
        return {"KeyGroup": _shown(view)}
    if view.kind == "PublicKey":
        return {
            "Id": view.id,
            "CreatedTime": view.created,
            **{k: view.config.get(k) for k in ("Name", "EncodedKey", "Comment")},
        }
    return {"Id": view.id, "Description": "", **view.config}  # OriginAccessControlSummary


def _resource_handlers(kind: str) -> dict[str, Handler]:
    config_key = f"{kind}Config"
    path = KINDS[kind].path
    plural = kind.removesuffix("y") + "ies" if kind.endswith("Policy") else kind + "s"

    def create(call: Call, params: dict[str, Any]) -> dict[str, Any]:
        def write() -> ResourceView:
            with call.write() as session:
                view, _ = account.create(session, kind, params[config_key], call.now)
                call.entry.resource = view.id
            return view

        view = _once_more_on_conflict(write)
        return {
            kind: _shown(view),
            "ETag": view.etag,
            "Location": f"{call.base_url}/2020-05-31/{path}/{view.id}",
        }

    def get(call: Call, params: dict[str, Any]) -> dict[str, Any]:
        with call.db.read() as session:
            view = account.get(session, kind, params["Id"])
        return {kind: _shown(view), "ETag": view.etag}

    def get_config(call: Call, params: dict[str, Any]) -> dict[str, Any]:
        with call.db.read() as session:
            view = account.get(session, kind, params["Id"])
        return {config_key: view.api_config(), "ETag": view.etag}

    def update(call: Call, params: dict[str, Any]) -> dict[str, Any]:
        call.entry.resource = params["Id"]

        def write() -> ResourceView:
            with call.write() as session:
                return account.update_resource(
                    session,
                    kind,
                    params["Id"],
                    params[config_key],
                    params.get("IfMatch"),
                    call.settings,
                    call.now,
                )

        view = _once_more_on_conflict(write)
        return {kind: _shown(view), "ETag": view.etag}

    def delete(call: Call, params: dict[str, Any]) -> dict[str, Any]:
        call.entry.resource = params["Id"]
        with call.write() as session:
            account.delete_resource(session, kind, params["Id"], params.get("IfMatch"))
        return {}

    def list_all(call: Call, params: dict[str, Any]) -> dict[str, Any]:
        max_items = _max_items(params)
        marker = params.get("Marker") or ""
        with call.db.read() as session:
            page = account.list_resources(session, kind, params.get("Type"), marker, max_items)
        listing: dict[str, Any] = {
            "MaxItems": page.max_items,
            "Quantity": len(page.items),
            "Items": [_resource_summary(v) for v in page.items],
        }
        if kind == "OriginAccessControl":
            listing.update(Marker=page.marker, IsTruncated=page.next_marker is not None)
        if page.next_marker is not None:
            listing["NextMarker"] = page.next_marker
        return {f"{kind}List": listing}

    return {
        f"Create{kind}": create,
        f"Get{kind}": get,
        f"Get{kind}Config": get_config,
        f"Update{kind}": update,
        f"Delete{kind}": delete,
        f"List{plural}": list_all,
    }


HANDLERS: dict[str, Handler] = {
    **{name: h for kind in KINDS for name, h in _resource_handlers(kind).items()},
    "CreateDistribution": create_distribution,
    "CreateDistributionWithTags": create_distribution_with_tags,
    "GetDistribution": get_distribution,
    "GetDistributionConfig": get_distribution_config,
    "UpdateDistribution": update_distribution,
    "DeleteDistribution": delete_distribution,
    "ListDistributions": list_distributions,
    "CreateInvalidation": create_invalidation,
    "GetInvalidation": get_invalidation,
    "ListInvalidations": list_invalidations,
    "ListTagsForResource": list_tags_for_resource,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
}
