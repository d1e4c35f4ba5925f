"""The base of CloudFront-shaped models, and the cache and origin request policies.

Keys are CloudFront's own (PascalCase, via aliases) so API JSON can be pasted. Every CloudFront
list accepts a plain list or the API's ``{Quantity, Items}`` form. Python attribute names are
snake_case; error paths and docs use the CloudFront keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_pascal

from openfront.cache.policy import ONE_YEAR

T = TypeVar("T")
PathPart = str | int

ONE_DAY = 86_400
HUNDRED_YEARS = 3_153_600_000
NAME_QUOTA_CACHE = 10  # headers, cookies, query strings per cache policy (cloudfront-limits)
NAME_QUOTA_ORIGIN_REQUEST = 30  # per origin request policy [m]; managed ones list 21 headers
NAMES_TOTAL_CHARS = 1024  # combined length of all names in one policy

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_POLICY_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_CTL = re.compile(r"[\x00-\x1f\x7f]")
_LISTED = {"whitelist", "allExcept"}  # behaviors that take a list of names


class ConfigPathError(ValueError):
    """Problems found by a cross-field check, each located below the model that found them."""

    def __init__(self, problems: Iterable[tuple[tuple[PathPart, ...], str]]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{format_path(p)}: {m}" for p, m in self.problems))

    @classmethod
    def at(cls, key: str, message: str) -> ConfigPathError:
        """One problem at ``key`` of the model being validated."""
        return cls([((key,), message)])


def format_path(path: Iterable[PathPart]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def check_quantity(quantity: object, items: object) -> list[object]:
    if items is None:
        items = []
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise ValueError(f"Quantity must be an integer (got {quantity!r})")
    if not isinstance(items, list):
        raise ValueError("Items must be a list")
    if quantity != len(items):
        raise ValueError(
            f"InconsistentQuantities: Quantity is {quantity} but Items has {len(items)} entries"
        )
    return items


def _unwrap_list(value: object) -> object:
    """Accept a plain list or CloudFront's {Quantity, Items}; YAML's empty value is []."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        unknown = sorted(str(k) for k in value if k not in ("Quantity", "Items"))
        if unknown or "Quantity" not in value:
            extra = f"; unknown key {unknown[0]!r}" if unknown else "; Quantity is missing"
            raise ValueError(f"expected a list or a {{Quantity, Items}} object{extra}")
        return check_quantity(value["Quantity"], value.get("Items"))
    return value


CfList = Annotated[tuple[T, ...], BeforeValidator(_unwrap_list)]


def non_empty(value: tuple[T, ...]) -> tuple[T, ...]:
    # Field(min_length=1) also fires, confusingly, when entries fail validation.
    if not value:
        raise ValueError("at least one entry is needed")
    return value


NonEmpty = AfterValidator(non_empty)


def _names_ok(names: tuple[str, ...], what: str, limit: int, *, token: bool) -> None:
    if len(names) > limit:
        raise ValueError(f"at most {limit} {what} (got {len(names)})")
    for name in names:
        if not name or _CTL.search(name) or (token and not _TOKEN.match(name)):
            raise ValueError(f"{name!r} is not a valid {what[:-1]} name")
    lowered = [n.lower() for n in names] if token else list(names)
    if len(set(lowered)) != len(lowered):
        raise ValueError(f"{what} are listed twice")


