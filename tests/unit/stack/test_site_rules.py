"""The demo origin's file rules: ranges, validators, `_headers.json` patterns, path resolution."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openfront.errors import ConfigError
from openfront.stack.site import (
    UNSATISFIABLE,
    content_type,
    etag_in_list,
    if_range_allows,
    parse_header_rules,
    parse_single_range,
    resolve_inside,
    rule_headers,
    strong_etag,
)


@pytest.mark.parametrize(
    ("value", "size", "expected"),
    [
        ("bytes=0-0", 10, (0, 0)),
        ("bytes=2-5", 10, (2, 5)),
        ("bytes=2-", 10, (2, 9)),
        ("bytes=-4", 10, (6, 9)),
        ("bytes=-40", 10, (0, 9)),
        ("bytes=3-400", 10, (3, 9)),
        (" bytes = 1 - 2 ", 10, (1, 2)),
        ("bytes=10-", 10, UNSATISFIABLE),
        ("bytes=-0", 10, UNSATISFIABLE),
        ("bytes=-5", 0, UNSATISFIABLE),
        ("bytes=5-2", 10, None),
        ("bytes=-", 10, None),
        ("bytes=0-1,3-4", 10, None),
        ("bytes=a-b", 10, None),
        ("chars=0-1", 10, None),
    ],
)
def test_parse_single_range(value: str, size: int, expected: object) -> None:
    assert parse_single_range(value, size) == expected


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(1, 10**6))
def test_satisfiable_ranges_stay_inside_the_object(first: int, last: int, size: int) -> None:
    chosen = parse_single_range(f"bytes={first}-{last}", size)
    if isinstance(chosen, tuple):
        assert 0 <= chosen[0] <= chosen[1] < size


@pytest.mark.parametrize(
    ("header", "weak", "expected"),
    [
        ('"a"', True, True),
        ('W/"a"', True, True),
        ('W/"a"', False, False),
        ('"b", "a"', False, True),
        ('"b"', True, False),
        ("*", False, True),
    ],
)
def test_etag_in_list(header: str, weak: bool, expected: bool) -> None:
    assert etag_in_list(header, '"a"', weak=weak) is expected


@pytest.mark.parametrize(
    ("if_range", "expected"),
    [(None, True), ('"a"', True), ('"b"', False), ('W/"a"', False), ("LM", True), ("x", False)],
)
def test_if_range(if_range: str | None, expected: bool) -> None:
    assert if_range_allows(if_range, '"a"', "LM") is expected


def test_strong_etag_changes_with_size_and_mtime() -> None:
    assert strong_etag(10, 1) != strong_etag(11, 1) != strong_etag(10, 2)
    assert strong_etag(10, 1).startswith('"') and not strong_etag(10, 1).startswith("W/")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.html", "text/html; charset=utf-8"),
        ("A.CSS", "text/css; charset=utf-8"),
        ("x.bin", "application/octet-stream"),
        ("noext", "application/octet-stream"),
        ("x.png", "image/png"),
    ],
)
def test_content_type(name: str, expected: str) -> None:
    assert content_type(Path(name)) == expected


RULES = """{
  "*.css": {"Cache-Control": "max-age=3600"},
  "/api/*": {"Cache-Control": "no-store", "X-Api": "1"},
  "/api/special?.json": {"cache-control": "max-age=5"},
  "[x].txt": {"X-Literal": "yes"}
}"""


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/static/a.css", [("Cache-Control", "max-age=3600")]),
        ("/a.CSS", []),  # case-sensitive, like CloudFront path patterns
        ("/api/x", [("Cache-Control", "no-store"), ("X-Api", "1")]),
        ("/api/deep/er/x.css", [("Cache-Control", "no-store"), ("X-Api", "1")]),
        # the later rule overrides the header name, whatever its case
        ("/api/special1.json", [("cache-control", "max-age=5"), ("X-Api", "1")]),
        ("/[x].txt", [("X-Literal", "yes")]),  # brackets are literal, not a class
        ("/x.txt", []),
        ("/apix", []),
    ],
)
def test_rule_headers(path: str, expected: list[tuple[str, str]]) -> None:
    assert rule_headers(parse_header_rules(RULES), path) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "top level"),
        ('{"*": "x"}', "must be an object"),
        ('{"*": {"X": 1}}', "bad header"),
        ('{"*": {"Bad Name": "v"}}', "bad header"),
        ('{"*": {"X": "a\\nb"}}', "bad header"),
    ],
)
def test_bad_rules_are_refused(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_header_rules(text)


@pytest.mark.parametrize(
    ("url_path", "inside"),
    [
        ("/a.txt", True),
        ("/sub/../a.txt", True),
        ("/../a.txt", False),
        ("/%2e%2e/a.txt", False),
        ("/sub/%2F..%2F..%2Fa.txt", False),
        ("relative", False),
        ("/nul%00", False),
        ("/%ff", False),
    ],
)
def test_resolve_inside(tmp_path: Path, url_path: str, inside: bool) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    resolved = resolve_inside(root.resolve(), url_path)
    assert (resolved is not None) is inside
    if resolved is not None:
        assert resolved.is_relative_to(root.resolve())


@given(st.text())
def test_resolve_never_leaves_the_root(url_path: str) -> None:
    root = Path("/srv/site")
    resolved = resolve_inside(root, "/" + url_path)
    assert resolved is None or resolved.is_relative_to(root)
