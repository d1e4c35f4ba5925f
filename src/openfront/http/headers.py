"""Header field helpers: lists, hop-by-hop fields, tokens, cookies and raw query strings."""

from __future__ import annotations

import re
from collections.abc import Iterable

# RFC 9110 §7.6.1 plus the legacy fields proxies still see (keep-alive, proxy-connection).
HOP_BY_HOP: frozenset[str] = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-authenticate",
        "proxy-authorization",
    )
)

# One list element: quoted strings (with quoted-pairs) kept whole, so commas inside them stay.
_LIST_ELEMENT = re.compile(r'(?:[^,"]|"(?:[^"\\]|\\.?)*"?)+', re.DOTALL)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", re.ASCII)
_UNSAFE_VALUE_BYTES = re.compile(rb"[\r\n\x00]")
_OWS = " \t"

QueryParam = tuple[str, str | None]


def split_comma(value: str) -> list[str]:
    """Elements of a comma-separated list (RFC 9110 §5.6.1), OWS stripped, empties dropped."""
    out: list[str] = []
    for m in _LIST_ELEMENT.finditer(value):
        element = m[0].strip(_OWS)
        if element:
            out.append(element)
    return out


def connection_tokens(value: str | None) -> frozenset[str]:
    """Lower-cased field names listed in Connection: hop-by-hop as well (RFC 9110 §7.6.1)."""
    if not value:
        return frozenset()
    return frozenset(t.lower() for t in split_comma(value) if is_token(t))


def is_token(s: str) -> bool:
    """Whether ``s`` is a non-empty run of tchar (RFC 9110 §5.6.2)."""
    return _TOKEN.fullmatch(s) is not None


def valid_field_value(v: bytes) -> bool:
    """No CR, LF or NUL, the characters that split or truncate a header (RFC 9110 §5.5)."""
    return _UNSAFE_VALUE_BYTES.search(v) is None


def first_value(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of the lower-case field ``name`` in a list of (name, value) pairs."""
    for n, v in headers:
        if n.lower() == name:
            return v
    return None


def combined_value(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """All values of the lower-case field ``name`` joined with ", " (RFC 9110 §5.3)."""
    values = [v for n, v in headers if n.lower() == name]
    return ", ".join(values) if values else None


def parse_cookie_header(value: str) -> list[tuple[str, str]]:
    """Cookie pairs in order; names and values as sent (case kept, quotes kept).

    Pieces without ``=`` or with an empty name are dropped (RFC 6265 §5.2 drops them too).
    """
    pairs: list[tuple[str, str]] = []
    for piece in value.split(";"):
        name, eq, val = piece.partition("=")
        name = name.strip(_OWS)
        if eq and name:
            pairs.append((name, val.strip(_OWS)))
    return pairs


def parse_query(query: str) -> list[QueryParam]:
    """Raw query parameters in order, split only on ``&`` as CloudFront does; no decoding.

    The value is None when a piece has no ``=`` at all (``a`` rather than ``a=``), so
    ``join_query(parse_query(q)) == q`` for every ``q``; empty pieces are kept for the same reason.
    """
    if not query:
        return []
    pairs: list[QueryParam] = []
    for piece in query.split("&"):
        name, eq, val = piece.partition("=")
        pairs.append((name, val if eq else None))
    return pairs


def join_query(pairs: Iterable[QueryParam]) -> str:
    """The inverse of ``parse_query``: pieces joined with ``&``, in the given order."""
    return "&".join(name if val is None else f"{name}={val}" for name, val in pairs)
