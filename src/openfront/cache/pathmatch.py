"""CloudFront path patterns and cache-behavior selection (guide §1.1)."""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

from openfront.cache.policy import Behavior, Distribution

MAX_PATTERN_LENGTH = 255
# CloudFront's documented character set, plus the two wildcards.
_ALLOWED_CHARS = frozenset(string.ascii_letters + string.digits + "_-.*$/~\"'@:+&?")


def validate_path_pattern(pattern: str) -> str | None:
    """Return why ``pattern`` is not a valid CloudFront path pattern, or None when it is."""
    if not pattern:
        return "path pattern is empty"
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"path pattern is {len(pattern)} characters long; the limit is {MAX_PATTERN_LENGTH}"
    bad = sorted({c for c in pattern if c not in _ALLOWED_CHARS})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        return f"path pattern {pattern!r} contains characters that are not allowed: {shown}"
    return None


def _strip_slash(s: str) -> str:
    return s[1:] if s.startswith("/") else s


def _pattern_regex(body: str) -> re.Pattern[str]:
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in body]
    return re.compile("".join(parts), re.DOTALL)


class PathPattern:
    """One compiled path pattern: ``*`` is any run (including ``/``), ``?`` one character.

    Matching is case-sensitive, against the whole path, and one leading ``/`` is optional on both
    sides. Common shapes (``*``, a literal, ``prefix*``, ``*suffix``) skip the regex engine.
    """

    __slots__ = ("_literal", "_prefix", "_regex", "_suffix", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        body = _strip_slash(pattern)
        self._literal: str | None = None
        self._prefix: str | None = None
        self._suffix: str | None = None
        self._regex: re.Pattern[str] | None = None
        inner = body[1:-1] if len(body) >= 2 else ""
        if "?" in body:
            self._regex = _pattern_regex(body)
        elif "*" not in body:
            self._literal = body
        elif body.endswith("*") and "*" not in body[:-1]:
            self._prefix = body[:-1]
        elif body.startswith("*") and "*" not in body[1:]:
            self._suffix = body[1:]
        elif body.startswith("*") and body.endswith("*") and not inner.strip("*"):
            self._prefix = ""  # only stars: matches everything
        else:
            self._regex = _pattern_regex(body)

    def matches(self, path: str) -> bool:
        if path.startswith("/"):
            path = path[1:]
        if self._prefix is not None:
            return path.startswith(self._prefix)
        if self._literal is not None:
            return path == self._literal
        if self._suffix is not None:
            return path.endswith(self._suffix)
        assert self._regex is not None
        return self._regex.fullmatch(path) is not None

    def __repr__(self) -> str:
        return f"PathPattern({self.pattern!r})"


class BehaviorSelector:
    """Pick the cache behavior for a path: the first matching pattern wins, the default is last."""

    __slots__ = ("_compiled", "default")

    def __init__(self, behaviors: Sequence[Behavior], default: Behavior) -> None:
        self._compiled = tuple((PathPattern(b.path_pattern), b) for b in behaviors)
        self.default = default

    @classmethod
    def for_distribution(cls, dist: Distribution) -> BehaviorSelector:
        return cls(dist.behaviors, dist.default_behavior)

    def select(self, path: str) -> Behavior:
        for pattern, behavior in self._compiled:
            if pattern.matches(path):
                return behavior
        return self.default
