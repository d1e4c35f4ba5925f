"""DistributionConfig, mirroring CloudFront's names: origins, groups, behaviors, error pages."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from openfront.cache.pathmatch import validate_path_pattern
from openfront.config.oac import parse_s3_domain
from openfront.config.policies import (
    CachePolicyConfig,
    CfList,
    CfModel,
    ConfigPathError,
    NonEmpty,
    OriginRequestPolicyConfig,
    PathPart,
    check_quantity,
)

MAX_CUSTOM_HEADERS = 10
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)(\*\.)?([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*"
    r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?$"
)
_CTL = re.compile(r"[\x00-\x1f\x7f]")
_BAD_PATH_CHARS = re.compile(r"[\s?#\x00-\x1f\x7f]")

# --- origins ------------------------------------------------------------------------------------

# Headers CloudFront will not add as custom origin headers [m CFDG add-origin-custom-headers.md].
_FORBIDDEN_CUSTOM_HEADERS = frozenset(
    """cache-control connection content-length cookie host if-match if-modified-since
    if-none-match if-range if-unmodified-since max-forwards pragma proxy-authorization
    proxy-connection range request-range te trailer transfer-encoding upgrade via
    x-real-ip""".split()
)
_FORBIDDEN_CUSTOM_PREFIXES = ("x-amz-", "x-edge-")


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return "*" not in host and bool(_HOSTNAME.match(host))
    return True


class OriginCustomHeader(CfModel):
    header_name: str = Field(description="Header CloudFront adds to every request to the origin.")
    header_value: str = Field(description="Its value.")

    @model_validator(mode="after")
    def _check(self) -> OriginCustomHeader:
        name = self.header_name.lower()
        if not _TOKEN.match(self.header_name):
            raise ConfigPathError.at("HeaderName", "not a valid header name")
        if name in _FORBIDDEN_CUSTOM_HEADERS or name.startswith(_FORBIDDEN_CUSTOM_PREFIXES):
            raise ConfigPathError.at("HeaderName", f"{self.header_name} cannot be a custom header")
        if _CTL.search(self.header_value.replace("\t", " ")):
            raise ConfigPathError.at("HeaderValue", "control characters are not allowed")
        return self


OriginSslProtocol = Literal["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
# The versions OpenFront negotiates with origins: OpenSSL 3 refuses TLSv1/TLSv1.1 at its default
# security level, and TLSv1.3 is an extension (CloudFront's API stops at TLSv1.2).
ORIGIN_TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")


class CustomOriginConfig(CfModel):
    http_port: int = Field(
        default=80, alias="HTTPPort", ge=1, le=65535, description="Port for HTTP."
    )
    https_port: int = Field(
        default=443, alias="HTTPSPort", ge=1, le=65535, description="Port for HTTPS."
    )
    origin_protocol_policy: Literal["http-only", "https-only", "match-viewer"] = Field(
        default="http-only",
        description="Protocol to the origin: `https-only` is TLS to HTTPSPort; `match-viewer` is "
        "TLS to HTTPSPort for HTTPS viewers and HTTP to HTTPPort otherwise. CloudFront requires "
        "this key; OpenFront defaults to `http-only`.",
    )
    origin_ssl_protocols: CfList[OriginSslProtocol] = Field(
        default=("TLSv1.2",),
        description="TLS versions allowed to the origin (a list or {Quantity, Items}). OpenFront "
        "speaks TLSv1.2 and, as an extension, TLSv1.3; TLSv1 and TLSv1.1 are accepted but never "
        "used, SSLv3 is refused.",
    )
    origin_read_timeout: int = Field(
        default=30,
        ge=1,
        le=60,
        description="Seconds to wait for the first byte and between packets.",
    )
    origin_keepalive_timeout: int = Field(
        default=5, ge=1, le=60, description="Seconds an idle origin connection is kept for reuse."
    )

    @model_validator(mode="after")
    def _check_ssl_protocols(self) -> CustomOriginConfig:
        protocols = self.origin_ssl_protocols
        if "SSLv3" in protocols:
            msg = "SSLv3 is not supported (broken since POODLE); use TLSv1.2"
            raise ConfigPathError.at("OriginSslProtocols", msg)
        if not set(protocols) & set(ORIGIN_TLS_VERSIONS):
            msg = "OpenFront connects to origins with TLSv1.2 or TLSv1.3 only; list TLSv1.2"
            raise ConfigPathError.at("OriginSslProtocols", msg)
        if len(set(protocols)) != len(protocols):
            raise ConfigPathError.at("OriginSslProtocols", "a protocol is listed twice")
        return self


class S3OriginConfig(CfModel):
    origin_access_identity: str = Field(
        default="",
        description="Legacy OAI (`origin-access-identity/cloudfront/ID`): accepted, not used; "
        "use OriginAccessControlId. Empty allowed.",
    )
    origin_read_timeout: int = Field(
        default=30,
        ge=1,
        le=60,
        description="Seconds to wait for the first byte and between packets.",
    )


class Origin(CfModel):
    id: str = Field(description="Unique origin id, referenced by TargetOriginId and groups.")
    domain_name: str = Field(description="Origin host name or IP address (no scheme, no port).")
    origin_path: str = Field(
        default="",
        description="Prefix added to every origin request path: starts with `/`, no trailing `/`.",
    )
    custom_headers: CfList[OriginCustomHeader] = Field(
        default=(), description="Headers added to origin requests (at most 10)."
    )
    connection_attempts: int = Field(
        default=3, ge=1, le=3, description="Connect tries per request (1-3)."
    )
    connection_timeout: int = Field(
        default=10, ge=1, le=10, description="Seconds per connect try (1-10)."
    )
    custom_origin_config: CustomOriginConfig | None = Field(
        default=None,
        description="Ports, protocol and timeouts of an HTTP origin; the default when neither "
        "this nor S3OriginConfig is given.",
    )
    s3_origin_config: S3OriginConfig | None = Field(
        default=None,
        alias="S3OriginConfig",
        description="The origin is an S3 bucket: DomainName is `BUCKET.s3.REGION.amazonaws.com` "
        "(edge.s3_origins can point it at any S3 store). Exclusive with CustomOriginConfig.",
    )
    origin_access_control_id: str = Field(
        default="",
        description="Id of an entry in OriginAccessControls: the edge signs this S3 origin's "
        "requests (SigV4) so that the bucket can stay private. Empty = unsigned.",
    )
    open_front_parent_edge: bool = Field(
        default=False,
        alias="OpenFrontParentEdge",
        description="OpenFront extension: the origin is another OpenFront edge acting as origin "
        "shield; it gets the viewer's key inputs unchanged and collapses misses of all children.",
    )

    @model_validator(mode="after")
    def _check(self) -> Origin:
        problems: list[tuple[tuple[PathPart, ...], str]] = []
        if "://" in self.domain_name or "/" in self.domain_name:
            problems.append((("DomainName",), "a host name, not a URL"))
        elif not _valid_host(self.domain_name):
            problems.append((("DomainName",), f"{self.domain_name!r} is not a host name"))
        problems += self._s3_problems()
        path = self.origin_path
        if path and (
            not path.startswith("/")
            or path.endswith("/")
            or len(path) > 255
            or _BAD_PATH_CHARS.search(path)
        ):
            problems.append((("OriginPath",), "must start with '/', not end with '/', no spaces"))
        if len(self.custom_headers) > MAX_CUSTOM_HEADERS:
            problems.append((("CustomHeaders",), "at most 10 custom headers"))
        names = [h.header_name.lower() for h in self.custom_headers]
        if len(set(names)) != len(names):
            problems.append((("CustomHeaders",), "a header is listed twice"))
        if problems:
            raise ConfigPathError(problems)
        return self

    def _s3_problems(self) -> list[tuple[tuple[PathPart, ...], str]]:
        s3 = self.s3_origin_config
        if s3 is None:
            if self.origin_access_control_id:
                msg = "Origin Access Control signs S3 origins only: add S3OriginConfig"
                return [(("OriginAccessControlId",), msg)]
            return []
        problems: list[tuple[tuple[PathPart, ...], str]] = []
        if self.custom_origin_config is not None:
            msg = "give S3OriginConfig or CustomOriginConfig, not both"
            problems.append((("S3OriginConfig",), msg))
        if parse_s3_domain(self.domain_name) is None:
            msg = "an S3 origin's DomainName is BUCKET.s3.REGION.amazonaws.com"
            problems.append((("DomainName",), msg))
        if self.origin_access_control_id and s3.origin_access_identity:
            msg = "an origin uses Origin Access Control or an OriginAccessIdentity, not both"
            problems.append((("S3OriginConfig", "OriginAccessIdentity"), msg))
        return problems


FailoverStatus = Literal[400, 403, 404, 416, 500, 502, 503, 504]


class OriginGroupFailoverCriteria(CfModel):
    status_codes: Annotated[CfList[FailoverStatus], NonEmpty] = Field(
        description="Origin statuses that make GET/HEAD/OPTIONS try the secondary: any of "
        "400, 403, 404, 416, 500, 502, 503, 504. Connect failures and timeouts always do.",
    )


class OriginGroupMember(CfModel):
    origin_id: str = Field(description="Id of a member origin.")

    @model_validator(mode="before")
    @classmethod
    def _accept_str(cls, data: object) -> object:
        return {"OriginId": data} if isinstance(data, str) else data


class OriginGroup(CfModel):
    id: str = Field(description="Unique group id, usable as a TargetOriginId.")
    failover_criteria: OriginGroupFailoverCriteria = Field(description="When to fail over.")
    members: CfList[OriginGroupMember] = Field(
        description="Exactly two origin ids, primary first (plain strings or {OriginId})."
    )

    @model_validator(mode="after")
    def _check(self) -> OriginGroup:
        ids = [m.origin_id for m in self.members]
        if len(ids) != 2 or ids[0] == ids[1]:
            raise ConfigPathError.at("Members", "exactly two different origins")
        return self


# --- behaviors ----------------------------------------------------------------------------------

Method = Literal["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
ALLOWED_METHOD_SETS = (
    frozenset({"GET", "HEAD"}),
    frozenset({"GET", "HEAD", "OPTIONS"}),
    frozenset({"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}),
)
CACHED_METHOD_SETS = ALLOWED_METHOD_SETS[:2]


def _set_names(sets: tuple[frozenset[str], ...]) -> str:
    order = ("GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE")
    return ", ".join("[" + ", ".join(m for m in order if m in s) + "]" for s in sets)


def _items_object(data: object, list_defaults: dict[str, object]) -> object:
    """CloudFront's {Quantity, Items} object from a plain list (plus defaults) or checked as is."""
    if isinstance(data, list):
        return {**list_defaults, "Items": data}
    if isinstance(data, Mapping) and "Quantity" in data:
        rest = {k: v for k, v in data.items() if k != "Quantity"}
        check_quantity(data["Quantity"], rest.get("Items"))
        return rest
    return data


