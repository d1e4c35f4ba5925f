"""Account-level resources as plain data: their kinds, validation, and what a distribution uses.

Custom cache / origin request / response headers policies, public keys, key groups and origin
access controls are validated by the same models an edge loads (``openfront.config``), so
limits and messages match. A distribution's version carries the resources it references (see
``Resolved.edge_config``), which is how edges, which know nothing of the account, receive them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from openfront.config import DistributionConfig
from openfront.config.keys import KeyGroupConfig, PublicKeyConfig
from openfront.config.load import config_error
from openfront.config.managed import (
    MANAGED_CACHE_BY_REF,
    MANAGED_CACHE_POLICIES,
    MANAGED_ORIGIN_REQUEST_BY_REF,
    MANAGED_ORIGIN_REQUEST_POLICIES,
    MANAGED_RESPONSE_HEADERS_BY_REF,
    MANAGED_RESPONSE_HEADERS_POLICIES,
    reference_names,
)
from openfront.config.oac import OriginAccessControlConfig
from openfront.config.policies import CachePolicyConfig, OriginRequestPolicyConfig
from openfront.config.response_headers import ResponseHeadersPolicyConfig
from openfront.control.awsmodel import service_model
from openfront.control.errors import ApiError

CACHE, ORIGIN_REQUEST, RESPONSE_HEADERS = (
    "CachePolicy",
    "OriginRequestPolicy",
    "ResponseHeadersPolicy",
)
PUBLIC_KEY, KEY_GROUP, OAC = "PublicKey", "KeyGroup", "OriginAccessControl"


@dataclass(frozen=True, slots=True)
class Kind:
    name: str  # CloudFront's shape name: CachePolicy, PublicKey, ...
    model: type[BaseModel]
    edge_key: str  # the OpenFrontConfig list that holds them
    path: str  # the REST path segment
    quota: int
    no_such: str
    exists: str
    in_use: str
    too_many: str
    id_style: str  # "uuid" or a one-letter prefix of a CloudFront-style id
    managed: Mapping[str, Any] = field(default_factory=dict)  # reference name -> config

    @property
    def config_key(self) -> str:
        return f"{self.name}Config"


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            CACHE,
            CachePolicyConfig,
            "CachePolicies",
            "cache-policy",
            20,
            "NoSuchCachePolicy",
            "CachePolicyAlreadyExists",
            "CachePolicyInUse",
            "TooManyCachePolicies",
            "uuid",
            MANAGED_CACHE_BY_REF,
        ),
        Kind(
            ORIGIN_REQUEST,
            OriginRequestPolicyConfig,
            "OriginRequestPolicies",
            "origin-request-policy",
            20,
            "NoSuchOriginRequestPolicy",
            "OriginRequestPolicyAlreadyExists",
            "OriginRequestPolicyInUse",
            "TooManyOriginRequestPolicies",
            "uuid",
            MANAGED_ORIGIN_REQUEST_BY_REF,
        ),
        Kind(
            RESPONSE_HEADERS,
            ResponseHeadersPolicyConfig,
            "ResponseHeadersPolicies",
            "response-headers-policy",
            20,
            "NoSuchResponseHeadersPolicy",
            "ResponseHeadersPolicyAlreadyExists",
            "ResponseHeadersPolicyInUse",
            "TooManyResponseHeadersPolicies",
            "uuid",
            MANAGED_RESPONSE_HEADERS_BY_REF,
        ),
        Kind(
            PUBLIC_KEY,
            PublicKeyConfig,
            "PublicKeys",
            "public-key",
            10,
            "NoSuchPublicKey",
            "PublicKeyAlreadyExists",
            "PublicKeyInUse",
            "TooManyPublicKeys",
            "K",
        ),
        Kind(
            KEY_GROUP,
            KeyGroupConfig,
            "KeyGroups",
            "key-group",
            10,
            "NoSuchResource",
            "KeyGroupAlreadyExists",
            "ResourceInUse",
            "TooManyKeyGroups",
            "uuid",
        ),
        Kind(
            OAC,
            OriginAccessControlConfig,
            "OriginAccessControls",
            "origin-access-control",
            100,
            "NoSuchOriginAccessControl",
            "OriginAccessControlAlreadyExists",
            "OriginAccessControlInUse",
            "TooManyOriginAccessControls",
            "E",
        ),
    )
}
POLICY_KINDS = (CACHE, ORIGIN_REQUEST, RESPONSE_HEADERS)
MANAGED_POLICIES: dict[str, list[tuple[str, dict[str, Any]]]] = {
    CACHE: [
        (p.id or "", p.cache_policy_config.model_dump(mode="json", exclude_none=True))
        for p in MANAGED_CACHE_POLICIES
    ],
    ORIGIN_REQUEST: [
        (p.id or "", p.origin_request_policy_config.model_dump(mode="json", exclude_none=True))
        for p in MANAGED_ORIGIN_REQUEST_POLICIES
    ],
    RESPONSE_HEADERS: [
        (p.id or "", p.response_headers_policy_config.model_dump(mode="json", exclude_none=True))
        for p in MANAGED_RESPONSE_HEADERS_POLICIES
    ],
}
# What a behavior's unknown reference is answered with (CloudFront's codes).
MISSING_REFERENCE = {
    CACHE: "NoSuchCachePolicy",
    ORIGIN_REQUEST: "NoSuchOriginRequestPolicy",
    RESPONSE_HEADERS: "NoSuchResponseHeadersPolicy",
    KEY_GROUP: "TrustedKeyGroupDoesNotExist",
    OAC: "NoSuchOriginAccessControl",
}
# A list too long in a policy has its own error code; the model says "at most N <what>".
_TOO_MANY = {
    (CACHE, "HeadersConfig"): "TooManyHeadersInCachePolicy",
    (CACHE, "CookiesConfig"): "TooManyCookiesInCachePolicy",
    (CACHE, "QueryStringsConfig"): "TooManyQueryStringsInCachePolicy",
    (ORIGIN_REQUEST, "HeadersConfig"): "TooManyHeadersInOriginRequestPolicy",
    (ORIGIN_REQUEST, "CookiesConfig"): "TooManyCookiesInOriginRequestPolicy",
    (ORIGIN_REQUEST, "QueryStringsConfig"): "TooManyQueryStringsInOriginRequestPolicy",
    (RESPONSE_HEADERS, "CustomHeadersConfig"): "TooManyCustomHeadersInResponseHeadersPolicy",
    (RESPONSE_HEADERS, "RemoveHeadersConfig"): "TooManyRemoveHeadersInResponseHeadersPolicy",
}


# --- one resource's configuration ---------------------------------------------------------------


def validate(kind: str, doc: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The model's dump of an API config document and the CallerReference it carried.

    The dump (CloudFront key names) is both what the API shows and what edges load.
    """
    spec = KINDS[kind]
    data = dict(doc)
    caller_reference = None
    if kind == PUBLIC_KEY:
        caller_reference = str(data.pop("CallerReference", "") or "")
        if not 1 <= len(caller_reference) <= 128:
            raise ApiError("InvalidArgument", "CallerReference must be 1 to 128 characters")
    try:
        model = spec.model.model_validate(data)
    except ValidationError as exc:
        raise _api_error(kind, exc) from None
    dumped: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(model, CachePolicyConfig):
        # CloudFront shows the TTLs it applies, defaulted ones included.
        dumped["MinTTL"], dumped["DefaultTTL"], dumped["MaxTTL"] = model.ttls()
    return dumped, caller_reference


