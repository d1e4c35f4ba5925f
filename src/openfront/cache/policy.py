"""Runtime policy values: what the validated config compiles into.

Small frozen dataclasses with slots, so the pure core and the hot path never touch pydantic.
Names follow CloudFront's (CachePolicyConfig, OriginRequestPolicyConfig, CacheBehavior).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from openfront.cache.response_headers import ResponseHeadersPolicy

QueryStringBehavior = Literal["none", "whitelist", "allExcept", "all"]
HeaderBehavior = Literal["none", "whitelist"]
CookieBehavior = Literal["none", "whitelist", "allExcept", "all"]
OriginHeaderBehavior = Literal[
    "none", "whitelist", "allViewer", "allViewerAndWhitelistCloudFront", "allExcept"
]
ProtocolPolicy = Literal["http-only", "https-only", "match-viewer"]

ONE_YEAR = 31_536_000


@dataclass(frozen=True, slots=True)
class TtlPolicy:
    """CloudFront's Min/Default/MaxTTL (seconds)."""

    min_ttl: int = 0
    default_ttl: int = 86_400
    max_ttl: int = ONE_YEAR


@dataclass(frozen=True, slots=True)
class KeyPolicy:
    """What enters the cache key (CachePolicy's ParametersInCacheKeyAndForwardedToOrigin).

    Header names are lower-case; query-string and cookie names are case-sensitive.
    """

    query_strings: QueryStringBehavior = "none"
    query_string_names: frozenset[str] = frozenset()
    headers: HeaderBehavior = "none"
    header_names: tuple[str, ...] = ()
    cookies: CookieBehavior = "none"
    cookie_names: frozenset[str] = frozenset()
    accept_encoding_gzip: bool = False
    accept_encoding_brotli: bool = False


@dataclass(frozen=True, slots=True)
class OriginRequestPolicy:
    """What is forwarded to the origin without entering the key (OriginRequestPolicyConfig)."""

    headers: OriginHeaderBehavior = "none"
    header_names: frozenset[str] = frozenset()
    cookies: CookieBehavior = "none"
    cookie_names: frozenset[str] = frozenset()
    query_strings: QueryStringBehavior = "none"
    query_string_names: frozenset[str] = frozenset()


SigningBehavior = Literal["always", "never", "no-override"]


@dataclass(frozen=True, slots=True)
class S3Access:
    """What an S3 origin (S3OriginConfig) needs to be reached and signed (Origin Access Control).

    The secret stays in the edge shell; ``credentials`` names the entry to sign with.
    """

    bucket: str
    region: str  # the SigV4 signing region
    signing: SigningBehavior = "never"  # the OAC's SigningBehavior; "never" without an OAC
    credentials: str = ""  # the origin's DomainName: the key of edge.s3_origins


@dataclass(frozen=True, slots=True)
class Origin:
    id: str
    domain: str
    port: int  # HTTPSPort for https-only, else HTTPPort
    protocol: ProtocolPolicy = "http-only"
    path: str = ""
    custom_headers: tuple[tuple[str, str], ...] = ()
    connect_timeout: float = 10.0
    connect_attempts: int = 3
    read_timeout: float = 30.0
    keepalive_timeout: float = 5.0
    # An origin may be another OpenFront edge (origin shield tier): it then receives the
    # viewer-facing key inputs unchanged and answers with its own cache.
    is_parent_edge: bool = False
    https_port: int = 443  # where match-viewer sends HTTPS viewers' requests
    tls_versions: tuple[str, ...] = ("TLSv1.2",)  # allowed to the origin, oldest first
    s3: S3Access | None = None  # an S3 bucket origin


@dataclass(frozen=True, slots=True)
class OriginGroup:
    id: str
    members: tuple[str, ...]  # origin ids, primary first
    failover_statuses: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Behavior:
    path_pattern: str  # "*" for the default behavior
    target_origin_id: str
    allowed_methods: frozenset[str] = frozenset({"GET", "HEAD"})
    cached_methods: frozenset[str] = frozenset({"GET", "HEAD"})
    ttl: TtlPolicy = TtlPolicy()
    key: KeyPolicy = KeyPolicy()
    origin_request: OriginRequestPolicy = OriginRequestPolicy()
    viewer_protocol_policy: str = "allow-all"
    compress: bool = False
    # Restricted (TrustedKeyGroups): Key-Pair-Id -> loaded public key. Typed `object` so this
    # pure module never imports cryptography; empty means the behavior is public.
    trusted_keys: tuple[tuple[str, object], ...] = ()
    response_headers: ResponseHeadersPolicy | None = None  # ResponseHeadersPolicyId


@dataclass(frozen=True, slots=True)
class CustomErrorResponse:
    error_code: int
    response_page_path: str | None = None
    response_code: int | None = None
    error_caching_min_ttl: int = 10


@dataclass(frozen=True, slots=True)
class Distribution:
    id: str
    aliases: tuple[str, ...]
    origins: dict[str, Origin]
    origin_groups: dict[str, OriginGroup]
    behaviors: tuple[Behavior, ...]  # ordered CacheBehaviors, first match wins
    default_behavior: Behavior
    enabled: bool = True
    default_root_object: str = ""
    custom_error_responses: dict[int, CustomErrorResponse] = field(default_factory=dict)
    comment: str = ""
    # (RestrictionType, ISO alpha-2 codes): "none", "whitelist" or "blacklist".
    geo_restriction: tuple[str, frozenset[str]] = ("none", frozenset())
    # ViewerCertificate.MinimumProtocolVersion, CloudFront's security policy name.
    minimum_protocol_version: str = "TLSv1.2_2021"
