"""Invalidation paths (guide §1.14)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openfront.cache.invalidation import InvalidationMatcher, validate_invalidation_path


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/images/a.jpg", None),
        ("/images/*", None),
        ("/images/image*", None),
        ("/*", None),
        ("/images/image.jpg*", None),
        ("/a%20b.jpg", None),
        ("/a.jpg?x=1", None),
        ("/" + "x" * 3999, None),
        ("/" + "x" * 4000, "4001 characters long; the limit is 4000"),
        ("", "must start with '/'"),
        ("images/a.jpg", "must start with '/'"),
        ("*", "must start with '/'"),
        ("#product:electronics", "must start with '/'"),
        ("/images/*.jpg", "'*' before its last character"),
        ("/*/a", "'*' before its last character"),
        ("/a**", "'*' before its last character"),
        ("/a b", "percent-encoded"),
        ("/é", "percent-encoded"),
        ("/a\x00", "percent-encoded"),
        ("/a\n", "percent-encoded"),
    ],
)
def test_validate_invalidation_path(path: str, error: str | None) -> None:
    result = validate_invalidation_path(path)
    if error is None:
        assert result is None
    else:
        assert result is not None and error in result


@pytest.mark.parametrize(
    ("paths", "url", "expected"),
    [
        (["/images/a.jpg"], "/images/a.jpg", True),
        (["/images/a.jpg"], "/images/a.jpg?v=2", False),  # query variants need a '*'
        (["/images/a.jpg"], "/images/A.jpg", False),  # case-sensitive
        (["/images/a.jpg*"], "/images/a.jpg?v=2", True),
        (["/images/a.jpg*"], "/images/a.jpg", True),
        (["/images/*"], "/images/", True),
        (["/images/*"], "/images/x/y.png", True),
        (["/images/*"], "/images", False),  # directories need both forms
        (["/images", "/images/"], "/images", True),
        (["/images/image*"], "/images/image1.png", True),
        (["/images/image*"], "/images/img.png", False),
        (["/*"], "/", True),
        (["/*"], "/anything?at=all", True),
        (["/a.jpg?v=1"], "/a.jpg?v=1", True),
        (["/a.jpg?v=1"], "/a.jpg?v=2", False),
        ([], "/x", False),
        # Overlapping prefixes: the covered one must not hide another match.
        (["/a*", "/ab*", "/b*"], "/abc", True),
        (["/ab*", "/a/*"], "/a/x", True),
        (["/ab*", "/a/*"], "/a", False),
        (["/a/b*", "/a/c*"], "/a/bz", True),
        (["/a/b*", "/a/c*"], "/a/bb", True),
        (["/a/b*", "/a/c*"], "/a/cc", True),
        (["/a/b*", "/a/c*"], "/a/d", False),
        (["/a/b*", "/a/c*"], "/a/a", False),
        (["/x", "/a/c*"], "/x", True),
    ],
)
def test_matcher(paths: list[str], url: str, expected: bool) -> None:
    assert InvalidationMatcher(paths).matches(url) is expected


def test_matcher_truthiness() -> None:
    assert not InvalidationMatcher([])
    assert InvalidationMatcher(["/a"])
    assert InvalidationMatcher(["/*"])


def test_many_paths() -> None:
    paths = [f"/p/{i}.jpg" for i in range(3000)] + [f"/w/{i}/*" for i in range(15)]
    m = InvalidationMatcher(paths)
    assert m.matches("/p/2999.jpg")
    assert not m.matches("/p/3000.jpg")
    assert m.matches("/w/14/deep/x?y=1")
    assert not m.matches("/w/15/x")
    assert not m.matches("/w/1")


_alphabet = "/ab?*"


@given(
    st.lists(st.text(alphabet="/ab?", max_size=4).map(lambda s: "/" + s), max_size=6),
    st.lists(st.text(alphabet="/ab?", max_size=4).map(lambda s: "/" + s + "*"), max_size=6),
    st.text(alphabet="/ab?", max_size=6).map(lambda s: "/" + s),
)
def test_matcher_agrees_with_naive(exact: list[str], wild: list[str], url: str) -> None:
    naive = url in exact or any(url.startswith(w[:-1]) for w in wild)
    assert InvalidationMatcher(exact + wild).matches(url) is naive