def _api_error(kind: str, exc: ValidationError) -> ApiError:
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        message = err["msg"].removeprefix("Value error, ")
        for part in loc:
            code = _TOO_MANY.get((kind, part))
            if code is not None and "at most" in message:
                return ApiError(code, f"{'.'.join(loc)}: {message}")
    message = str(config_error(exc, f"{kind}Config")).replace("\n", "; ")
    errors = service_model()["shapes"]
    for word in message.replace(":", " ").split():
        if word[:1].isupper() and "error" in errors.get(word, {}):
            return ApiError(word, message)
    return ApiError("InvalidArgument", message)


def name_of(config: Mapping[str, Any]) -> str:
    return str(config["Name"])


def managed_name_taken(kind: str, name: str) -> bool:
    """Whether a custom policy named ``name`` would shadow a managed policy's reference name."""
    return name in KINDS[kind].managed


def key_ids(config: Mapping[str, Any]) -> list[str]:
    """The public key ids a key group's config lists."""
    items = config.get("Items") or ()
    return [str(i) for i in items]


# --- the account as a distribution sees it --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Resource:
    id: str
    kind: str
    config: dict[str, Any]  # the model dump

    def edge_entry(self) -> dict[str, Any]:
        return {"Id": self.id, KINDS[self.kind].config_key: self.config}


