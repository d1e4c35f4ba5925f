"""Byte ranges (RFC 9110 §14) with CloudFront's handling of odd Range headers."""

from __future__ import annotations

import email.parser
import email.policy
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openfront.http.ranges import (
    ByteRanges,
    IgnoreRange,
    MultipartPlan,
    RangeResult,
    Unsatisfiable,
    content_range,
    multipart_plan,
    parse_range,
    unsatisfied_content_range,
)

FUZZ = settings(deadline=None, max_examples=200)


def ranges(*pairs: tuple[int, int]) -> ByteRanges:
    return ByteRanges(pairs)


@pytest.mark.parametrize(
    ("value", "size", "expected"),
    [
        # RFC 9110 §14.1.2 examples on a 10000-byte representation.
        ("bytes=0-499", 10000, ranges((0, 499))),
        ("bytes=500-999", 10000, ranges((500, 999))),
        ("bytes=-500", 10000, ranges((9500, 9999))),
        ("bytes=9500-", 10000, ranges((9500, 9999))),
        ("bytes=0-0,-1", 10000, ranges((0, 0), (9999, 9999))),
        ("bytes=500-600,601-999", 10000, ranges((500, 600), (601, 999))),
        # Clamping to the body.
        ("bytes=0-99999", 1000, ranges((0, 999))),
        ("bytes=-5000", 1000, ranges((0, 999))),
        ("bytes=999-", 1000, ranges((999, 999))),
        ("bytes=999-999", 1000, ranges((999, 999))),
        # Unit and whitespace.
        ("BYTES=0-1", 10, ranges((0, 1))),
        ("Bytes=0-1", 10, ranges((0, 1))),
        ("bytes=0-1 , 3-4,\t6-7", 10, ranges((0, 1), (3, 4), (6, 7))),
        ("  bytes=0-1  ", 10, ranges((0, 1))),
        # Empty list elements are skipped (RFC 9110 §5.6.1.2).
        ("bytes=0-1,,3-4,", 10, ranges((0, 1), (3, 4))),
        ("bytes=,0-1", 10, ranges((0, 1))),
        # Unsatisfiable parts drop out; the satisfiable ones stay.
        ("bytes=0-1,2000-3000", 1000, ranges((0, 1))),
        ("bytes=0-1,-0", 1000, ranges((0, 1))),
        ("bytes=0-1,5000-", 1000, ranges((0, 1))),
        # Adjacent is neither overlapping nor out of order.
        ("bytes=0-99,100-199", 1000, ranges((0, 99), (100, 199))),
        ("bytes=0-0000000000000000009", 100, ranges((0, 9))),  # 19 digits is fine
    ],
)
def test_satisfiable(value: str, size: int, expected: ByteRanges) -> None:
    assert parse_range(value, size) == expected


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ("bytes=1000-", 1000),
        ("bytes=1000-2000", 1000),
        ("bytes=5000-6000,7000-", 1000),
        ("bytes=-0", 1000),  # a zero-length suffix selects nothing (RFC 9110 §14.1.1)
        ("bytes=-0,-0", 1000),
        # A zero-length body satisfies no range, suffix ranges included (documented choice).
        ("bytes=0-", 0),
        ("bytes=0-0", 0),
        ("bytes=-1", 0),
        ("bytes=-500", 0),
        ("bytes=0-1,5-6", 0),
    ],
)
def test_unsatisfiable(value: str, size: int) -> None:
    assert parse_range(value, size) == Unsatisfiable()


@pytest.mark.parametrize(
    ("value", "size"),
    [
        # CloudFront: out of ascending order, overlapping, invalid parts -> 200 full body.
        ("bytes=300-400,100-200", 1000),
        ("bytes=100-200,150-250", 1000),
        ("bytes=100-200,200-300", 1000),  # shares byte 200
        ("bytes=0-10,0-10", 1000),
        ("bytes=-5,0-10", 1000),  # the suffix lies after 0-10
        ("bytes=990-,-20", 1000),
        ("bytes=2000-3000,0-5", 1000),  # order is judged before satisfiability
        ("bytes=0-2000,500-600", 1000),
        ("bytes=-1-5", 1000),  # negative
        ("bytes=--5", 1000),
        ("bytes=5-1", 1000),  # last < first
        ("bytes=0-1,5-1", 1000),
        ("bytes=a-b", 1000),
        ("bytes=1-b", 1000),
        ("bytes=0x10-20", 1000),
        ("bytes=+1-2", 1000),
        ("bytes=1.5-2", 1000),
        ("bytes=١-٢", 1000),  # non-ASCII digits
        ("bytes=-", 1000),
        ("bytes=", 1000),
        ("bytes=,,", 1000),
        ("bytes= 0 - 1", 1000),  # no whitespace inside a range-spec
        ("bytes=0-1;2-3", 1000),
        ("bytes 0-1", 1000),
        ("bytes", 1000),
        ("", 1000),
        ("=0-1", 1000),
        ("items=0-1", 1000),  # unknown unit
        ("bytes=0-" + "9" * 20, 1000),  # longer than 19 digits
        ("bytes=" + "1" * 5000 + "-", 1000),
        ("bytes=-" + "9" * 5000, 1000),
        # Syntax errors win over an empty body.
        ("bytes=5-1", 0),
    ],
)
def test_ignored(value: str, size: int) -> None:
    assert isinstance(parse_range(value, size), IgnoreRange)


