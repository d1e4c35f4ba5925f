"""CloudFront path patterns and behavior selection (guide §1.1)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openfront.cache.pathmatch import BehaviorSelector, PathPattern, validate_path_pattern
from openfront.cache.policy import Behavior, Distribution


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        # Guide test vectors.
        ("*.jpg", "LOGO.JPG", False),
        ("*.jpg", "logo.jpg", True),
        ("images/*.jpg", "images/product1/x.jpg", True),
        ("images/*.jpg", "/images/product1/x.jpg", True),
        ("/images/*.jpg", "images/a.jpg", True),
        ("*.doc*", ".doc", True),
        ("*.doc*", ".docx", True),
        ("*.doc*", ".docm", True),
        ("*.doc*", "/a/b.doc", True),
        ("*.doc?", ".doc", False),
        ("*.doc?", ".docx", True),
        ("a??.jpg", "ant.jpg", True),
        ("a??.jpg", "abe.jpg", True),
        ("a??.jpg", "an.jpg", False),
        ("a??.jpg", "antt.jpg", False),
        # `*` alone matches everything, including the root.
        ("*", "/", True),
        ("*", "", True),
        ("*", "/a/b/c?not-a-query", True),
        ("/*", "/x", True),
        ("**", "/x/y", True),
        # Whole-path matching: no implicit prefix or suffix.
        ("images/*", "images/", True),
        ("images/*", "images", False),
        ("images/*", "static/images/a.png", False),
        ("index.html", "/index.html", True),
        ("index.html", "/index.html5", False),
        ("index.html", "/a/index.html", False),
        ("Index.html", "/index.html", False),
        # Regex metacharacters are literal.
        ("a.b", "axb", False),
        ("a+b", "a+b", True),
        ("$x", "$x", True),
        ("a(b", "a(b", True),
        ("*.jpg", "a.jpg\n", False),
        # Only one leading slash is optional.
        ("/a", "//a", False),
        ("*/img/*", "x/img/y", True),
        ("*/img/*", "img/y", False),
        ("*a*b*", "xaybz", True),
        ("*a*b*", "xbya", False),
        ("?", "/x", True),
        ("?", "/xy", False),
        ("?", "/", False),
    ],
)
def test_path_pattern_matches(pattern: str, path: str, expected: bool) -> None:
    assert PathPattern(pattern).matches(path) is expected


def _reference(pattern: str, path: str) -> bool:
    body = pattern.removeprefix("/")
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in body)
    return re.fullmatch(regex, path.removeprefix("/"), re.DOTALL) is not None


@given(
    st.text(alphabet="ab/*?.", max_size=8),
    st.text(alphabet="ab/.c", max_size=10),
)
def test_fast_paths_agree_with_regex(pattern: str, path: str) -> None:
    assert PathPattern(pattern).matches(path) is _reference(pattern, path)


@pytest.mark.parametrize(
    ("pattern", "error"),
    [
        ("images/*.jpg", None),
        ("/images/*", None),
        ("*", None),
        ("a??.jpg", None),
        ("A-Z_a-z0-9.~$\"'@:+&/*", None),
        ("x" * 255, None),
        ("x" * 256, "256 characters long; the limit is 255"),
        ("", "empty"),
        ("images/a b.jpg", "' '"),
        ("images/é.jpg", "'é'"),
        ("images/[a].jpg", "'[', ']'"),
        ("a%20b", "'%'"),
        ("a\x00", "'\\x00'"),
    ],
)
def test_validate_path_pattern(pattern: str, error: str | None) -> None:
    result = validate_path_pattern(pattern)
    if error is None:
        assert result is None
    else:
        assert result is not None and error in result


def _b(pattern: str) -> Behavior:
    return Behavior(path_pattern=pattern, target_origin_id=f"origin-{pattern}")


DEFAULT = _b("*")
ORDERED = [_b("images/*.jpg"), _b("images/*"), _b("*.gif")]


@pytest.mark.parametrize(
    ("path", "pattern"),
    [
        ("images/sample.gif", "images/*"),  # first match wins, not the most specific
        ("/images/sample.gif", "images/*"),
        ("/images/a/b.jpg", "images/*.jpg"),
        ("/images/a.JPG", "images/*"),
        ("/logo.gif", "*.gif"),
        ("/logo.gif?x=1.jpg", "*"),  # matched literally: the edge passes the path only
        ("/index.html", "*"),
        ("/", "*"),
    ],
)
def test_selector_first_match_wins(path: str, pattern: str) -> None:
    selector = BehaviorSelector(ORDERED, DEFAULT)
    assert selector.select(path).path_pattern == pattern


def test_selector_order_matters() -> None:
    reversed_order = BehaviorSelector(list(reversed(ORDERED)), DEFAULT)
    assert reversed_order.select("images/sample.gif").path_pattern == "*.gif"


def test_selector_for_distribution() -> None:
    dist = Distribution(
        id="d",
        aliases=(),
        origins={},
        origin_groups={},
        behaviors=tuple(ORDERED),
        default_behavior=DEFAULT,
    )
    selector = BehaviorSelector.for_distribution(dist)
    assert selector.select("/x.gif") is ORDERED[2]
    assert selector.select("/x.png") is DEFAULT


def test_selector_with_no_behaviors_uses_default() -> None:
    assert BehaviorSelector([], DEFAULT).select("/anything") is DEFAULT