class AllowedMethods(CfModel):
    items: CfList[Method] = Field(
        description="One of CloudFront's three sets: [GET, HEAD], [GET, HEAD, OPTIONS], "
        "[GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE]. A plain list here means Items."
    )
    cached_methods: CfList[Method] = Field(
        default=("GET", "HEAD"),
        description="[GET, HEAD] (default) or [GET, HEAD, OPTIONS]; never more than allowed.",
    )

    @model_validator(mode="before")
    @classmethod
    def _accept_list(cls, data: object) -> object:
        return _items_object(data, {})

    @model_validator(mode="after")
    def _check(self) -> AllowedMethods:
        allowed, cached = frozenset(self.items), frozenset(self.cached_methods)
        if allowed not in ALLOWED_METHOD_SETS or len(allowed) != len(self.items):
            raise ConfigPathError.at("Items", f"must be one of {_set_names(ALLOWED_METHOD_SETS)}")
        if cached not in CACHED_METHOD_SETS or len(cached) != len(self.cached_methods):
            msg = f"must be one of {_set_names(CACHED_METHOD_SETS)}"
            raise ConfigPathError.at("CachedMethods", msg)
        if not cached <= allowed:
            raise ConfigPathError.at("CachedMethods", "includes a method that is not allowed")
        return self


