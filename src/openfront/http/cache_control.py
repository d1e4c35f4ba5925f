"""Cache-Control parsing (RFC 9111 §5.2) into a frozen value."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CacheControl:
    max_age: int | None = None
    s_maxage: int | None = None
    no_cache: bool = False
    no_cache_fields: tuple[str, ...] = ()
    no_store: bool = False
    private: bool = False
    private_fields: tuple[str, ...] = ()
    public: bool = False
    must_revalidate: bool = False
    proxy_revalidate: bool = False
    no_transform: bool = False
    immutable: bool = False
    stale_while_revalidate: int | None = None
    stale_if_error: int | None = None
    only_if_cached: bool = False
    max_stale: int | None = None
    min_fresh: int | None = None


EMPTY = CacheControl()

_DELTA_DIRECTIVES = frozenset(
    ("max-age", "s-maxage", "stale-while-revalidate", "stale-if-error", "max-stale", "min-fresh")
)
_FLAG_DIRECTIVES = frozenset(
    (
        "no-store",
        "public",
        "must-revalidate",
        "proxy-revalidate",
        "no-transform",
        "immutable",
        "only-if-cached",
        "no-cache",
        "private",
    )
)
# Delta-seconds past 2**31 are treated as 2**31 (RFC 9111 §1.2.2).
_DELTA_MAX = 2**31
# Ten digits already exceed _DELTA_MAX, so longer runs need no int() (which refuses > 4300 digits).
_DELTA = re.compile(r"[0-9]+", re.ASCII)

# One directive: a name up to "=" or ",", then an optional argument that is either a quoted
# string (an unterminated one runs to the end) or everything up to the next ",".
_DIRECTIVE = re.compile(
    r'[ \t]*([^=,]*)(?:=[ \t]*(?:"((?:[^"\\]|\\.)*)(?:"[^,]*)?|([^,]*)))?,?', re.DOTALL
)
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)


def _directives(value: str) -> list[tuple[str, str | None]]:
    """Directive names (lower-cased) with their unquoted arguments, in order."""
    out: list[tuple[str, str | None]] = []
    for m in _DIRECTIVE.finditer(value):
        name = m[1].strip().lower()
        if not name:
            continue
        quoted, token = m[2], m[3]
        if quoted is not None:
            out.append((name, _QUOTED_PAIR.sub(r"\1", quoted)))
        else:
            out.append((name, token.strip() if token is not None else None))
    return out


def _delta(arg: str | None) -> int | None:
    if arg is None or _DELTA.fullmatch(arg) is None:
        return None
    return min(int(arg), _DELTA_MAX) if len(arg) <= 10 else _DELTA_MAX


def _qualifying_fields(directives: list[tuple[str, str | None]], name: str) -> tuple[str, ...]:
    """Field names of ``no-cache="..."``/``private="..."``, lower-cased (RFC 9111 §5.2.2.4, .7).

    An unqualified occurrence applies to the whole response, so it wins over any field list.
    """
    fields: list[str] = []
    for n, arg in directives:
        if n != name:
            continue
        if not arg or not arg.strip(" \t,"):
            return ()
        fields.extend(f.strip().lower() for f in arg.split(",") if f.strip())
    return tuple(dict.fromkeys(fields))


def _deltas(directives: list[tuple[str, str | None]]) -> dict[str, int]:
    """First occurrence wins (RFC 9111 §4.2.1); invalid freshness values mean stale.

    An invalid max-age/s-maxage (e.g. ``max-age=abc``) is recorded as 0, so the response is
    treated as stale rather than fresh for an unknown time. ``max-stale`` without a value accepts
    any staleness. Other invalid values are ignored.
    """
    out: dict[str, int] = {}
    for name, arg in directives:
        if name not in _DELTA_DIRECTIVES or name in out:
            continue
        d = _delta(arg)
        if d is None:
            if name in ("max-age", "s-maxage"):
                d = 0
            elif name == "max-stale" and arg is None:
                d = _DELTA_MAX
            else:
                continue
        out[name] = d
    return out


def parse_cache_control(value: str | None) -> CacheControl:
    """Parse one or more comma-joined Cache-Control field values (RFC 9111 §5.2); never raises."""
    if not value:
        return EMPTY
    directives = _directives(value)
    if not directives:
        return EMPTY
    deltas = _deltas(directives)
    flags = {name for name, _ in directives if name in _FLAG_DIRECTIVES}
    no_cache = "no-cache" in flags
    private = "private" in flags
    no_cache_fields = _qualifying_fields(directives, "no-cache") if no_cache else ()
    private_fields = _qualifying_fields(directives, "private") if private else ()
    return CacheControl(
        max_age=deltas.get("max-age"),
        s_maxage=deltas.get("s-maxage"),
        no_cache=no_cache,
        no_cache_fields=no_cache_fields,
        no_store="no-store" in flags,
        private=private,
        private_fields=private_fields,
        public="public" in flags,
        must_revalidate="must-revalidate" in flags,
        proxy_revalidate="proxy-revalidate" in flags,
        no_transform="no-transform" in flags,
        immutable="immutable" in flags,
        stale_while_revalidate=deltas.get("stale-while-revalidate"),
        stale_if_error=deltas.get("stale-if-error"),
        only_if_cached="only-if-cached" in flags,
        max_stale=deltas.get("max-stale"),
        min_fresh=deltas.get("min-fresh"),
    )
