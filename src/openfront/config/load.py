"""The root config file model and its loaders: YAML or JSON in, OpenFrontConfig or ConfigError out.

Every problem becomes one line ``SOURCE: KEY.PATH[i]: message`` using CloudFront's key names and
list indices (also when the input used ``{Quantity, Items}``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from openfront.config.distribution import DistributionConfig
from openfront.config.edge import EdgeConfig
from openfront.config.keys import KeyGroup, PublicKey, key_problems
from openfront.config.managed import (
    ALL_VIEWER_ID,
    MANAGED_CACHE_BY_REF,
    MANAGED_ORIGIN_REQUEST_BY_REF,
    MANAGED_RESPONSE_HEADERS_BY_REF,
    USE_ORIGIN_HEADERS_QS_ID,
    reference_names,
)
from openfront.config.oac import OriginAccessControl
from openfront.config.policies import (
    CachePolicy,
    CfList,
    CfModel,
    ConfigPathError,
    NonEmpty,
    OriginRequestPolicy,
    PathPart,
    format_path,
)
from openfront.config.response_headers import ResponseHeadersPolicy
from openfront.errors import ConfigError

_DIST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
Problems = list[tuple[tuple[PathPart, ...], str]]


class DistributionEntry(CfModel):
    id: str = Field(
        default="EDEFAULT",
        description="Distribution id (in logs, metrics, admin URLs); CloudFront's look like "
        "E2QWRUHAPOMQZL. Default EDEFAULT, so give one when there are several.",
    )
    distribution_config: DistributionConfig = Field(description="The distribution.")


class OpenFrontConfig(BaseModel):
    """The whole file: OpenFront's edge settings, policies, and the distributions it serves."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_alias=True, validate_by_name=False
    )

    edge: EdgeConfig = Field(default_factory=EdgeConfig, description="This edge's own settings.")
    cache_policies: tuple[CachePolicy, ...] = Field(
        default=(),
        alias="CachePolicies",
        description="Custom cache policies (CloudFront's account-level CachePolicy objects), "
        "referenced from behaviors by Id or Name.",
    )
    origin_request_policies: tuple[OriginRequestPolicy, ...] = Field(
        default=(),
        alias="OriginRequestPolicies",
        description="Custom origin request policies, referenced by Id or Name.",
    )
    response_headers_policies: tuple[ResponseHeadersPolicy, ...] = Field(
        default=(),
        alias="ResponseHeadersPolicies",
        description="Custom response headers policies, referenced from behaviors' "
        "ResponseHeadersPolicyId by Id or Name.",
    )
    public_keys: CfList[PublicKey] = Field(
        default=(),
        alias="PublicKeys",
        description="Public keys that verify signed URLs and cookies (private content).",
    )
    key_groups: CfList[KeyGroup] = Field(
        default=(),
        alias="KeyGroups",
        description="Groups of PublicKeys, referenced by behaviors' TrustedKeyGroups.",
    )
    origin_access_controls: CfList[OriginAccessControl] = Field(
        default=(),
        alias="OriginAccessControls",
        description="How the edge signs requests to S3 origins (SigV4), referenced by origins' "
        "OriginAccessControlId.",
    )
    distributions: Annotated[tuple[DistributionEntry, ...], NonEmpty] = Field(
        description="The distributions this edge serves (at least one)."
    )

    @model_validator(mode="after")
    def _check(self) -> OpenFrontConfig:
        problems = [
            *_distribution_problems(self),
            *_policy_problems(self),
            *_oac_problems(self),
            *key_problems(
                self.public_keys,
                self.key_groups,
                [e.distribution_config for e in self.distributions],
            ),
        ]
        if problems:
            raise ConfigPathError(problems)
        return self


def _distribution_problems(cfg: OpenFrontConfig) -> Problems:
    problems: Problems = []
    ids: set[str] = set()
    hosts: dict[str, str] = {}
    for i, entry in enumerate(cfg.distributions):
        if not _DIST_ID.match(entry.id):
            problems.append((("distributions", i, "Id"), "use 1-64 letters, digits, '.', '_', '-'"))
        elif entry.id in ids:
            msg = f"distribution Id {entry.id!r} is repeated (give each distribution an Id)"
            problems.append((("distributions", i, "Id"), msg))
        ids.add(entry.id)
        for j, alias in enumerate(entry.distribution_config.aliases):
            owner = hosts.setdefault(alias.lower(), entry.id)
            if owner != entry.id:
                where = ("distributions", i, "DistributionConfig", "Aliases", j)
                problems.append((where, f"CNAMEAlreadyExists: {alias!r} belongs to {owner}"))
    return problems