MAX_KEY_GROUPS_PER_BEHAVIOR = 4  # CloudFront quota


class TrustedKeyGroups(CfModel):
    """Key groups whose keys may sign URLs and cookies for a behavior (private content)."""

    enabled: bool = Field(
        description="Whether viewers need a signed URL or signed cookies (else 403)."
    )
    items: CfList[str] = Field(
        default=(), description="Ids of entries in KeyGroups (1 to 4 when Enabled)."
    )

    @model_validator(mode="before")
    @classmethod
    def _accept_list(cls, data: object) -> object:
        return _items_object(data, {"Enabled": True})

    @model_validator(mode="after")
    def _check(self) -> TrustedKeyGroups:
        if self.enabled and not self.items:
            raise ConfigPathError.at("Items", "Enabled needs at least one key group Id")
        if len(self.items) > MAX_KEY_GROUPS_PER_BEHAVIOR:
            msg = f"at most {MAX_KEY_GROUPS_PER_BEHAVIOR} key groups (got {len(self.items)})"
            raise ConfigPathError.at("Items", msg)
        if len(set(self.items)) != len(self.items):
            raise ConfigPathError.at("Items", "a key group is listed twice")
        return self


class _BehaviorSettings(CfModel):
    target_origin_id: str = Field(description="Id of the origin or origin group to use.")
    viewer_protocol_policy: Literal["allow-all", "https-only", "redirect-to-https"] = Field(
        default="allow-all", description="`allow-all`, `https-only` or `redirect-to-https`."
    )
    allowed_methods: AllowedMethods = Field(
        default=AllowedMethods.model_validate(["GET", "HEAD"]),
        description="Methods answered (others get 403) and methods cached; default GET, HEAD.",
    )
    compress: bool = Field(default=False, description="Compress eligible responses for viewers.")
    cache_policy_id: str | None = Field(
        default=None,
        description="A managed policy id or name, or the Id/Name of an entry in CachePolicies. "
        "Default when neither this nor CachePolicyConfig is given: CachingOptimized.",
    )
    cache_policy_config: CachePolicyConfig | None = Field(
        default=None, description="OpenFront convenience: an inline cache policy instead of an id."
    )
    origin_request_policy_id: str | None = Field(
        default=None,
        description="A managed origin request policy id or name, or an entry of "
        "OriginRequestPolicies. Default: none (only the cache key goes to the origin).",
    )
    origin_request_policy_config: OriginRequestPolicyConfig | None = Field(
        default=None, description="OpenFront convenience: an inline origin request policy."
    )
    trusted_key_groups: TrustedKeyGroups | None = Field(
        default=None,
        description="Private content: viewers need a URL or cookies signed by a key of one "
        "of these groups. A plain list of ids means Enabled with those Items.",
    )
    response_headers_policy_id: str | None = Field(
        default=None,
        description="A managed response headers policy id or name, or the Id/Name of an entry "
        "in ResponseHeadersPolicies: CORS, security and custom headers on every viewer "
        "response. Default: none.",
    )

    @model_validator(mode="after")
    def _one_policy_each(self) -> _BehaviorSettings:
        problems: list[tuple[tuple[PathPart, ...], str]] = []
        if self.cache_policy_id is not None and self.cache_policy_config is not None:
            msg = "give CachePolicyId or CachePolicyConfig, not both"
            problems.append((("CachePolicyId",), msg))
        if self.origin_request_policy_id is not None and self.origin_request_policy_config:
            msg = "give OriginRequestPolicyId or OriginRequestPolicyConfig, not both"
            problems.append((("OriginRequestPolicyId",), msg))
        if problems:
            raise ConfigPathError(problems)
        return self