@dataclass(frozen=True, slots=True)
class Account:
    """Every custom resource, by id; references by Name resolve as edges resolve them."""

    resources: dict[str, Resource] = field(default_factory=dict)

    @classmethod
    def of(cls, resources: Iterable[Resource]) -> Account:
        return cls({r.id: r for r in resources})

    def find(self, kind: str, ref: str) -> Resource | None:
        found = self.resources.get(ref)
        if found is not None:
            return found if found.kind == kind else None
        for r in self.resources.values():
            if r.kind == kind and ref in reference_names(None, name_of(r.config)):
                return r
        return None


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a distribution references: the ids it uses directly, and every entry edges need."""

    used: frozenset[str]
    entries: dict[str, list[dict[str, Any]]]  # OpenFrontConfig key -> entries

    def edge_config(self, distribution: dict[str, Any]) -> dict[str, Any]:
        """The version document edges load: the bare distribution when it uses nothing."""
        if not self.entries:
            return distribution
        return {"DistributionConfig": distribution, **self.entries}


def references(model: DistributionConfig) -> list[tuple[str, str]]:
    """(kind, reference) for every account resource the distribution names, in order."""
    found: list[tuple[str, str]] = []
    for b in (model.default_cache_behavior, *model.cache_behaviors):
        if b.cache_policy_id is not None:
            found.append((CACHE, b.cache_policy_id))
        if b.origin_request_policy_id is not None:
            found.append((ORIGIN_REQUEST, b.origin_request_policy_id))
        if b.response_headers_policy_id is not None:
            found.append((RESPONSE_HEADERS, b.response_headers_policy_id))
        if b.trusted_key_groups is not None:
            found.extend((KEY_GROUP, g) for g in b.trusted_key_groups.items)
    found.extend(
        (OAC, o.origin_access_control_id) for o in model.origins if o.origin_access_control_id
    )
    return found


def resolve(model: DistributionConfig, account: Account) -> Resolved:
    """The resources ``model`` uses; the ApiError CloudFront answers for one that does not exist."""
    chosen: dict[str, Resource] = {}
    used: set[str] = set()
    for kind, ref in references(model):
        if ref in KINDS[kind].managed:
            continue
        found = account.find(kind, ref)
        if found is None:
            msg = f"The {kind} {ref!r} referenced by the distribution does not exist."
            raise ApiError(MISSING_REFERENCE[kind], msg)
        used.add(found.id)
        chosen[found.id] = found
        if kind == KEY_GROUP:
            for key_id in key_ids(found.config):
                key = account.resources.get(key_id)
                if key is not None:
                    chosen[key.id] = key
    entries: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(chosen.values(), key=lambda r: (r.kind, r.id)):
        entries.setdefault(KINDS[r.kind].edge_key, []).append(r.edge_entry())
    return Resolved(frozenset(used), entries)


def _trusted_groups(api_doc: Mapping[str, Any]) -> list[str]:
    behaviors = [api_doc.get("DefaultCacheBehavior") or {}]
    behaviors.extend((api_doc.get("CacheBehaviors") or {}).get("Items") or ())
    groups: list[str] = []
    for b in behaviors:
        for group_id in (b.get("TrustedKeyGroups") or {}).get("Items") or ():
            if group_id not in groups:
                groups.append(group_id)
    return groups


def has_key_groups(api_doc: Mapping[str, Any]) -> bool:
    return bool(_trusted_groups(api_doc))


def active_key_groups(api_doc: Mapping[str, Any], account: Account) -> list[dict[str, Any]]:
    """GetDistribution's ActiveTrustedKeyGroups items: each group used and its key ids."""
    out = []
    for group_id in _trusted_groups(api_doc):
        found = account.find(KEY_GROUP, group_id)
        keys = key_ids(found.config) if found is not None else []
        out.append({"KeyGroupId": group_id, "KeyPairIds": {"Quantity": len(keys), "Items": keys}})
    return out
