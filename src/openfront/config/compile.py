"""Validated models in, the runtime frozen dataclasses of ``openfront.cache.policy`` out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlsplit

from openfront.cache import policy as rt
from openfront.config.distribution import (
    ORIGIN_TLS_VERSIONS,
    CacheBehavior,
    CustomErrorResponse,
    CustomOriginConfig,
    DefaultCacheBehavior,
    Origin,
    OriginGroup,
    S3OriginConfig,
)
from openfront.config.edge import S3OriginAccess
from openfront.config.keys import KeyGroup, PublicKey
from openfront.config.load import DistributionEntry, OpenFrontConfig
from openfront.config.managed import (
    CACHING_OPTIMIZED_ID,
    index_cache_policies,
    index_origin_request_policies,
    index_response_headers_policies,
)
from openfront.config.oac import parse_s3_domain
from openfront.config.policies import CachePolicyConfig, OriginRequestPolicyConfig
from openfront.config.response_headers import (
    ResponseHeadersPolicyConfig,
    compile_response_headers_policy,
)
from openfront.errors import ConfigError
from openfront.signing import load_public_key

T = TypeVar("T")
TrustedKeys = tuple[tuple[str, object], ...]


@dataclass(frozen=True, slots=True)
class PolicyCatalog:
    """Every policy a behavior may name (managed and declared), by id and by name."""

    cache: Mapping[str, CachePolicyConfig]
    origin_request: Mapping[str, OriginRequestPolicyConfig]
    key_groups: Mapping[str, TrustedKeys] = field(default_factory=dict)  # by KeyGroup Id
    response_headers: Mapping[str, ResponseHeadersPolicyConfig] = field(
        default_factory=lambda: index_response_headers_policies(())
    )
    signing: Mapping[str, rt.SigningBehavior] = field(default_factory=dict)  # by OAC Id
    s3_origins: Mapping[str, S3OriginAccess] = field(default_factory=dict)  # by domain, lower

    @classmethod
    def from_config(cls, cfg: OpenFrontConfig) -> PolicyCatalog:
        return cls(
            index_cache_policies(cfg.cache_policies),
            index_origin_request_policies(cfg.origin_request_policies),
            compile_key_groups(cfg.public_keys, cfg.key_groups),
            index_response_headers_policies(cfg.response_headers_policies),
            {
                a.id: a.origin_access_control_config.signing_behavior
                for a in cfg.origin_access_controls
            },
            {a.domain_name.lower(): a for a in cfg.edge.s3_origins},
        )

    @classmethod
    def managed_only(cls) -> PolicyCatalog:
        return cls(index_cache_policies(()), index_origin_request_policies(()))


def compile_key_groups(
    public_keys: tuple[PublicKey, ...], key_groups: tuple[KeyGroup, ...]
) -> dict[str, TrustedKeys]:
    """Each key group's (Key-Pair-Id, loaded key) pairs; every PEM is parsed once."""
    loaded = {k.id: load_public_key(k.public_key_config.encoded_key) for k in public_keys}
    return {
        g.id: tuple((key_id, loaded[key_id]) for key_id in g.key_group_config.items)
        for g in key_groups
    }


def _trusted_keys(b: CacheBehavior | DefaultCacheBehavior, policies: PolicyCatalog) -> TrustedKeys:
    trusted = b.trusted_key_groups
    if trusted is None or not trusted.enabled:
        return ()
    keys: dict[str, object] = {}
    for group_id in trusted.items:
        group = policies.key_groups.get(group_id)
        if group is None:
            raise ConfigError(f"TrustedKeyGroups: {group_id!r} is not a declared key group")
        for key_id, key in group:
            keys.setdefault(key_id, key)
    return tuple(keys.items())


def _lower_names(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({n.lower() for n in names}))