def test_more_than_max_ranges_is_ignored() -> None:
    spec = ",".join(f"{i * 10}-{i * 10 + 1}" for i in range(51))
    assert isinstance(parse_range("bytes=" + spec, 10_000), IgnoreRange)
    kept = parse_range("bytes=" + spec, 10_000, max_ranges=51)
    assert isinstance(kept, ByteRanges) and len(kept.ranges) == 51
    assert isinstance(parse_range("bytes=0-1,3-4", 10, max_ranges=1), IgnoreRange)


def test_default_allows_fifty_ranges() -> None:
    spec = ",".join(f"{i * 10}-{i * 10 + 1}" for i in range(50))
    result = parse_range("bytes=" + spec, 10_000)
    assert isinstance(result, ByteRanges) and len(result.ranges) == 50


def test_huge_header_is_rejected_quickly() -> None:
    assert isinstance(parse_range("bytes=" + "0-1," * 100_000, 10), IgnoreRange)


def test_ignore_range_says_why() -> None:
    result = parse_range("bytes=300-400,100-200", 1000)
    assert isinstance(result, IgnoreRange) and "order" in result.reason


def test_content_range_values() -> None:
    assert content_range(0, 99, 1000) == "bytes 0-99/1000"
    assert content_range(999, 999, 1000) == "bytes 999-999/1000"
    assert unsatisfied_content_range(1000) == "bytes */1000"
    assert unsatisfied_content_range(0) == "bytes */0"


NUMBER = st.integers(min_value=0, max_value=3000).map(str)
SPEC = st.one_of(
    st.tuples(NUMBER, NUMBER).map("-".join),
    NUMBER.map(lambda n: n + "-"),
    NUMBER.map(lambda n: "-" + n),
    st.sampled_from(["", "-", "x", "1-x", "-1-2"]),
)


@st.composite
def range_headers(draw: st.DrawFn) -> str:
    """Mostly well-formed ascending range sets, sometimes shuffled or with a junk part."""
    unit = draw(st.sampled_from(["bytes=", "bytes=", "BYTES=", "items=", "bytes "]))
    bounds = sorted(draw(st.lists(st.integers(0, 3000), max_size=10, unique=True)))
    specs = [f"{a}-{b}" for a, b in zip(bounds[::2], bounds[1::2], strict=False)]
    if draw(st.booleans()):
        specs.append(draw(st.sampled_from(["-", "-0"])) + draw(NUMBER))
    if draw(st.integers(0, 3)) == 0:
        specs = draw(st.permutations(specs + draw(st.lists(SPEC, max_size=2))))
    return unit + draw(st.sampled_from([",", ", ", " ,"])).join(specs)


def _check(result: RangeResult, size: int) -> None:
    if isinstance(result, ByteRanges):
        assert result.ranges
        previous = -1
        for first, last in result.ranges:
            assert previous < first <= last < size
            previous = last


@FUZZ
@given(range_headers(), st.integers(min_value=0, max_value=4000))
def test_results_lie_within_the_body_and_ascend(value: str, size: int) -> None:
    _check(parse_range(value, size), size)


@FUZZ
@given(st.text(), st.integers(min_value=0, max_value=2**63))
def test_never_raises_on_any_text(value: str, size: int) -> None:
    _check(parse_range(value, size), size)
    _check(parse_range("bytes=" + value, size), size)


@FUZZ
@given(
    st.lists(st.integers(min_value=0, max_value=2000), min_size=2, max_size=12, unique=True),
    st.integers(min_value=1, max_value=2000),
)
def test_ascending_disjoint_ranges_are_kept_in_order(bounds: list[int], size: int) -> None:
    bounds.sort()
    pairs = list(zip(bounds[::2], bounds[1::2], strict=False))
    value = "bytes=" + ",".join(f"{a}-{b}" for a, b in pairs)
    expected = tuple((a, min(b, size - 1)) for a, b in pairs if a < size)
    assert parse_range(value, size) == (ByteRanges(expected) if expected else Unsatisfiable())


# --- multipart/byteranges -----------------------------------------------------------------------

BODY = bytes(range(256)) * 8  # 2048 bytes, every byte value
BOUNDARY = "3d6b6a416f9b5"


def assemble(plan: MultipartPlan, body: bytes) -> bytes:
    out = bytearray()
    for header, first, last in plan.parts:
        out += header
        out += body[first : last + 1]
    out += plan.closing
    return bytes(out)


PART_HEAD = re.compile(
    rb"\r\n--(?P<b>[^\r\n]+)\r\n(?:Content-Type: (?P<ct>[^\r\n]*)\r\n)?"
    rb"Content-Range: bytes (?P<first>\d+)-(?P<last>\d+)/(?P<size>\d+)\r\n\r\n"
)


