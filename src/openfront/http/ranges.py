"""Byte range requests (RFC 9110 §14) with CloudFront's rules for odd Range headers.

CloudFront answers 200 with the whole object, rather than 206 or 416, when a Range header has
ranges out of ascending order, overlapping ranges, or an invalid part; ``IgnoreRange`` says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

DEFAULT_MAX_RANGES = 50
# 19 digits cover every int64 length; longer numbers are nonsense, and int() of a huge digit
# string is slow (and refused past 4300 digits).
_MAX_DIGITS = 19

_SPEC = re.compile(r"([0-9]{1,19})-([0-9]{0,19})|-([0-9]{1,19})", re.ASCII)
# RFC 2046 §5.1.1: 1 to 70 bchars, not ending in a space.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]", re.ASCII)
_UNSAFE_FIELD_CHARS = re.compile(r"[\r\n\x00]")


@dataclass(frozen=True, slots=True)
class ByteRanges:
    """Satisfiable ranges, ascending and disjoint, as inclusive (first, last) within the body."""

    ranges: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Unsatisfiable:
    """No range overlaps the body: answer 416 with ``Content-Range: bytes */size``."""


@dataclass(frozen=True, slots=True)
class IgnoreRange:
    """Serve the whole body with 200, as if there were no Range header."""

    reason: str = ""


RangeResult = ByteRanges | Unsatisfiable | IgnoreRange


def parse_range(value: str, size: int, *, max_ranges: int = DEFAULT_MAX_RANGES) -> RangeResult:
    """Evaluate a Range header against a body of ``size`` bytes (RFC 9110 §14.1-14.2).

    Empty list elements (``bytes=0-1,,5-9``) are skipped as RFC 9110 §5.6.1.2 asks. A body of
    size 0 makes every valid range Unsatisfiable, suffix ranges included: RFC 9110 calls a
    non-zero suffix satisfiable, but no Content-Range can describe a part of nothing.
    """
    unit, eq, range_set = value.strip().partition("=")
    if not eq or unit.strip().lower() != "bytes":
        return IgnoreRange("not a bytes range")
    specs = [s for s in (p.strip(" \t") for p in range_set.split(",")) if s]
    if not specs:
        return IgnoreRange("empty range set")
    if len(specs) > max_ranges:
        return IgnoreRange("too many ranges")
    wanted: list[tuple[int, int]] = []
    for spec in specs:
        bounds = _spec_bounds(spec, size)
        if bounds is None:
            return IgnoreRange(f"invalid range {spec[:40]!r}")
        if bounds[0] <= bounds[1]:
            wanted.append(bounds)
    if any(b[0] <= a[1] for a, b in pairwise(wanted)):
        return IgnoreRange("ranges overlap or are out of order")
    kept = tuple((first, min(last, size - 1)) for first, last in wanted if first < size)
    return ByteRanges(kept) if kept else Unsatisfiable()


def _spec_bounds(spec: str, size: int) -> tuple[int, int] | None:
    """(first, last) before clamping, None when invalid; first > last for an empty suffix."""
    m = _SPEC.fullmatch(spec)
    if m is None:
        return None
    first, last, suffix = m.groups()
    if suffix is not None:
        n = int(suffix)
        return (max(size - n, 0), size - 1) if n else (size, size - 1)
    lo = int(first)
    hi = int(last) if last else max(size - 1, lo)
    return (lo, hi) if hi >= lo else None


def content_range(first: int, last: int, size: int) -> str:
    """``Content-Range`` of a 206 part (RFC 9110 §14.4)."""
    return f"bytes {first}-{last}/{size}"


def unsatisfied_content_range(size: int) -> str:
    """``Content-Range`` of a 416 (RFC 9110 §14.4)."""
    return f"bytes */{size}"


@dataclass(frozen=True, slots=True)
class MultipartPlan:
    """A multipart/byteranges body (RFC 9110 §14.6): write each part header then its bytes.

    ``parts`` holds (header bytes, first, last); after the last part comes ``closing``.
    """

    parts: tuple[tuple[bytes, int, int], ...]
    closing: bytes
    content_length: int
    content_type: str


def multipart_plan(
    ranges: Sequence[tuple[int, int]], size: int, content_type: str | None, boundary: str
) -> MultipartPlan:
    """Lay out a multipart/byteranges body for ``ranges`` of a ``size``-byte representation."""
    if _BOUNDARY.fullmatch(boundary) is None:
        raise ValueError(f"invalid multipart boundary {boundary!r}")
    if content_type is not None and _UNSAFE_FIELD_CHARS.search(content_type):
        raise ValueError(f"content type contains CR, LF or NUL: {content_type!r}")
    _check_ranges(ranges, size)
    type_line = b"" if content_type is None else b"Content-Type: %s\r\n" % _latin1(content_type)
    delimiter = b"\r\n--" + boundary.encode("ascii") + b"\r\n"
    parts = tuple(
        (
            b"%s%sContent-Range: %s\r\n\r\n"
            % (delimiter, type_line, content_range(first, last, size).encode("ascii")),
            first,
            last,
        )
        for first, last in ranges
    )
    closing = b"\r\n--" + boundary.encode("ascii") + b"--\r\n"
    length = sum(len(h) + last - first + 1 for h, first, last in parts) + len(closing)
    return MultipartPlan(parts, closing, length, f"multipart/byteranges; boundary={boundary}")


def _check_ranges(ranges: Sequence[tuple[int, int]], size: int) -> None:
    if not ranges:
        raise ValueError("a multipart/byteranges body needs at least one range")
    previous_last = -1
    for first, last in ranges:
        if not previous_last < first <= last < size:
            raise ValueError(f"range {first}-{last} is not ascending within a {size}-byte body")
        previous_last = last


def _latin1(text: str) -> bytes:
    # Field values arrive decoded as latin-1, so this round-trips them byte for byte.
    return text.encode("latin-1", errors="replace")