class CfModel(BaseModel):
    """Base of every CloudFront-shaped model: frozen, unknown keys refused, PascalCase keys."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_pascal,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
    )


# --- cache policy -------------------------------------------------------------------------------


class CachePolicyHeadersConfig(CfModel):
    header_behavior: Literal["none", "whitelist"] = Field(
        default="none",
        description="`none`, or `whitelist`: the listed headers enter the cache key.",
    )
    headers: CfList[str] = Field(
        default=(), description="Header names for `whitelist` (case-insensitive, at most 10)."
    )

    @model_validator(mode="after")
    def _check(self) -> CachePolicyHeadersConfig:
        _behavior_names(self.header_behavior, self.headers, {"whitelist"}, "Headers")
        _names_ok(self.headers, "headers", NAME_QUOTA_CACHE, token=True)
        return self


class CachePolicyCookiesConfig(CfModel):
    cookie_behavior: Literal["none", "whitelist", "allExcept", "all"] = Field(
        default="none",
        description="`none`, `whitelist` (the listed cookies), `allExcept` (all but the listed) "
        "or `all` cookies enter the cache key.",
    )
    cookies: CfList[str] = Field(
        default=(),
        description="Cookie names for `whitelist`/`allExcept` (case-sensitive, at most 10).",
    )

    @model_validator(mode="after")
    def _check(self) -> CachePolicyCookiesConfig:
        _behavior_names(self.cookie_behavior, self.cookies, {"whitelist", "allExcept"}, "Cookies")
        _names_ok(self.cookies, "cookies", NAME_QUOTA_CACHE, token=True)
        return self


class CachePolicyQueryStringsConfig(CfModel):
    query_string_behavior: Literal["none", "whitelist", "allExcept", "all"] = Field(
        default="none",
        description="`none`, `whitelist`, `allExcept` or `all` query strings enter the cache key. "
        "Order and case matter: CloudFront does not sort them.",
    )
    query_strings: CfList[str] = Field(
        default=(),
        description="Query-string names for `whitelist`/`allExcept` (case-sensitive, at most 10).",
    )

    @model_validator(mode="after")
    def _check(self) -> CachePolicyQueryStringsConfig:
        _behavior_names(self.query_string_behavior, self.query_strings, _LISTED, "QueryStrings")
        _names_ok(self.query_strings, "query strings", NAME_QUOTA_CACHE, token=False)
        return self


def _behavior_names(behavior: str, names: tuple[str, ...], needs: set[str], key: str) -> None:
    if behavior in needs and not names:
        raise ConfigPathError([((key,), f"{behavior!r} needs at least one name")])
    if behavior not in needs and names:
        raise ConfigPathError([((key,), f"must be empty when the behavior is {behavior!r}")])


def _total_chars(*groups: tuple[str, ...]) -> None:
    total = sum(len(n) for names in groups for n in names)
    if total > NAMES_TOTAL_CHARS:
        raise ValueError(f"the names in one policy total {total} characters (at most 1024)")


class ParametersInCacheKeyAndForwardedToOrigin(CfModel):
    enable_accept_encoding_gzip: bool = Field(
        default=False,
        description="Normalised `Accept-Encoding: gzip` enters the key and goes to origin.",
    )
    enable_accept_encoding_brotli: bool = Field(
        default=False,
        description="Normalised `Accept-Encoding: br` enters the key and goes to origin.",
    )
    headers_config: CachePolicyHeadersConfig = Field(
        default=CachePolicyHeadersConfig(), description="Headers in the cache key."
    )
    cookies_config: CachePolicyCookiesConfig = Field(
        default=CachePolicyCookiesConfig(), description="Cookies in the cache key."
    )
    query_strings_config: CachePolicyQueryStringsConfig = Field(
        default=CachePolicyQueryStringsConfig(), description="Query strings in the cache key."
    )

    @model_validator(mode="after")
    def _check(self) -> ParametersInCacheKeyAndForwardedToOrigin:
        _total_chars(
            self.headers_config.headers,
            self.cookies_config.cookies,
            self.query_strings_config.query_strings,
        )
        return self


class CachePolicyConfig(CfModel):
    name: str = Field(description="Unique name (letters, digits, `-`, `_`; at most 128).")
    comment: str = Field(default="", description="Free text.")
    min_ttl: int = Field(
        alias="MinTTL",
        ge=0,
        le=HUNDRED_YEARS,
        description="Seconds an object stays cached at least, even with `no-cache`/`no-store`/"
        "`private` from the origin. Required, as in CloudFront.",
    )
    default_ttl: int | None = Field(
        default=None,
        alias="DefaultTTL",
        ge=0,
        le=HUNDRED_YEARS,
        description="Seconds when the origin sends no freshness. Default 86400, or MinTTL "
        "when MinTTL is over 86400.",
    )
    max_ttl: int | None = Field(
        default=None,
        alias="MaxTTL",
        ge=0,
        le=HUNDRED_YEARS,
        description="Upper bound in seconds on origin freshness. Default 31536000, or "
        "DefaultTTL when that is over 31536000. At most 3153600000 (100 years).",
    )
    parameters_in_cache_key_and_forwarded_to_origin: ParametersInCacheKeyAndForwardedToOrigin = (
        Field(
            default=ParametersInCacheKeyAndForwardedToOrigin(),
            description="What enters the cache key (and so also goes to the origin).",
        )
    )

    @model_validator(mode="after")
    def _check(self) -> CachePolicyConfig:
        if not _POLICY_NAME.match(self.name):
            raise ConfigPathError.at("Name", "use letters, digits, '-' and '_' (1-128)")
        lo, mid, hi = self.ttls()
        if not lo <= mid <= hi:
            raise ValueError(
                f"InvalidTTLOrder: MinTTL <= DefaultTTL <= MaxTTL must hold (got {lo}, {mid}, {hi})"
            )
        return self

    def ttls(self) -> tuple[int, int, int]:
        """Min/Default/MaxTTL with CloudFront's defaulting rules applied."""
        default = self.default_ttl
        if default is None:
            default = self.min_ttl if self.min_ttl > ONE_DAY else ONE_DAY
        maximum = self.max_ttl
        if maximum is None:
            top = max(default, self.min_ttl)
            maximum = top if top > ONE_YEAR else ONE_YEAR
        return self.min_ttl, default, maximum