def _unescape_amp(value: object) -> object:
    return value.replace("&amp;", "&") if isinstance(value, str) else value


class CacheBehavior(_BehaviorSettings):
    path_pattern: Annotated[str, BeforeValidator(_unescape_amp)] = Field(
        description="Case-sensitive path pattern: `*` any characters (including `/`), `?` one. "
        "Leading `/` optional. At most 255 of `A-Za-z0-9_-.*$/~\"'@:+&?`. First match wins."
    )

    @model_validator(mode="after")
    def _check_pattern(self) -> CacheBehavior:
        problem = validate_path_pattern(self.path_pattern)
        if problem is not None:
            raise ConfigPathError.at("PathPattern", problem)
        return self


class DefaultCacheBehavior(_BehaviorSettings):
    """The behavior for paths no CacheBehavior matches (its pattern is `*`)."""


ErrorCode = Literal[400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504]
ResponseCode = Literal[200, 400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504]


def _int_from_str(value: object) -> object:
    # CloudFront's API types ResponseCode as a string ("200").
    return int(value) if isinstance(value, str) and value.isdigit() else value


class CustomErrorResponse(CfModel):
    error_code: ErrorCode = Field(description="Origin status to customise.")
    response_page_path: str | None = Field(
        default=None,
        description="Path of the page to serve instead (fetched through the behaviors).",
    )
    response_code: Annotated[ResponseCode | None, BeforeValidator(_int_from_str)] = Field(
        default=None,
        description="Status to send with the page (CloudFront's API gives it as a string).",
    )
    error_caching_min_ttl: int = Field(
        default=10,
        alias="ErrorCachingMinTTL",
        ge=0,
        description="Seconds the error is cached at least.",
    )

    @model_validator(mode="after")
    def _check(self) -> CustomErrorResponse:
        if (self.response_page_path is None) != (self.response_code is None):
            msg = "ResponsePagePath and ResponseCode go together"
            raise ConfigPathError.at("ResponsePagePath", msg)
        if self.response_page_path is not None and not self.response_page_path.startswith("/"):
            raise ConfigPathError.at("ResponsePagePath", "must start with '/'")
        return self


