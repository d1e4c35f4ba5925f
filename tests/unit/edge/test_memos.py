"""The edge's memos keep only what repeats: the doorkeeper and the cache-key memo."""

from __future__ import annotations

import pytest

from openfront.cache.key import cache_key
from openfront.cache.policy import Behavior, KeyPolicy
from openfront.edge.doorkeeper import Doorkeeper
from openfront.edge.keymemo import KeyMemo
from openfront.edge.request import Request


def test_doorkeeper_says_yes_on_the_second_sighting() -> None:
    door = Doorkeeper(size=8)
    assert door.again(12345) is False
    assert door.again(12345) is True
    assert door.again(12345) is True


def test_doorkeeper_slots_push_each_other_out() -> None:
    door = Doorkeeper(size=8)
    a, b = 3, 3 + 8  # same slot
    assert door.again(a) is False
    assert door.again(b) is False  # replaces a
    assert door.again(a) is False  # a was forgotten: a third sighting is needed
    assert door.again(a) is True
    assert door.again(-7) is False  # negative hashes are fine
    assert door.again(-7) is True


def test_doorkeeper_clear_forgets() -> None:
    door = Doorkeeper(size=16)
    door.again(99)
    door.clear()
    assert door.again(99) is False


@pytest.mark.parametrize("size", [0, 3, -8])
def test_doorkeeper_refuses_sizes_that_are_not_powers_of_two(size: int) -> None:
    with pytest.raises(ValueError, match="power of two"):
        Doorkeeper(size=size)


def _request(target: str, **headers: str) -> Request:
    path, _, query = target.partition("?")
    return Request("GET", target, path, query, "1.1", dict(headers), True, "127.0.0.1", 1, 0.0, 0)


def test_key_memo_keeps_a_key_the_second_time_it_is_built() -> None:
    memo = KeyMemo()
    beh = Behavior("*", "o", key=KeyPolicy(query_strings="all"))
    first = memo.get(_request("/a?x=1"), "example.com", beh, b"d1\x00")
    second = memo.get(_request("/a?x=1"), "example.com", beh, b"d1\x00")
    third = memo.get(_request("/a?x=1"), "example.com", beh, b"d1\x00")
    assert first == second == third
    assert first is not second  # built twice: the first sighting left nothing behind
    assert third is second  # memoised on the second
    expected = cache_key(
        host="example.com",
        path="/a",
        query="x=1",
        method="GET",
        header={}.get,
        cookie_header=None,
        policy=beh.key,
    )
    assert first[0] == expected
    assert first[1] == b"d1\x00" + expected.key


def test_key_memo_separates_what_the_policy_keys_on() -> None:
    memo = KeyMemo()
    beh = Behavior("*", "o", key=KeyPolicy(headers="whitelist", header_names=("x-v",)))
    keys = set()
    for _ in range(3):
        for v in ("1", "2"):
            keys.add(memo.get(_request("/a", **{"x-v": v}), "h", beh, b"p")[1])
    assert len(keys) == 2


def test_key_memo_is_cleared_at_its_limit() -> None:
    memo = KeyMemo(limit=2)
    beh = Behavior("*", "o")
    for target in ("/a", "/b", "/c"):
        for _ in range(2):
            memo.get(_request(target), "h", beh, b"p")
    kept = memo.get(_request("/c"), "h", beh, b"p")
    assert memo.get(_request("/c"), "h", beh, b"p") is kept
    assert len(memo._memo) == 1  # cleared when /c came in at the limit
