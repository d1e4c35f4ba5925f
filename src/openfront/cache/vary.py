"""Vary: which request fields select among stored responses (RFC 9111 §4.1)."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def vary_names(vary: str | None) -> tuple[str, ...] | None:
    """Lower-case, sorted, deduplicated field names; None when Vary contains ``*``."""
    if not vary:
        return ()
    names: set[str] = set()
    for item in vary.split(","):
        name = item.strip().lower()
        if name == "*":
            return None
        if name:
            names.add(name)
    return tuple(sorted(names))


def _normalise(value: str | None) -> str:
    if not value:
        return ""
    # RFC 9111 §4.1 lets a cache normalise whitespace before comparing.
    return " ".join(value.split())


def vary_values(names: Sequence[str], header: Callable[[str], str | None]) -> tuple[str, ...]:
    """The request's normalised values for ``names`` (missing fields give "")."""
    return tuple(_normalise(header(name)) for name in names)


def secondary_key(primary: bytes, names: Sequence[str], values: Sequence[str]) -> bytes:
    """Extend a primary cache key with the Vary-selected request values."""
    if len(names) != len(values):
        raise ValueError(f"{len(names)} Vary names but {len(values)} values")
    if not names:
        return primary
    fields = [f"V{name}={value}" for name, value in zip(names, values, strict=True)]
    joined = "\x00".join(fields)
    if joined.count("\x00") != len(fields) - 1:
        raise ValueError("a Vary-selected request field contains a NUL character")
    return primary + b"\x00" + joined.encode("utf-8", "surrogatepass")