# --- geo restriction ----------------------------------------------------------------------------

_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


class GeoRestriction(CfModel):
    restriction_type: Literal["none", "whitelist", "blacklist"] = Field(
        default="none",
        description="`whitelist`: only viewers from Items get content; `blacklist`: viewers "
        "from Items get 403; `none`. Viewers whose country is unknown are always served.",
    )
    items: CfList[str] = Field(
        default=(),
        description="ISO 3166-1 alpha-2 country codes (`US`, `DE`); at least one for "
        "whitelist/blacklist, none for `none`.",
    )

    @model_validator(mode="before")
    @classmethod
    def _quantity(cls, data: object) -> object:
        if isinstance(data, Mapping) and "Quantity" in data:
            rest = {k: v for k, v in data.items() if k != "Quantity"}
            check_quantity(data["Quantity"], rest.get("Items"))
            return rest
        return data

    @model_validator(mode="after")
    def _check(self) -> GeoRestriction:
        problems: Problems = [
            (("Items", i), f"{code!r} is not a two-letter upper-case ISO country code")
            for i, code in enumerate(self.items)
            if not _COUNTRY_CODE.match(code)
        ]
        if len(set(self.items)) != len(self.items):
            problems.append((("Items",), "a country is listed twice"))
        if self.restriction_type == "none" and self.items:
            problems.append((("Items",), "RestrictionType none takes no countries"))
        elif self.restriction_type != "none" and not self.items:
            msg = f"RestrictionType {self.restriction_type} needs at least one country"
            problems.append((("Items",), msg))
        if problems:
            raise ConfigPathError(problems)
        return self


class Restrictions(CfModel):
    geo_restriction: GeoRestriction = Field(
        default=GeoRestriction(), description="Country allow list or block list (403)."
    )


# --- viewer certificate --------------------------------------------------------------------------

MinimumProtocolVersion = Literal[
    "SSLv3",
    "TLSv1",
    "TLSv1_2016",
    "TLSv1.1_2016",
    "TLSv1.2_2018",
    "TLSv1.2_2019",
    "TLSv1.2_2021",
    "TLSv1.2_2025",
    "TLSv1.3_2025",
]
_IGNORED = "Accepted for CloudFront compatibility and ignored: certificates come from edge.tls."


class ViewerCertificate(CfModel):
    """CloudFront's ViewerCertificate; only MinimumProtocolVersion has an effect here."""

    minimum_protocol_version: MinimumProtocolVersion = Field(
        default="TLSv1.2_2021",
        description="CloudFront security policy for the distribution's aliases: "
        "`TLSv1.3_2025` refuses handshakes below TLS 1.3; every other value means TLS 1.2 or "
        "newer here (OpenFront never accepts older TLS). edge.tls.min_protocol stays the floor.",
    )
    ssl_support_method: Literal["sni-only", "vip", "static-ip"] | None = Field(
        default=None,
        alias="SSLSupportMethod",
        description="Accepted and ignored: the edge always picks certificates by SNI.",
    )
    cloudfront_default_certificate: bool | None = Field(
        default=None, alias="CloudFrontDefaultCertificate", description=_IGNORED
    )
    acm_certificate_arn: str | None = Field(
        default=None, alias="ACMCertificateArn", description=_IGNORED
    )
    iam_certificate_id: str | None = Field(
        default=None, alias="IAMCertificateId", description=_IGNORED
    )
    certificate: str | None = Field(default=None, description=_IGNORED)
    certificate_source: Literal["cloudfront", "iam", "acm"] | None = Field(
        default=None, description=_IGNORED
    )


# --- the distribution ---------------------------------------------------------------------------