def parse_multipart(doc: bytes, boundary: str) -> list[tuple[str | None, int, int, int, bytes]]:
    """Read a multipart/byteranges body strictly, by its Content-Range lengths."""
    parts = []
    pos = 0
    closing = b"\r\n--" + boundary.encode() + b"--\r\n"
    while not doc.startswith(closing, pos):
        m = PART_HEAD.match(doc, pos)
        assert m is not None, doc[pos : pos + 80]
        assert m["b"] == boundary.encode()
        first, last = int(m["first"]), int(m["last"])
        data = doc[m.end() : m.end() + last - first + 1]
        ct = m["ct"].decode("latin-1") if m["ct"] is not None else None
        parts.append((ct, first, last, int(m["size"]), data))
        pos = m.end() + len(data)
    assert pos + len(closing) == len(doc)
    return parts


@pytest.mark.parametrize("content_type", ["application/octet-stream", "text/plain; charset=utf-8"])
def test_multipart_round_trip(content_type: str) -> None:
    wanted = ((0, 0), (10, 99), (2000, 2047))
    plan = multipart_plan(wanted, len(BODY), content_type, BOUNDARY)
    doc = assemble(plan, BODY)
    assert plan.content_length == len(doc)
    assert plan.content_type == f"multipart/byteranges; boundary={BOUNDARY}"
    assert plan.closing == f"\r\n--{BOUNDARY}--\r\n".encode()
    assert [(f, la) for _, f, la in plan.parts] == list(wanted)
    parsed = parse_multipart(doc, BOUNDARY)
    assert parsed == [(content_type, f, la, len(BODY), BODY[f : la + 1]) for f, la in wanted]


def test_multipart_without_content_type() -> None:
    plan = multipart_plan(((0, 1), (5, 6)), len(BODY), None, BOUNDARY)
    doc = assemble(plan, BODY)
    assert b"Content-Type" not in doc
    assert plan.content_length == len(doc)
    assert parse_multipart(doc, BOUNDARY) == [
        (None, 0, 1, 2048, BODY[0:2]),
        (None, 5, 6, 2048, BODY[5:7]),
    ]


def test_multipart_parses_with_the_stdlib_email_parser() -> None:
    body = b"".join(b"line %04d of the text body\n" % i for i in range(100))
    wanted = ((0, 26), (270, 539), (len(body) - 27, len(body) - 1))
    plan = multipart_plan(wanted, len(body), "text/plain", BOUNDARY)
    doc = assemble(plan, body)
    head = f"Content-Type: {plan.content_type}\r\nContent-Length: {plan.content_length}\r\n\r\n"
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head.encode() + doc)
    assert msg.is_multipart()
    assert msg.get_content_type() == "multipart/byteranges"
    parts = list(msg.iter_parts())
    assert len(parts) == len(wanted)
    for part, (first, last) in zip(parts, wanted, strict=True):
        assert part["Content-Type"] == "text/plain"
        assert part["Content-Range"] == content_range(first, last, len(body))
        assert part.get_payload(decode=True) == body[first : last + 1]
    assert not msg.defects


@pytest.mark.parametrize(
    ("wanted", "size"),
    [
        ((), 100),
        (((0, 100),), 100),  # last beyond the body
        (((5, 4),), 100),
        (((-1, 4),), 100),
        (((10, 20), (5, 6)), 100),  # out of order
        (((10, 20), (20, 30)), 100),  # overlapping
    ],
)
def test_multipart_refuses_bad_ranges(wanted: tuple[tuple[int, int], ...], size: int) -> None:
    with pytest.raises(ValueError, match="range"):
        multipart_plan(wanted, size, None, BOUNDARY)


@pytest.mark.parametrize("boundary", ["", "a" * 71, "bad\r\nboundary", "ends with space ", "é"])
def test_multipart_refuses_bad_boundaries(boundary: str) -> None:
    with pytest.raises(ValueError, match="boundary"):
        multipart_plan(((0, 1),), 10, None, boundary)


def test_multipart_refuses_header_injection_in_content_type() -> None:
    with pytest.raises(ValueError, match="content type"):
        multipart_plan(((0, 1),), 10, "text/plain\r\nX-Evil: 1", BOUNDARY)


@FUZZ
@given(
    st.lists(
        st.integers(min_value=0, max_value=len(BODY) - 1), min_size=2, max_size=20, unique=True
    ),
    st.from_regex(r"[0-9A-Za-z]{1,70}", fullmatch=True),
    st.one_of(st.none(), st.sampled_from(["image/png", "text/html; charset=iso-8859-1"])),
)
def test_multipart_length_is_exact(
    bounds: list[int], boundary: str, content_type: str | None
) -> None:
    bounds.sort()
    wanted = list(zip(bounds[::2], bounds[1::2], strict=False))
    plan = multipart_plan(wanted, len(BODY), content_type, boundary)
    doc = assemble(plan, BODY)
    assert plan.content_length == len(doc)
    assert [(f, la, data) for _, f, la, _, data in parse_multipart(doc, boundary)] == [
        (f, la, BODY[f : la + 1]) for f, la in wanted
    ]
