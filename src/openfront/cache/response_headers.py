"""Response headers policies at run time: what a behavior does to the headers viewers get.

A response is edited in two parts. The static part depends only on the stored (or origin) header
list and the policy: removals first, then security and custom headers with their override rule,
then `Server`/`Vary`. The edge memoises it per stored head. The per-request part is what depends
on the viewer: CORS headers for an allowed Origin, `Date` when the policy removed the origin's,
and `Server-Timing` (guide §1.5).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Fields = tuple[tuple[str, str], ...]
CacheState = Literal["hit", "refresh", "miss"]

ALLOW_ORIGIN = "Access-Control-Allow-Origin"
ALLOW_CREDENTIALS = "Access-Control-Allow-Credentials"
EXPOSE_HEADERS = "Access-Control-Expose-Headers"
ALLOW_METHODS = "Access-Control-Allow-Methods"
ALLOW_HEADERS = "Access-Control-Allow-Headers"
MAX_AGE = "Access-Control-Max-Age"
CORS_HEADERS = (
    ALLOW_ORIGIN,
    ALLOW_CREDENTIALS,
    EXPOSE_HEADERS,
    ALLOW_METHODS,
    ALLOW_HEADERS,
    MAX_AGE,
)
SERVER = "CloudFront"  # the Server value CloudFront sends when a policy removed the origin's
# Fields an edge-made answer (error page, preflight) already has: policy headers never repeat them.
_GENERATED_BASE = frozenset({"server", "date", "content-type", "content-length", "location"})


@dataclass(frozen=True, slots=True)
class Cors:
    """ResponseHeadersPolicyCorsConfig. Allowed origins are lower-case; methods are expanded."""

    allow_origins: tuple[str, ...]
    allow_headers: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_credentials: bool = False
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    origin_override: bool = False
    # (scheme or "", wildcard leftmost label, host[:port]) per allowed origin other than "*".
    patterns: tuple[tuple[str, bool, str], ...] = field(init=False, repr=False, compare=False)
    any_origin: bool = field(init=False, repr=False, compare=False)
    # The Access-Control-Allow-Origin value depends on the request's Origin: needs Vary: Origin.
    echoes: bool = field(init=False, repr=False, compare=False)
    owned: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        patterns = tuple(_pattern(o) for o in self.allow_origins if o != "*")
        any_origin = "*" in self.allow_origins
        set_ = object.__setattr__
        set_(self, "patterns", patterns)
        set_(self, "any_origin", any_origin)
        set_(self, "echoes", bool(patterns) or (any_origin and self.allow_credentials))
        owned = {ALLOW_ORIGIN.lower()}
        if self.allow_credentials:
            owned.add(ALLOW_CREDENTIALS.lower())
        if self.expose_headers:
            owned.add(EXPOSE_HEADERS.lower())
        set_(self, "owned", frozenset(owned))


@dataclass(frozen=True, slots=True)
class AddedHeader:
    """A security or custom header and its Override flag."""

    name: str
    value: str
    override: bool = False


@dataclass(frozen=True, slots=True)
class ResponseHeadersPolicy:
    name: str
    cors: Cors | None = None
    added: tuple[AddedHeader, ...] = ()  # security headers, then custom headers
    remove: frozenset[str] = frozenset()  # lower-case names
    server_timing: bool = False
    sampling_rate: float = 0.0  # percent
    # Lower-case names the policy puts on responses (for 304/412/416 answers).
    added_names: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = {h.name.lower() for h in self.added}
        if "server" in self.remove:
            names.add("server")
        object.__setattr__(self, "added_names", frozenset(names))


@dataclass(frozen=True, slots=True)
class Edit:
    """The static part of an edited response."""

    fields: Fields
    add_date: bool = False  # the policy removed the origin's Date: the edge sends its own
    origin_cors: frozenset[str] = frozenset()  # CORS fields the origin sent and keeps (lower)
    origin_timing: str | None = None  # the origin's Server-Timing, held back for the merge


@dataclass(slots=True, eq=False)
class EditedHead:
    """An Edit of one stored head under one policy, serialised: the memo on EntryMeta."""

    policy: ResponseHeadersPolicy
    source: object  # the EntryMeta headers tuple or head bytes it was made from (identity)
    edit: Edit
    wire: bytes  # edit.fields serialised
    head: bytes = b""  # status line + wire + Content-Length, filled on first full-body use


# --- the static part ----------------------------------------------------------------------------


def _has(fields: Iterable[tuple[str, str]], low: str) -> bool:
    return any(n.lower() == low for n, _ in fields)


def _without(fields: Iterable[tuple[str, str]], low: str) -> list[tuple[str, str]]:
    return [(n, v) for n, v in fields if n.lower() != low]


def edit_fields(policy: ResponseHeadersPolicy, fields: Sequence[tuple[str, str]]) -> Edit:
    """Apply removals, then the security and custom headers, to an origin's header list."""
    remove = policy.remove
    out = [(n, v) for n, v in fields if n.lower() not in remove] if remove else list(fields)
    removed_date = "date" in remove and _has(fields, "date")
    cors = policy.cors
    origin_cors: frozenset[str] = frozenset()
    if cors is not None:
        if cors.origin_override:
            out = [(n, v) for n, v in out if n.lower() not in cors.owned]
        else:
            origin_cors = frozenset(n.lower() for n, _ in out if n.lower() in cors.owned)
    for h in policy.added:
        low = h.name.lower()
        if h.override or not _has(out, low):
            out = _without(out, low)
            out.append((h.name, h.value))
    origin_timing = None
    if policy.server_timing:
        values = [v for n, v in out if n.lower() == "server-timing"]
        if values:
            origin_timing = ", ".join(values)
            out = _without(out, "server-timing")
    if "server" in remove and not _has(out, "server"):
        out.append(("Server", SERVER))
    if cors is not None and cors.echoes:
        out = _vary_origin(out)
    return Edit(
        tuple(out),
        add_date=removed_date and not _has(out, "date"),
        origin_cors=origin_cors,
        origin_timing=origin_timing,
    )