def compile_cache_policy(cfg: CachePolicyConfig) -> tuple[rt.TtlPolicy, rt.KeyPolicy]:
    params = cfg.parameters_in_cache_key_and_forwarded_to_origin
    lo, mid, hi = cfg.ttls()
    key = rt.KeyPolicy(
        query_strings=params.query_strings_config.query_string_behavior,
        query_string_names=frozenset(params.query_strings_config.query_strings),
        headers=params.headers_config.header_behavior,
        header_names=_lower_names(params.headers_config.headers),
        cookies=params.cookies_config.cookie_behavior,
        cookie_names=frozenset(params.cookies_config.cookies),
        accept_encoding_gzip=params.enable_accept_encoding_gzip,
        accept_encoding_brotli=params.enable_accept_encoding_brotli,
    )
    return rt.TtlPolicy(min_ttl=lo, default_ttl=mid, max_ttl=hi), key


def compile_origin_request_policy(cfg: OriginRequestPolicyConfig) -> rt.OriginRequestPolicy:
    return rt.OriginRequestPolicy(
        headers=cfg.headers_config.header_behavior,
        header_names=frozenset(_lower_names(cfg.headers_config.headers)),
        cookies=cfg.cookies_config.cookie_behavior,
        cookie_names=frozenset(cfg.cookies_config.cookies),
        query_strings=cfg.query_strings_config.query_string_behavior,
        query_string_names=frozenset(cfg.query_strings_config.query_strings),
    )


def _lookup(table: Mapping[str, T], ref: str, what: str) -> T:
    try:
        return table[ref]
    except KeyError:
        raise ConfigError(f"{what} {ref!r} is not a managed or declared policy") from None


def compile_behavior(
    b: CacheBehavior | DefaultCacheBehavior, policies: PolicyCatalog
) -> rt.Behavior:
    cache_cfg = b.cache_policy_config or _lookup(
        policies.cache, b.cache_policy_id or CACHING_OPTIMIZED_ID, "CachePolicyId"
    )
    ttl, key = compile_cache_policy(cache_cfg)
    origin_cfg = b.origin_request_policy_config
    if origin_cfg is None and b.origin_request_policy_id is not None:
        origin_cfg = _lookup(
            policies.origin_request, b.origin_request_policy_id, "OriginRequestPolicyId"
        )
    return rt.Behavior(
        path_pattern=b.path_pattern if isinstance(b, CacheBehavior) else "*",
        target_origin_id=b.target_origin_id,
        allowed_methods=frozenset(b.allowed_methods.items),
        cached_methods=frozenset(b.allowed_methods.cached_methods),
        ttl=ttl,
        key=key,
        origin_request=(
            compile_origin_request_policy(origin_cfg) if origin_cfg else rt.OriginRequestPolicy()
        ),
        viewer_protocol_policy=b.viewer_protocol_policy,
        compress=b.compress,
        trusted_keys=_trusted_keys(b, policies),
        response_headers=(
            compile_response_headers_policy(
                _lookup(
                    policies.response_headers,
                    b.response_headers_policy_id,
                    "ResponseHeadersPolicyId",
                )
            )
            if b.response_headers_policy_id is not None
            else None
        ),
    )


def compile_origin(
    o: Origin,
    oacs: Mapping[str, rt.SigningBehavior] | None = None,
    s3_origins: Mapping[str, S3OriginAccess] | None = None,
) -> rt.Origin:
    """``oacs``: SigningBehavior by OriginAccessControl Id; ``s3_origins``: edge.s3_origins by
    lower-case DomainName."""
    if o.s3_origin_config is not None:
        return _compile_s3_origin(o, o.s3_origin_config, oacs or {}, s3_origins or {})
    custom = o.custom_origin_config or CustomOriginConfig()
    port = custom.https_port if custom.origin_protocol_policy == "https-only" else custom.http_port
    return rt.Origin(
        id=o.id,
        domain=o.domain_name,
        port=port,
        protocol=custom.origin_protocol_policy,
        https_port=custom.https_port,
        tls_versions=tuple(v for v in ORIGIN_TLS_VERSIONS if v in custom.origin_ssl_protocols),
        path=o.origin_path,
        custom_headers=tuple((h.header_name, h.header_value) for h in o.custom_headers),
        connect_timeout=float(o.connection_timeout),
        connect_attempts=o.connection_attempts,
        read_timeout=float(custom.origin_read_timeout),
        keepalive_timeout=float(custom.origin_keepalive_timeout),
        is_parent_edge=o.open_front_parent_edge,
    )


