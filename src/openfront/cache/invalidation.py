"""Invalidation paths (guide §1.14): exact paths and trailing-``*`` prefixes."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence

MAX_INVALIDATION_PATH_LENGTH = 4000


def validate_invalidation_path(path: str) -> str | None:
    """Return why ``path`` is not a valid invalidation path, or None when it is."""
    if not path.startswith("/"):
        return f"invalidation path {path[:80]!r} must start with '/'"
    if len(path) > MAX_INVALIDATION_PATH_LENGTH:
        return (
            f"invalidation path is {len(path)} characters long; "
            f"the limit is {MAX_INVALIDATION_PATH_LENGTH}"
        )
    star = path.find("*")
    if star != -1 and star != len(path) - 1:
        return f"invalidation path {path[:80]!r} has '*' before its last character"
    if not path.isascii() or not path.isprintable() or " " in path:
        # Stored URLs are request targets as sent, so only a percent-encoded path can match.
        return (
            f"invalidation path {path[:80]!r} must be percent-encoded "
            "(no spaces, control characters or non-ASCII)"
        )
    return None


def _prefix_free(prefixes: Iterable[str]) -> list[str]:
    """Sorted prefixes without those another prefix already covers."""
    out: list[str] = []
    for p in sorted(set(prefixes)):
        if not out or not p.startswith(out[-1]):
            out.append(p)
    return out


class InvalidationMatcher:
    """Does a stored URL (path or path?query) fall under any of a batch of invalidation paths?

    Exact paths sit in a set. Wildcard prefixes are kept sorted and prefix-free, so the only
    prefix that can match a URL is the greatest one not after it: one bisect per lookup.
    """

    __slots__ = ("_exact", "_prefixes")

    def __init__(self, paths: Sequence[str]) -> None:
        self._exact = frozenset(p for p in paths if not p.endswith("*"))
        self._prefixes = _prefix_free(p[:-1] for p in paths if p.endswith("*"))

    def matches(self, url: str) -> bool:
        if url in self._exact:
            return True
        i = bisect_right(self._prefixes, url)
        return i > 0 and url.startswith(self._prefixes[i - 1])

    def __bool__(self) -> bool:
        return bool(self._exact or self._prefixes)