class DistributionConfig(CfModel):
    caller_reference: str | None = Field(
        default=None, description="Accepted for API compatibility; optional in files."
    )
    comment: str = Field(
        default="", max_length=128, description="Free text (at most 128 characters)."
    )
    enabled: bool = Field(default=True, description="A disabled distribution answers 403.")
    aliases: CfList[str] = Field(
        default=(),
        description="Host names (CNAMEs) this distribution answers for; `*.example.com` "
        "wildcards allowed. Unique across distributions.",
    )
    default_root_object: str = Field(
        default="",
        description="Object served for `/` only (never for subdirectories), e.g. index.html.",
    )
    origins: Annotated[CfList[Origin], NonEmpty] = Field(description="The origins (at least one).")
    origin_groups: CfList[OriginGroup] = Field(default=(), description="Failover pairs of origins.")
    default_cache_behavior: DefaultCacheBehavior = Field(
        description="Behavior for paths no CacheBehavior matches."
    )
    cache_behaviors: CfList[CacheBehavior] = Field(
        default=(), description="Ordered behaviors; the first whose PathPattern matches wins."
    )
    custom_error_responses: CfList[CustomErrorResponse] = Field(
        default=(), description="Per-status error pages and error caching TTLs."
    )
    restrictions: Restrictions = Field(
        default=Restrictions(),
        description="Geo restriction for the whole distribution (blocked viewers get 403).",
    )
    viewer_certificate: ViewerCertificate = Field(
        default=ViewerCertificate(),
        description="HTTPS settings for viewers: the minimum TLS version for this distribution.",
    )

    @model_validator(mode="after")
    def _check_references(self) -> DistributionConfig:
        problems = [
            *_alias_problems(self.aliases),
            *_origin_problems(self.origins, self.origin_groups),
            *_behavior_problems(self),
        ]
        codes = [e.error_code for e in self.custom_error_responses]
        for i, code in enumerate(codes):
            if code in codes[:i]:
                problems.append((("CustomErrorResponses", i, "ErrorCode"), f"{code} is repeated"))
        if self.default_root_object.startswith("/") or _CTL.search(self.default_root_object):
            problems.append((("DefaultRootObject",), "a name like index.html, without '/'"))
        if problems:
            raise ConfigPathError(problems)
        return self


Problems = list[tuple[tuple[PathPart, ...], str]]


def _alias_problems(aliases: tuple[str, ...]) -> Problems:
    problems: Problems = []
    seen: set[str] = set()
    for i, alias in enumerate(aliases):
        host = alias.lower()
        if not _HOSTNAME.match(host) or "*" in host[1:]:
            problems.append((("Aliases", i), f"{alias!r} is not a host name"))
        elif host in seen:
            problems.append((("Aliases", i), f"CNAMEAlreadyExists: {alias!r} is listed twice"))
        seen.add(host)
    return problems


def _origin_problems(origins: tuple[Origin, ...], groups: tuple[OriginGroup, ...]) -> Problems:
    problems: Problems = []
    ids: set[str] = set()
    for i, origin in enumerate(origins):
        if origin.id in ids:
            problems.append((("Origins", i, "Id"), f"origin Id {origin.id!r} is repeated"))
        ids.add(origin.id)
    group_ids: set[str] = set()
    for i, group in enumerate(groups):
        if group.id in ids or group.id in group_ids:
            problems.append((("OriginGroups", i, "Id"), f"Id {group.id!r} is already used"))
        group_ids.add(group.id)
        for j, member in enumerate(group.members):
            if member.origin_id not in ids:
                where = ("OriginGroups", i, "Members", j, "OriginId")
                problems.append((where, f"no origin with Id {member.origin_id!r}"))
    return problems


def _behavior_problems(cfg: DistributionConfig) -> Problems:
    problems: Problems = []
    targets = {o.id for o in cfg.origins} | {g.id for g in cfg.origin_groups}
    if cfg.default_cache_behavior.target_origin_id not in targets:
        where: tuple[PathPart, ...] = ("DefaultCacheBehavior", "TargetOriginId")
        problems.append((where, _no_target(cfg.default_cache_behavior.target_origin_id)))
    patterns: set[str] = set()
    for i, behavior in enumerate(cfg.cache_behaviors):
        if behavior.target_origin_id not in targets:
            where = ("CacheBehaviors", i, "TargetOriginId")
            problems.append((where, _no_target(behavior.target_origin_id)))
        pattern = behavior.path_pattern.lstrip("/")
        if pattern in patterns:
            where = ("CacheBehaviors", i, "PathPattern")
            problems.append((where, f"{behavior.path_pattern!r} is repeated"))
        patterns.add(pattern)
    return problems


def _no_target(target: str) -> str:
    return f"no origin or origin group with Id {target!r}"