def _vary_origin(fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Add Origin to Vary (RFC 9110 §12.5.5), once, unless Vary is already `*`."""
    for i, (n, v) in enumerate(fields):
        if n.lower() == "vary":
            tokens = [t.strip().lower() for t in v.split(",")]
            if "*" in tokens or "origin" in tokens:
                return fields
            fields[i] = (n, f"{v}, Origin" if v.strip() else "Origin")
            return fields
    fields.append(("Vary", "Origin"))
    return fields


def generated_fields(policy: ResponseHeadersPolicy) -> Fields:
    """The static policy fields for an answer the edge makes itself (no origin fields)."""
    out = [(h.name, h.value) for h in policy.added if h.name.lower() not in _GENERATED_BASE]
    if policy.cors is not None and policy.cors.echoes:
        out.append(("Vary", "Origin"))
    return tuple(out)


# --- CORS ---------------------------------------------------------------------------------------


def _pattern(allowed: str) -> tuple[str, bool, str]:
    scheme, sep, rest = allowed.partition("://")
    if not sep:
        scheme, rest = "", allowed
    wildcard = rest.startswith("*.")
    return scheme, wildcard, rest[1:] if wildcard else rest  # ".example.org" for a wildcard


def origin_allowed(cors: Cors, origin: str) -> bool:
    """Whether a request's Origin is in the policy's AccessControlAllowOrigins."""
    if cors.any_origin:
        return True
    low = origin.lower()
    scheme, sep, hostport = low.partition("://")
    if not sep or not hostport or "/" in hostport:
        return False
    for want_scheme, wildcard, host in cors.patterns:
        if want_scheme and want_scheme != scheme:
            continue
        if wildcard:
            # "*.example.org" covers any subdomain, never example.org itself.
            if hostport.endswith(host) and len(hostport) > len(host):
                return True
        elif hostport == host:
            return True
    return False


def allow_origin_value(cors: Cors, origin: str) -> str | None:
    """The Access-Control-Allow-Origin value for this Origin, or None when it is not allowed."""
    if cors.any_origin and not cors.allow_credentials:
        return "*"
    return origin if origin_allowed(cors, origin) else None


def cors_fields(
    cors: Cors, origin: str | None, origin_cors: frozenset[str] = frozenset()
) -> Fields:
    """CORS fields for a response to a simple (non-preflight) request.

    ``origin_cors``: names the origin already sent and keeps (OriginOverride false).
    """
    if origin is None:
        return ()
    value = allow_origin_value(cors, origin)
    if value is None:
        return ()
    out = []
    if ALLOW_ORIGIN.lower() not in origin_cors:
        out.append((ALLOW_ORIGIN, value))
    if cors.allow_credentials and ALLOW_CREDENTIALS.lower() not in origin_cors:
        out.append((ALLOW_CREDENTIALS, "true"))
    if cors.expose_headers and EXPOSE_HEADERS.lower() not in origin_cors:
        out.append((EXPOSE_HEADERS, ", ".join(cors.expose_headers)))
    return tuple(out)


def is_preflight(method: str, origin: str | None, request_method: str | None) -> bool:
    """A CORS preflight: OPTIONS with Origin and Access-Control-Request-Method (Fetch §3.2.2)."""
    return method == "OPTIONS" and origin is not None and request_method is not None


def edge_preflight(
    cors: Cors,
    method: str,
    origin: str | None,
    request_method: str | None,
    request_headers: str | None,
) -> Fields | None:
    """The CORS fields when the edge answers this request as a preflight itself, else None.

    It does for a preflight from an allowed Origin when the policy names methods to allow;
    anything else goes to the origin like any request (a policy without methods, SimpleCORS,
    leaves preflights to the origin).
    """
    if not cors.allow_methods or origin is None or not is_preflight(method, origin, request_method):
        return None
    return preflight_fields(cors, origin, request_headers)


def preflight_fields(cors: Cors, origin: str, request_headers: str | None) -> Fields | None:
    """The CORS fields of a preflight the edge answers itself; None when Origin is not allowed."""
    value = allow_origin_value(cors, origin)
    if value is None:
        return None
    out = [(ALLOW_ORIGIN, value)]
    if cors.allow_credentials:
        out.append((ALLOW_CREDENTIALS, "true"))
    if cors.allow_methods:
        out.append((ALLOW_METHODS, ", ".join(cors.allow_methods)))
    if cors.allow_headers:
        allowed = ", ".join(cors.allow_headers)
        if allowed == "*" and cors.allow_credentials:
            # Browsers read "*" literally on credentialed requests: name what was asked for.
            allowed = (request_headers or "").strip()
        if allowed:
            out.append((ALLOW_HEADERS, allowed))
    if cors.max_age is not None:
        out.append((MAX_AGE, str(cors.max_age)))
    if cors.expose_headers:
        out.append((EXPOSE_HEADERS, ", ".join(cors.expose_headers)))
    return tuple(out)


# --- Server-Timing ------------------------------------------------------------------------------


def server_timing_wanted(policy: ResponseHeadersPolicy, pragma: str | None, rnd: float) -> bool:
    """Sampled (``rnd`` uniform in [0, 100)) or forced by ``Pragma: server-timing``."""
    if not policy.server_timing:
        return False
    if pragma is not None and "server-timing" in (t.strip().lower() for t in pragma.split(",")):
        return True
    return rnd < policy.sampling_rate


def _desc(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def server_timing_value(
    cache: CacheState,
    *,
    pop: str,
    request_id: str,
    downstream_ms: int,
    upstream_ms: tuple[int, int, int] | None = None,
    origin: str | None = None,
) -> str:
    """CloudFront's Server-Timing metrics, in its order.

    ``upstream_ms``: (dns, connect, first byte) of the origin request, when one was made and
    timed. ``origin``: the origin's own Server-Timing, kept on a miss only.
    """
    parts: list[str] = []
    if cache != "hit":
        parts.append('cdn-upstream-layer;desc="EDGE"')
        if upstream_ms is not None:
            dns, connect, fbl = upstream_ms
            parts += [
                f"cdn-upstream-dns;dur={dns}",
                f"cdn-upstream-connect;dur={connect}",
                f"cdn-upstream-fbl;dur={fbl}",
            ]
    parts.append(f"cdn-cache-{cache}")
    parts.append(f"cdn-pop;desc={_desc(pop)}")
    parts.append(f"cdn-rid;desc={_desc(request_id)}")
    if cache == "hit":
        parts.append('cdn-hit-layer;desc="EDGE"')
    parts.append(f"cdn-downstream-fbl;dur={max(downstream_ms, 0)}")
    if cache == "miss" and origin:
        parts.append(origin)
    return ",".join(parts)