def _policy_problems(cfg: OpenFrontConfig) -> Problems:
    problems: Problems = []
    cache_refs = _declared(
        "CachePolicies",
        [(p.id, p.cache_policy_config.name) for p in cfg.cache_policies],
        MANAGED_CACHE_BY_REF,
        problems,
    )
    origin_refs = _declared(
        "OriginRequestPolicies",
        [(p.id, p.origin_request_policy_config.name) for p in cfg.origin_request_policies],
        MANAGED_ORIGIN_REQUEST_BY_REF,
        problems,
    )
    headers_refs = _declared(
        "ResponseHeadersPolicies",
        [(p.id, p.response_headers_policy_config.name) for p in cfg.response_headers_policies],
        MANAGED_RESPONSE_HEADERS_BY_REF,
        problems,
    )
    for i, entry in enumerate(cfg.distributions):
        dc = entry.distribution_config
        behaviors: list[tuple[tuple[PathPart, ...], Any]] = [
            (("DefaultCacheBehavior",), dc.default_cache_behavior),
            *((("CacheBehaviors", j), b) for j, b in enumerate(dc.cache_behaviors)),
        ]
        for where, b in behaviors:
            base = ("distributions", i, "DistributionConfig", *where)
            if b.cache_policy_id is not None and b.cache_policy_id not in cache_refs:
                msg = (
                    f"NoSuchCachePolicy: {b.cache_policy_id!r} is not a managed or declared policy"
                )
                problems.append(((*base, "CachePolicyId"), msg))
            ref = b.origin_request_policy_id
            if ref is not None and ref not in origin_refs:
                msg = f"NoSuchOriginRequestPolicy: {ref!r} is not a managed or declared policy"
                problems.append(((*base, "OriginRequestPolicyId"), msg))
            ref = b.response_headers_policy_id
            if ref is not None and ref not in headers_refs:
                msg = f"NoSuchResponseHeadersPolicy: {ref!r} is not a managed or declared policy"
                problems.append(((*base, "ResponseHeadersPolicyId"), msg))
    return problems


def _oac_problems(cfg: OpenFrontConfig) -> Problems:
    problems: Problems = []
    ids: set[str] = set()
    for i, oac in enumerate(cfg.origin_access_controls):
        if oac.id in ids:
            msg = f"OriginAccessControlAlreadyExists: {oac.id!r} is repeated"
            problems.append((("OriginAccessControls", i, "Id"), msg))
        ids.add(oac.id)
    for i, entry in enumerate(cfg.distributions):
        for j, origin in enumerate(entry.distribution_config.origins):
            ref = origin.origin_access_control_id
            if ref and ref not in ids:
                where = ("distributions", i, "DistributionConfig", "Origins", j)
                msg = f"NoSuchOriginAccessControl: {ref!r} is not in OriginAccessControls"
                problems.append(((*where, "OriginAccessControlId"), msg))
    return problems


def _declared(
    key: str, declared: list[tuple[str | None, str]], managed: Mapping[str, object], out: Problems
) -> set[str]:
    refs = set(managed)
    for i, (pid, name) in enumerate(declared):
        # A set: a policy whose Id is its own Name refers to itself, not to a second policy.
        for ref in dict.fromkeys(reference_names(pid, name)):
            if ref in refs:
                field = "Id" if ref == pid else "Name"
                out.append(((key, i, field), f"PolicyAlreadyExists: {ref!r} is already used"))
            refs.add(ref)
    return refs


# --- errors -------------------------------------------------------------------------------------

_FIXED_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
    "tuple_type": "expected a list",
    "model_type": "expected a mapping of keys to values",
    "model_attributes_type": "expected a mapping of keys to values",
}