def _compile_s3_origin(
    o: Origin,
    s3: S3OriginConfig,
    oacs: Mapping[str, rt.SigningBehavior],
    s3_origins: Mapping[str, S3OriginAccess],
) -> rt.Origin:
    """An S3 bucket origin: AWS's virtual-hosted endpoint over HTTPS, or the store an
    edge.s3_origins entry names, with the bucket in the path (path-style)."""
    parsed = parse_s3_domain(o.domain_name)
    if parsed is None:
        raise ConfigError(f"origin {o.id}: {o.domain_name!r} is not an S3 bucket endpoint")
    bucket, region = parsed
    access = s3_origins.get(o.domain_name.lower())
    domain, port, path = o.domain_name, 443, o.origin_path
    protocol: rt.ProtocolPolicy = "https-only"
    if access is not None and access.endpoint is not None:
        url = urlsplit(access.endpoint)
        assert url.hostname is not None  # checked by S3OriginAccess
        https = url.scheme == "https"
        domain, protocol = url.hostname, "https-only" if https else "http-only"
        port = url.port or (443 if https else 80)
        path = f"/{bucket}{o.origin_path}"
    if access is not None and access.signing_region:
        region = access.signing_region
    signing = oacs.get(o.origin_access_control_id, "never")
    return rt.Origin(
        id=o.id,
        domain=domain,
        port=port,
        protocol=protocol,
        https_port=port if protocol == "https-only" else 443,
        path=path,
        custom_headers=tuple((h.header_name, h.header_value) for h in o.custom_headers),
        connect_timeout=float(o.connection_timeout),
        connect_attempts=o.connection_attempts,
        read_timeout=float(s3.origin_read_timeout),
        s3=rt.S3Access(bucket, region, signing, o.domain_name.lower()),
    )


def compile_origin_group(g: OriginGroup) -> rt.OriginGroup:
    return rt.OriginGroup(
        id=g.id,
        members=tuple(m.origin_id for m in g.members),
        failover_statuses=frozenset(g.failover_criteria.status_codes),
    )


def compile_error_response(e: CustomErrorResponse) -> rt.CustomErrorResponse:
    return rt.CustomErrorResponse(
        error_code=e.error_code,
        response_page_path=e.response_page_path,
        response_code=e.response_code,
        error_caching_min_ttl=e.error_caching_min_ttl,
    )


def compile_distribution(entry: DistributionEntry, policies: PolicyCatalog) -> rt.Distribution:
    dc = entry.distribution_config
    return rt.Distribution(
        id=entry.id,
        aliases=tuple(a.lower().rstrip(".") for a in dc.aliases),
        origins={
            o.id: compile_origin(o, policies.signing, policies.s3_origins) for o in dc.origins
        },
        origin_groups={g.id: compile_origin_group(g) for g in dc.origin_groups},
        behaviors=tuple(compile_behavior(b, policies) for b in dc.cache_behaviors),
        default_behavior=compile_behavior(dc.default_cache_behavior, policies),
        enabled=dc.enabled,
        default_root_object=dc.default_root_object,
        custom_error_responses={
            e.error_code: compile_error_response(e) for e in dc.custom_error_responses
        },
        comment=dc.comment,
        geo_restriction=(
            dc.restrictions.geo_restriction.restriction_type,
            frozenset(dc.restrictions.geo_restriction.items),
        ),
        minimum_protocol_version=dc.viewer_certificate.minimum_protocol_version,
    )


def compile_all(cfg: OpenFrontConfig) -> list[rt.Distribution]:
    policies = PolicyCatalog.from_config(cfg)
    return [compile_distribution(entry, policies) for entry in cfg.distributions]
