"""Vary and secondary keys (RFC 9111 §4.1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openfront.cache.vary import secondary_key, vary_names, vary_values


@pytest.mark.parametrize(
    ("vary", "expected"),
    [
        (None, ()),
        ("", ()),
        ("Accept-Encoding", ("accept-encoding",)),
        ("Origin, Accept-Encoding", ("accept-encoding", "origin")),
        ("accept-encoding, ACCEPT-ENCODING,Origin", ("accept-encoding", "origin")),
        (" , ,X-A ,", ("x-a",)),
        ("*", None),
        ("Accept, *", None),
        ("Accept,*,Origin", None),
    ],
)
def test_vary_names(vary: str | None, expected: tuple[str, ...] | None) -> None:
    assert vary_names(vary) == expected


@pytest.mark.parametrize(
    ("headers", "names", "expected"),
    [
        ({}, ("accept-encoding",), ("",)),
        ({"accept-encoding": " gzip,  br "}, ("accept-encoding",), ("gzip, br",)),
        ({"accept-encoding": "gzip,\t br"}, ("accept-encoding",), ("gzip, br",)),
        ({"origin": "https://A.example"}, ("accept", "origin"), ("", "https://A.example")),
        ({"x": ""}, ("x",), ("",)),
        ({}, (), ()),
    ],
)
def test_vary_values(
    headers: dict[str, str], names: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    assert vary_values(names, headers.get) == expected


def test_secondary_key_without_names_is_primary() -> None:
    assert secondary_key(b"k", (), ()) == b"k"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ((("origin",), ("x",)), (("origin",), ("y",))),
        ((("origin",), ("",)), ((), ())),
        ((("a", "b"), ("1", "")), (("a", "b"), ("", "1"))),
        ((("a",), ("1=b",)), (("a",), ("1",))),
    ],
)
def test_secondary_keys_differ(
    a: tuple[tuple[str, ...], tuple[str, ...]], b: tuple[tuple[str, ...], tuple[str, ...]]
) -> None:
    assert secondary_key(b"k", *a) != secondary_key(b"k", *b)


def test_secondary_key_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="NUL"):
        secondary_key(b"k", ("a",), ("x\x00y",))
    with pytest.raises(ValueError, match="values"):
        secondary_key(b"k", ("a", "b"), ("x",))


@given(
    st.lists(st.text(alphabet="abc -", min_size=0, max_size=5), min_size=2, max_size=2),
)
def test_secondary_key_is_injective_on_values(values: list[str]) -> None:
    names = ("x-a", "x-b")
    k1 = secondary_key(b"p", names, tuple(values))
    k2 = secondary_key(b"p", names, (values[0] + "\x01", values[1]))
    assert k1 != k2
    assert k1 == secondary_key(b"p", names, tuple(values))