def _message(err: ErrorDetails) -> str:
    kind = err["type"]
    if kind in _FIXED_MESSAGES:
        return _FIXED_MESSAGES[kind]
    msg = err["msg"].removeprefix("Value error, ")
    value = err.get("input")
    secret = "token" in err["loc"]
    shown = repr(value)
    if (
        not secret
        and isinstance(value, str | int | float | bool)
        and len(shown) <= 60
        and shown not in msg  # the message already quotes it
    ):
        msg += f" (got {shown})"
    return msg


def _problems(exc: ValidationError) -> Iterator[tuple[tuple[PathPart, ...], str]]:
    for err in exc.errors():
        loc = tuple(err["loc"])
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, ConfigPathError):
            for rel, msg in cause.problems:
                yield (*loc, *rel), msg
        else:
            yield loc, _message(err)


def config_error(exc: ValidationError, source: str) -> ConfigError:
    """One ConfigError whose lines name each problem's full key path."""
    lines = [f"{source}: {format_path(loc) or '(top level)'}: {msg}" for loc, msg in _problems(exc)]
    return ConfigError("\n".join(lines))


# --- loading ------------------------------------------------------------------------------------


def parse_config(data: object, source: str) -> OpenFrontConfig:
    """Validate already-parsed data (a mapping) into an OpenFrontConfig."""
    if data is None:
        raise ConfigError(f"{source}: the file is empty")
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the top level must be a mapping of keys to values")
    try:
        return OpenFrontConfig.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc, source) from None


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:
            continue  # unhashable: construct_mapping reports it
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice", key_node.start_mark
            )
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(text: str, source: str) -> object:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(f"{source}: {where}{exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"key {key!r} is given twice")
        out[key] = value
    return out


def _read_json(text: str, source: str) -> object:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def load_config(path: str | Path) -> OpenFrontConfig:
    """Load a ``.yaml``/``.yml``/``.json`` config file; raises ConfigError on any problem."""
    source = str(path)
    suffix = Path(path).suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise ConfigError(f"{source}: use a .yaml, .yml or .json file")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror or exc}") from None
    data = _read_json(text, source) if suffix == ".json" else _read_yaml(text, source)
    return parse_config(data, source)


def quick_config(
    origin_url: str, listen: str, edge: Mapping[str, object] | None = None
) -> OpenFrontConfig:
    """One origin, every method, origin-driven caching: ``openfront edge --origin URL``."""
    source = "--origin"
    try:
        parts = urlsplit(origin_url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{source} {origin_url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{source} {origin_url!r}: use http://HOST[:PORT][/PATH] or https://...")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(f"{source} {origin_url!r}: no query, fragment or user name allowed")
    custom: dict[str, object] = {"OriginProtocolPolicy": f"{parts.scheme}-only"}
    if port is not None:
        custom["HTTPPort" if parts.scheme == "http" else "HTTPSPort"] = port
    origin = {
        "Id": "origin",
        "DomainName": parts.hostname,
        "OriginPath": parts.path.rstrip("/"),
        "CustomOriginConfig": custom,
    }
    behavior = {
        "TargetOriginId": "origin",
        "AllowedMethods": {
            "Items": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
            "CachedMethods": ["GET", "HEAD"],
        },
        "CachePolicyId": USE_ORIGIN_HEADERS_QS_ID,
        "OriginRequestPolicyId": ALL_VIEWER_ID,
    }
    data = {
        "edge": {**(edge or {}), "listen": listen},
        "distributions": [
            {
                "Id": "EDEFAULT",
                "DistributionConfig": {
                    "Comment": f"quick mode: {origin_url}"[:128],
                    "Origins": [origin],
                    "DefaultCacheBehavior": behavior,
                },
            }
        ],
    }
    return parse_config(data, source)


def override_edge(
    cfg: OpenFrontConfig, overrides: Mapping[str, object], source: str = "command line"
) -> OpenFrontConfig:
    """``cfg`` with edge settings replaced, keys dotted (``"admin.listen"``), re-validated."""
    edge: dict[str, Any] = cfg.edge.model_dump()
    for dotted, value in overrides.items():
        *parents, last = dotted.split(".")
        node = edge
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                raise ConfigError(f"{source}: edge.{dotted}: unknown key")
            node = child
        node[last] = value
    try:
        new_edge = EdgeConfig.model_validate(edge)
    except ValidationError as exc:
        raise config_error(exc, f"{source}: edge") from None
    return cfg.model_copy(update={"edge": new_edge})
