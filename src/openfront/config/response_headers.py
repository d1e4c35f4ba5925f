"""Response headers policies (CloudFront's ResponseHeadersPolicyConfig), and their compilation.

What a behavior adds to, overrides in or removes from every viewer response: CORS, security,
custom, removed and Server-Timing headers (guide §1.5). Keys and limits are CloudFront's; model
names are the API's type names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal, TypeVar

from pydantic import BeforeValidator, Field, model_validator

from openfront.cache import response_headers as rt
from openfront.config.policies import (
    CfList,
    CfModel,
    ConfigPathError,
    PathPart,
    check_quantity,
)

T = TypeVar("T")
Problems = list[tuple[tuple[PathPart, ...], str]]

MAX_CUSTOM_HEADERS = 10
MAX_NAME_CHARS = 256
MAX_VALUE_CHARS = 1783  # also the Content-Security-Policy limit
MAX_TOTAL_CHARS = 10_240  # all custom header names and values together

_POLICY_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_CTL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # tab is fine inside a value
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
# [scheme://][*.]host[:port]; the wildcard only as the leftmost label (guide §1.5).
_ALLOWED_ORIGIN = re.compile(
    rf"^([a-z][a-z0-9+.-]*://)?(\*\.)?({_LABEL}\.)*{_LABEL}(:[0-9]{{1,5}})?$", re.IGNORECASE
)
CORS_METHODS = ("GET", "DELETE", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")

# CloudFront refuses these in RemoveHeadersConfig [v CFDG understanding-response-headers-policies].
FORBIDDEN_REMOVE = frozenset(
    """connection content-encoding content-length expect host keep-alive proxy-authenticate
    proxy-authorization proxy-connection trailer transfer-encoding upgrade via warning
    x-accel-buffering x-accel-charset x-accel-limit-rate x-accel-redirect x-amzn-auth
    x-amzn-cf-billing x-amzn-cf-id x-amzn-cf-xff x-amzn-errortype x-amzn-fle-profile
    x-amzn-header-count x-amzn-header-order x-amzn-lambda-integration-tag x-amzn-requestid
    x-cache x-forwarded-proto x-real-ip""".split()
)
FORBIDDEN_REMOVE_PREFIXES = ("x-amz-cf-", "x-edge-")
# A policy cannot add what it cannot remove, nor the fields the edge writes on every response.
_FORBIDDEN_ADD = FORBIDDEN_REMOVE | {"age"}


def _forbidden_name(name: str, table: frozenset[str]) -> bool:
    low = name.lower()
    return low in table or low.startswith(FORBIDDEN_REMOVE_PREFIXES)


def _items(value: object) -> object:
    """{Items} alone means {Quantity, Items} (the API always sends both; people write less)."""
    if isinstance(value, Mapping) and "Quantity" not in value and set(value) == {"Items"}:
        items = value["Items"]
        return {"Quantity": len(items) if isinstance(items, list) else 0, "Items": items}
    return value


# Before-validators run last-first: _items, then CfList's {Quantity, Items} unwrapping.
ItemList = Annotated[CfList[T], BeforeValidator(_items)]


def _items_object(data: object) -> object:
    """A config object holding only Items: a plain list means Items; Quantity is checked."""
    if isinstance(data, list):
        return {"Items": data}
    if isinstance(data, Mapping) and "Quantity" in data:
        rest = {k: v for k, v in data.items() if k != "Quantity"}
        check_quantity(data["Quantity"], rest.get("Items"))
        return rest
    return data


def _names_problems(names: tuple[str, ...], key: str, *, wildcard: bool) -> Problems:
    problems: Problems = []
    seen: set[str] = set()
    for i, name in enumerate(names):
        if not (_TOKEN.match(name) or (wildcard and name == "*")):
            problems.append(((key, i), f"{name!r} is not a header name"))
        elif name.lower() in seen:
            problems.append(((key, i), f"{name!r} is listed twice"))
        seen.add(name.lower())
    return problems


# --- CORS ---------------------------------------------------------------------------------------


class ResponseHeadersPolicyCorsConfig(CfModel):
    """CORS headers: added to responses to CORS requests (those with an Origin the list allows)."""

    access_control_allow_origins: ItemList[str] = Field(
        description="Origins allowed: `*`, `https://www.example.com`, `www.example.com` (any "
        "scheme), or a wildcard leftmost label `https://*.example.com`. A plain list, `{Items}` "
        "or `{Quantity, Items}`."
    )
    access_control_allow_headers: ItemList[str] = Field(
        description="Header names for `Access-Control-Allow-Headers` on preflight responses, or "
        "`*`. May be empty."
    )
    access_control_allow_methods: ItemList[
        Literal["GET", "DELETE", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "ALL"]
    ] = Field(
        description="Methods for `Access-Control-Allow-Methods` on preflight responses: GET, "
        "DELETE, HEAD, OPTIONS, PATCH, POST, PUT, or ALL. With none, preflights go to the "
        "origin; with some, the edge answers them itself."
    )
    access_control_allow_credentials: bool = Field(
        description="Send `Access-Control-Allow-Credentials: true`. With an allowed origin `*`, "
        "the viewer's Origin is echoed instead of `*`, which browsers refuse with credentials."
    )
    access_control_expose_headers: ItemList[str] = Field(
        default=(), description="Header names for `Access-Control-Expose-Headers`, or `*`."
    )
    access_control_max_age_sec: int | None = Field(
        default=None,
        ge=0,
        description="Seconds for `Access-Control-Max-Age` on preflight responses.",
    )
    origin_override: bool = Field(
        description="`true`: the policy's CORS headers replace the origin's. `false`: an origin "
        "that sends one keeps its own."
    )

    @model_validator(mode="after")
    def _check(self) -> ResponseHeadersPolicyCorsConfig:
        problems: Problems = []
        origins = self.access_control_allow_origins
        if not origins:
            problems.append((("AccessControlAllowOrigins",), "at least one origin is needed"))
        for i, origin in enumerate(origins):
            if origin != "*" and not _ALLOWED_ORIGIN.match(origin):
                msg = (
                    f"{origin!r} is not an origin: use *, [scheme://]host[:port], with * only "
                    "as the leftmost label (*.example.org)"
                )
                problems.append((("AccessControlAllowOrigins", i), msg))
        if len({o.lower() for o in origins}) != len(origins):
            problems.append((("AccessControlAllowOrigins",), "an origin is listed twice"))
        headers = self.access_control_allow_headers
        problems += _names_problems(headers, "AccessControlAllowHeaders", wildcard=True)
        expose = self.access_control_expose_headers
        problems += _names_problems(expose, "AccessControlExposeHeaders", wildcard=True)
        methods = self.access_control_allow_methods
        if len(set(methods)) != len(methods):
            problems.append((("AccessControlAllowMethods",), "a method is listed twice"))
        if problems:
            raise ConfigPathError(problems)
        return self


# --- security headers ---------------------------------------------------------------------------

ReferrerPolicyValue = Literal[
    "no-referrer",
    "no-referrer-when-downgrade",
    "origin",
    "origin-when-cross-origin",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
    "unsafe-url",
]
_OVERRIDE = "`true`: replace the origin's value; `false`: keep the origin's when it sends one."


class ResponseHeadersPolicyXSSProtection(CfModel):
    override: bool = Field(description=_OVERRIDE)
    protection: bool = Field(description="`X-XSS-Protection: 1` (filter on) or `0` (off).")
    mode_block: bool = Field(default=False, description="Add `mode=block` (not with ReportUri).")
    report_uri: str | None = Field(
        default=None, description="Add `report=<uri>` (not with ModeBlock)."
    )

    @model_validator(mode="after")
    def _check(self) -> ResponseHeadersPolicyXSSProtection:
        if self.mode_block and self.report_uri is not None:
            raise ConfigPathError.at("ReportUri", "give ModeBlock or ReportUri, not both")
        if not self.protection and (self.mode_block or self.report_uri is not None):
            raise ConfigPathError.at("Protection", "ModeBlock and ReportUri need Protection true")
        uri = self.report_uri
        if uri is not None and (not uri or _CTL.search(uri) or ";" in uri or len(uri) > 1783):
            raise ConfigPathError.at("ReportUri", "not a usable URI")
        return self

    def value(self) -> str:
        if not self.protection:
            return "0"
        if self.mode_block:
            return "1; mode=block"
        return f"1; report={self.report_uri}" if self.report_uri else "1"


class ResponseHeadersPolicyFrameOptions(CfModel):
    override: bool = Field(description=_OVERRIDE)
    frame_option: Literal["DENY", "SAMEORIGIN"] = Field(
        description="`X-Frame-Options`: `DENY` or `SAMEORIGIN`."
    )


class ResponseHeadersPolicyReferrerPolicy(CfModel):
    override: bool = Field(description=_OVERRIDE)
    referrer_policy: ReferrerPolicyValue = Field(
        description="`Referrer-Policy`: no-referrer, no-referrer-when-downgrade, origin, "
        "origin-when-cross-origin, same-origin, strict-origin, strict-origin-when-cross-origin "
        "or unsafe-url."
    )


class ResponseHeadersPolicyContentSecurityPolicy(CfModel):
    override: bool = Field(description=_OVERRIDE)
    content_security_policy: str = Field(
        min_length=1,
        max_length=MAX_VALUE_CHARS,
        description="`Content-Security-Policy` value (at most 1783 characters).",
    )

    @model_validator(mode="after")
    def _check(self) -> ResponseHeadersPolicyContentSecurityPolicy:
        if _CTL.search(self.content_security_policy):
            raise ConfigPathError.at("ContentSecurityPolicy", "control characters not allowed")
        return self


class ResponseHeadersPolicyContentTypeOptions(CfModel):
    override: bool = Field(description=f"`X-Content-Type-Options: nosniff`. {_OVERRIDE}")


class ResponseHeadersPolicyStrictTransportSecurity(CfModel):
    override: bool = Field(description=_OVERRIDE)
    access_control_max_age_sec: int = Field(
        ge=0, description="`max-age` of `Strict-Transport-Security` (CloudFront's odd key name)."
    )
    include_subdomains: bool = Field(default=False, description="Add `includeSubDomains`.")
    preload: bool = Field(default=False, description="Add `preload`.")

    def value(self) -> str:
        out = f"max-age={self.access_control_max_age_sec}"
        if self.include_subdomains:
            out += "; includeSubDomains"
        return out + ("; preload" if self.preload else "")


class ResponseHeadersPolicySecurityHeadersConfig(CfModel):
    xss_protection: ResponseHeadersPolicyXSSProtection | None = Field(
        default=None, alias="XSSProtection", description="`X-XSS-Protection`."
    )
    frame_options: ResponseHeadersPolicyFrameOptions | None = Field(
        default=None, description="`X-Frame-Options`."
    )
    referrer_policy: ResponseHeadersPolicyReferrerPolicy | None = Field(
        default=None, description="`Referrer-Policy`."
    )
    content_security_policy: ResponseHeadersPolicyContentSecurityPolicy | None = Field(
        default=None, description="`Content-Security-Policy`."
    )
    content_type_options: ResponseHeadersPolicyContentTypeOptions | None = Field(
        default=None, description="`X-Content-Type-Options: nosniff`."
    )
    strict_transport_security: ResponseHeadersPolicyStrictTransportSecurity | None = Field(
        default=None, description="`Strict-Transport-Security`."
    )

    def headers(self) -> list[tuple[str, str, bool]]:
        """(name, value, override) of each configured header."""
        out: list[tuple[str, str, bool]] = []
        if self.content_security_policy is not None:
            c = self.content_security_policy
            out.append(("Content-Security-Policy", c.content_security_policy, c.override))
        if self.content_type_options is not None:
            out.append(("X-Content-Type-Options", "nosniff", self.content_type_options.override))
        if self.frame_options is not None:
            f = self.frame_options
            out.append(("X-Frame-Options", f.frame_option, f.override))
        if self.referrer_policy is not None:
            r = self.referrer_policy
            out.append(("Referrer-Policy", r.referrer_policy, r.override))
        if self.strict_transport_security is not None:
            s = self.strict_transport_security
            out.append(("Strict-Transport-Security", s.value(), s.override))
        if self.xss_protection is not None:
            x = self.xss_protection
            out.append(("X-XSS-Protection", x.value(), x.override))
        return out


# --- Server-Timing, custom and removed headers --------------------------------------------------


class ResponseHeadersPolicyServerTimingHeadersConfig(CfModel):
    enabled: bool = Field(description="Add CloudFront's `Server-Timing` metrics.")
    sampling_rate: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Percent of responses that get it, 0-100 with at most 4 decimals; needed "
        "when Enabled. A request with `Pragma: server-timing` always gets it.",
    )

    @model_validator(mode="after")
    def _check(self) -> ResponseHeadersPolicyServerTimingHeadersConfig:
        rate = self.sampling_rate
        if self.enabled and rate is None:
            raise ConfigPathError.at("SamplingRate", "needed when Enabled is true")
        if rate is not None:
            try:
                exponent = Decimal(repr(rate)).normalize().as_tuple().exponent
            except InvalidOperation:  # pragma: no cover - ge/le already refused nan and inf
                exponent = 0
            if isinstance(exponent, int) and exponent < -4:
                raise ConfigPathError.at("SamplingRate", "at most 4 decimal places")
        return self


class ResponseHeadersPolicyCustomHeader(CfModel):
    header: str = Field(description="Header name (at most 256 characters).")
    value: str = Field(description="Its value (at most 1783 characters; may be empty).")
    override: bool = Field(description=_OVERRIDE)

    @model_validator(mode="after")
    def _check(self) -> ResponseHeadersPolicyCustomHeader:
        if not _TOKEN.match(self.header) or len(self.header) > MAX_NAME_CHARS:
            raise ConfigPathError.at("Header", "not a header name of at most 256 characters")
        if _forbidden_name(self.header, _FORBIDDEN_ADD):
            raise ConfigPathError.at("Header", f"{self.header} cannot be set by a policy")
        if len(self.value) > MAX_VALUE_CHARS or _CTL.search(self.value):
            raise ConfigPathError.at("Value", "at most 1783 characters, no control characters")
        return self


class ResponseHeadersPolicyCustomHeadersConfig(CfModel):
    items: CfList[ResponseHeadersPolicyCustomHeader] = Field(
        description="At most 10 headers; names and values together at most 10,240 characters. "
        "A plain list here means Items."
    )

    @model_validator(mode="before")
    @classmethod
    def _accept_list(cls, data: object) -> object:
        return _items_object(data)

    @model_validator(mode="after")
    def _check(self) -> ResponseHeadersPolicyCustomHeadersConfig:
        if len(self.items) > MAX_CUSTOM_HEADERS:
            raise ConfigPathError.at("Items", f"at most 10 custom headers (got {len(self.items)})")
        total = sum(len(h.header) + len(h.value) for h in self.items)
        if total > MAX_TOTAL_CHARS:
            msg = f"names and values total {total} characters (at most 10240)"
            raise ConfigPathError.at("Items", msg)
        names = [h.header.lower() for h in self.items]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ConfigPathError([(("Items", i, "Header"), "a header is listed twice")])
        return self


class ResponseHeadersPolicyRemoveHeader(CfModel):
    header: str = Field(description="Header to remove from origin responses.")

    @model_validator(mode="before")
    @classmethod
    def _accept_str(cls, data: object) -> object:
        return {"Header": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _check(self) -> ResponseHeadersPolicyRemoveHeader:
        if not _TOKEN.match(self.header) or len(self.header) > MAX_NAME_CHARS:
            raise ConfigPathError.at("Header", "not a header name of at most 256 characters")
        if _forbidden_name(self.header, FORBIDDEN_REMOVE):
            raise ConfigPathError.at("Header", f"CloudFront does not remove {self.header}")
        return self


class ResponseHeadersPolicyRemoveHeadersConfig(CfModel):
    items: CfList[ResponseHeadersPolicyRemoveHeader] = Field(
        description="Headers removed before anything is added (plain names or {Header}). A plain "
        "list here means Items. Removing Server or Date makes the edge send its own."
    )

    @model_validator(mode="before")
    @classmethod
    def _accept_list(cls, data: object) -> object:
        return _items_object(data)

    @model_validator(mode="after")
    def _check(self) -> ResponseHeadersPolicyRemoveHeadersConfig:
        names = [h.header.lower() for h in self.items]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ConfigPathError([(("Items", i, "Header"), "a header is listed twice")])
        return self


# --- the policy ---------------------------------------------------------------------------------


class ResponseHeadersPolicyConfig(CfModel):
    name: str = Field(description="Unique name (letters, digits, `-`, `_`; at most 128).")
    comment: str = Field(default="", description="Free text.")
    cors_config: ResponseHeadersPolicyCorsConfig | None = Field(
        default=None, description="CORS headers, and preflights answered by the edge."
    )
    security_headers_config: ResponseHeadersPolicySecurityHeadersConfig | None = Field(
        default=None, description="Security headers."
    )
    server_timing_headers_config: ResponseHeadersPolicyServerTimingHeadersConfig | None = Field(
        default=None, description="CloudFront's `Server-Timing` header."
    )
    custom_headers_config: ResponseHeadersPolicyCustomHeadersConfig | None = Field(
        default=None, description="Headers of your own."
    )
    remove_headers_config: ResponseHeadersPolicyRemoveHeadersConfig | None = Field(
        default=None, description="Headers removed from origin responses."
    )

    @model_validator(mode="after")
    def _check(self) -> ResponseHeadersPolicyConfig:
        if not _POLICY_NAME.match(self.name):
            raise ConfigPathError.at("Name", "use letters, digits, '-' and '_' (1-128)")
        sections = (
            self.cors_config,
            self.security_headers_config,
            self.server_timing_headers_config,
            self.custom_headers_config,
            self.remove_headers_config,
        )
        if all(s is None for s in sections):
            raise ValueError("a response headers policy needs at least one *Config section")
        owned = {name.lower() for name, _, _ in self._security()}
        if self.server_timing_headers_config is not None:
            owned.add("server-timing")
        if self.cors_config is not None:
            owned |= {h.lower() for h in rt.CORS_HEADERS}
        custom = self.custom_headers_config.items if self.custom_headers_config else ()
        for i, h in enumerate(custom):
            if h.header.lower() in owned:
                where: tuple[PathPart, ...] = ("CustomHeadersConfig", "Items", i, "Header")
                msg = f"{h.header} is already set by another section of this policy"
                raise ConfigPathError([(where, msg)])
        return self

    def _security(self) -> list[tuple[str, str, bool]]:
        s = self.security_headers_config
        return s.headers() if s is not None else []


class ResponseHeadersPolicy(CfModel):
    id: str | None = Field(
        default=None, description="Optional id to reference the policy by (else use its Name)."
    )
    response_headers_policy_config: ResponseHeadersPolicyConfig = Field(description="The policy.")


# --- compile ------------------------------------------------------------------------------------


def compile_response_headers_policy(cfg: ResponseHeadersPolicyConfig) -> rt.ResponseHeadersPolicy:
    """The runtime form the edge applies (openfront.cache.response_headers)."""
    cors = None
    if cfg.cors_config is not None:
        c = cfg.cors_config
        methods = c.access_control_allow_methods
        cors = rt.Cors(
            allow_origins=tuple(o.lower() for o in c.access_control_allow_origins),
            allow_headers=c.access_control_allow_headers,
            allow_methods=CORS_METHODS if "ALL" in methods else tuple(methods),
            allow_credentials=c.access_control_allow_credentials,
            expose_headers=c.access_control_expose_headers,
            max_age=c.access_control_max_age_sec,
            origin_override=c.origin_override,
        )
    added = [rt.AddedHeader(n, v, o) for n, v, o in cfg._security()]
    if cfg.custom_headers_config is not None:
        added += [
            rt.AddedHeader(h.header, h.value, h.override) for h in cfg.custom_headers_config.items
        ]
    timing = cfg.server_timing_headers_config
    remove = cfg.remove_headers_config
    return rt.ResponseHeadersPolicy(
        name=cfg.name,
        cors=cors,
        added=tuple(added),
        remove=frozenset(h.header.lower() for h in remove.items) if remove else frozenset(),
        server_timing=timing is not None and timing.enabled,
        sampling_rate=(timing.sampling_rate or 0.0) if timing is not None else 0.0,
    )
