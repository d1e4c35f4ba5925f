"""CloudFront's managed cache and origin request policies, read-only through the API.

They are the ones behaviors may name (``openfront.config.managed``, CloudFront's ids and
settings). Custom policies (Create/Update/Delete) arrive with the edge fleet, which has to carry
them to the edges.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from openfront.config.managed import MANAGED_CACHE_POLICIES, MANAGED_ORIGIN_REQUEST_POLICIES
from openfront.control.errors import ApiError

# CloudFront shows the time a managed policy last changed; these never change here.
MANAGED_SINCE = datetime(2020, 5, 31, tzinfo=UTC)
MAX_ITEMS = 1000


def _etag(config: dict[str, Any]) -> str:
    digest = hashlib.sha256(repr(sorted(config.items())).encode()).hexdigest().upper()
    return "E" + digest[:13]


def _managed(kind: str) -> list[tuple[str, dict[str, Any]]]:
    if kind == "CachePolicy":
        return [
            (p.id or "", p.cache_policy_config.model_dump(mode="json", exclude_none=True))
            for p in MANAGED_CACHE_POLICIES
        ]
    return [
        (p.id or "", p.origin_request_policy_config.model_dump(mode="json", exclude_none=True))
        for p in MANAGED_ORIGIN_REQUEST_POLICIES
    ]


def get_policy(kind: str, policy_id: str) -> tuple[dict[str, Any], str]:
    """``{Id, LastModifiedTime, <kind>Config}`` and its ETag, or NoSuch<kind>."""
    for pid, config in _managed(kind):
        if pid == policy_id:
            policy = {"Id": pid, "LastModifiedTime": MANAGED_SINCE, f"{kind}Config": config}
            return policy, _etag(config)
    raise ApiError(f"NoSuch{kind}", f"The {kind} {policy_id!r} does not exist.")


def list_policies(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """The ``<kind>List`` of a List call: managed policies only, ordered by id."""
    policy_type = params.get("Type")
    if policy_type not in (None, "managed", "custom"):
        raise ApiError("InvalidArgument", "Type must be managed or custom")
    raw = params.get("MaxItems") or "100"
    if not str(raw).isdigit() or not 1 <= int(raw) <= MAX_ITEMS:
        raise ApiError("InvalidArgument", f"MaxItems must be an integer from 1 to {MAX_ITEMS}")
    max_items, marker = int(raw), params.get("Marker") or ""
    found = [] if policy_type == "custom" else sorted(_managed(kind))
    after = [(pid, c) for pid, c in found if pid > marker]
    page = after[:max_items]
    items = [
        {
            "Type": "managed",
            kind: {"Id": pid, "LastModifiedTime": MANAGED_SINCE, f"{kind}Config": config},
        }
        for pid, config in page
    ]
    listing: dict[str, Any] = {"MaxItems": max_items, "Quantity": len(items), "Items": items}
    if len(after) > max_items:
        listing["NextMarker"] = page[-1][0]
    return listing