class CachePolicy(CfModel):
    id: str | None = Field(
        default=None, description="Optional id to reference the policy by (else use its Name)."
    )
    cache_policy_config: CachePolicyConfig = Field(description="The policy.")


# --- origin request policy ---------------------------------------------------------------------

OriginHeaderBehavior = Literal[
    "none", "whitelist", "allViewer", "allViewerAndWhitelistCloudFront", "allExcept"
]


class OriginRequestPolicyHeadersConfig(CfModel):
    header_behavior: OriginHeaderBehavior = Field(
        default="none",
        description="`none`, `whitelist`, `allViewer`, `allViewerAndWhitelistCloudFront` "
        "(all viewer headers plus the listed `CloudFront-*` headers) or `allExcept`.",
    )
    headers: CfList[str] = Field(
        default=(),
        description="Header names for `whitelist`, `allViewerAndWhitelistCloudFront`, "
        "`allExcept` (at most 30).",
    )

    @model_validator(mode="after")
    def _check(self) -> OriginRequestPolicyHeadersConfig:
        needs = {"whitelist", "allViewerAndWhitelistCloudFront", "allExcept"}
        _behavior_names(self.header_behavior, self.headers, needs, "Headers")
        _names_ok(self.headers, "headers", NAME_QUOTA_ORIGIN_REQUEST, token=True)
        if self.header_behavior == "allViewerAndWhitelistCloudFront":
            bad = [h for h in self.headers if not h.lower().startswith("cloudfront-")]
            if bad:
                raise ConfigPathError.at("Headers", f"{bad[0]!r} is not a CloudFront-* header")
        return self


class OriginRequestPolicyCookiesConfig(CfModel):
    cookie_behavior: Literal["none", "whitelist", "allExcept", "all"] = Field(
        default="none",
        description="`none`, `whitelist`, `allExcept` or `all` cookies go to the origin.",
    )
    cookies: CfList[str] = Field(
        default=(), description="Cookie names for `whitelist`/`allExcept` (at most 30)."
    )

    @model_validator(mode="after")
    def _check(self) -> OriginRequestPolicyCookiesConfig:
        _behavior_names(self.cookie_behavior, self.cookies, {"whitelist", "allExcept"}, "Cookies")
        _names_ok(self.cookies, "cookies", NAME_QUOTA_ORIGIN_REQUEST, token=True)
        return self


class OriginRequestPolicyQueryStringsConfig(CfModel):
    query_string_behavior: Literal["none", "whitelist", "allExcept", "all"] = Field(
        default="none",
        description="`none`, `whitelist`, `allExcept` or `all` query strings go to the origin.",
    )
    query_strings: CfList[str] = Field(
        default=(), description="Query-string names for `whitelist`/`allExcept` (at most 30)."
    )

    @model_validator(mode="after")
    def _check(self) -> OriginRequestPolicyQueryStringsConfig:
        _behavior_names(self.query_string_behavior, self.query_strings, _LISTED, "QueryStrings")
        _names_ok(self.query_strings, "query strings", NAME_QUOTA_ORIGIN_REQUEST, token=False)
        return self


class OriginRequestPolicyConfig(CfModel):
    name: str = Field(description="Unique name (letters, digits, `-`, `_`; at most 128).")
    comment: str = Field(default="", description="Free text.")
    headers_config: OriginRequestPolicyHeadersConfig = Field(
        default=OriginRequestPolicyHeadersConfig(), description="Headers forwarded, not in the key."
    )
    cookies_config: OriginRequestPolicyCookiesConfig = Field(
        default=OriginRequestPolicyCookiesConfig(), description="Cookies forwarded, not in the key."
    )
    query_strings_config: OriginRequestPolicyQueryStringsConfig = Field(
        default=OriginRequestPolicyQueryStringsConfig(),
        description="Query strings forwarded, not in the key.",
    )

    @model_validator(mode="after")
    def _check(self) -> OriginRequestPolicyConfig:
        if not _POLICY_NAME.match(self.name):
            raise ConfigPathError.at("Name", "use letters, digits, '-' and '_' (1-128)")
        _total_chars(
            self.headers_config.headers,
            self.cookies_config.cookies,
            self.query_strings_config.query_strings,
        )
        return self


class OriginRequestPolicy(CfModel):
    id: str | None = Field(
        default=None, description="Optional id to reference the policy by (else use its Name)."
    )
    origin_request_policy_config: OriginRequestPolicyConfig = Field(description="The policy.")
