"""Byte-bounded eviction policies: shared contract, S3-FIFO's scan resistance and ghost."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openfront.cache.eviction import FifoNode, Lru, S3Fifo, S3FifoCore

Factory = Callable[[int], S3Fifo[int] | Lru[int]]
POLICIES: list[Factory] = [S3Fifo, Lru]


@pytest.mark.parametrize("make", POLICIES)
def test_insert_access_remove(make: Factory) -> None:
    p = make(100)
    assert p.insert(1, 10) == []
    assert 1 in p and len(p) == 1 and p.used_bytes == 10
    assert p.access(1) is True
    assert p.access(2) is False
    p.remove(1)
    p.remove(1)  # removing an absent key is fine
    assert 1 not in p and len(p) == 0 and p.used_bytes == 0
    assert p.capacity_bytes == 100


@pytest.mark.parametrize("make", POLICIES)
def test_object_larger_than_capacity_is_returned_as_evicted(make: Factory) -> None:
    p = make(100)
    p.insert(1, 50)
    assert p.insert(2, 101) == [2]
    assert 2 not in p and 1 in p


@pytest.mark.parametrize("make", POLICIES)
def test_reinsert_replaces_size(make: Factory) -> None:
    p = make(100)
    p.insert(1, 10)
    p.insert(1, 30)
    assert p.used_bytes == 30 and len(p) == 1


@pytest.mark.parametrize("make", POLICIES)
def test_evicts_to_make_room(make: Factory) -> None:
    p = make(100)
    for k in range(10):
        p.insert(k, 10)
    evicted = p.insert(99, 25)
    assert len(evicted) == 3 and 99 in p
    assert p.used_bytes == 95
    assert all(k not in p for k in evicted)


@pytest.mark.parametrize(
    ("args", "exc"),
    [((-1,), ValueError), (("10",), TypeError), ((True,), TypeError)],
)
@pytest.mark.parametrize("make", POLICIES)
def test_bad_capacity(make: Factory, args: tuple[object], exc: type[Exception]) -> None:
    with pytest.raises(exc):
        make(*args)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [-1, 1.5, None])
@pytest.mark.parametrize("make", POLICIES)
def test_bad_size(make: Factory, size: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        make(100).insert(1, size)  # type: ignore[arg-type]


@pytest.mark.parametrize("kw", [{"small_ratio": 0.0}, {"small_ratio": 1.0}, {"ghost_ratio": -1}])
def test_s3fifo_bad_ratios(kw: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        S3Fifo(100, **kw)


ops = st.lists(
    st.tuples(st.sampled_from(["ins", "acc", "rm"]), st.integers(0, 30), st.integers(0, 60)),
    max_size=300,
)


@settings(max_examples=150, deadline=None)
@given(ops=ops, which=st.sampled_from([0, 1]))
def test_model_bytes_bound_and_membership(ops: list[tuple[str, int, int]], which: int) -> None:
    p = POLICIES[which](100)
    model: dict[int, int] = {}
    for op, key, size in ops:
        if op == "ins":
            for gone in p.insert(key, size):
                model.pop(gone, None)
            if key in p:
                model[key] = size
        elif op == "acc":
            assert p.access(key) == (key in model)
        else:
            p.remove(key)
            model.pop(key, None)
        assert p.used_bytes == sum(model.values()) <= 100
        assert len(p) == len(model)
        assert all(k in p for k in model)


def test_s3fifo_keeps_hot_set_through_a_scan() -> None:
    s3, lru = S3Fifo[int](1000), Lru[int](1000)
    for p in (s3, lru):
        for k in range(50):
            p.insert(k, 10)
        for _ in range(3):
            for k in range(50):
                p.access(k)
        for k in range(1000, 2000):  # a one-pass scan of cold objects
            if not p.access(k):
                p.insert(k, 10)
    assert sum(k in s3 for k in range(50)) == 50
    assert sum(k in lru for k in range(50)) == 0


def test_s3fifo_ghost_readmits_into_main() -> None:
    p = S3Fifo[int](1000)
    p.insert(1, 10)
    for k in range(100, 200):  # push key 1 out of the small queue unaccessed
        p.insert(k, 10)
    assert 1 not in p
    p.insert(1, 10)  # its hash is in the ghost: it goes to main and survives the next scan
    for k in range(200, 300):
        p.insert(k, 10)
    assert 1 in p


def test_s3fifo_mass_removal_compacts_queues() -> None:
    p = S3Fifo[int](10_000)
    for k in range(1000):
        p.insert(k, 1)
    for k in range(1000):
        p.remove(k)
    assert len(p) == 0 and p.used_bytes == 0
    assert p.insert(5, 10_000) == []


class _Blob(FifoNode):
    """A node whose charge follows its payload, like the memory tier's entries."""

    __slots__ = ("data",)

    def __init__(self, key: int, data: bytes) -> None:
        self.key = key
        self.state = 0
        self.data = data

    def charge(self) -> int:
        return len(self.data)


def test_core_admit_touch_discard_and_recharge() -> None:
    core: S3FifoCore[_Blob] = S3FifoCore(100)
    a = _Blob(1, b"x" * 10)
    assert core.admit(a) == [] and core.nodes[1] is a and core.used_bytes == 10
    for _ in range(5):
        S3FifoCore.touch(a)
    assert a.state & 3 == 3  # two-bit frequency saturates
    a.data = b"x" * 30
    assert core.recharge(a, 10) == [] and core.used_bytes == 30
    b = _Blob(2, b"y" * 60)
    assert core.admit(b) == [] and core.used_bytes == 90
    c = _Blob(3, b"w" * 20)
    assert core.admit(c) == [b]  # b was never hit: it leaves small first; a (hit) goes to main
    assert 1 in core and 2 not in core and core.used_bytes == 50
    assert core.discard(3) is c and core.discard(3) is None
    assert core.used_bytes == sum(n.charge() for n in core.nodes.values())


def test_core_replacing_a_key_drops_the_old_node() -> None:
    core: S3FifoCore[_Blob] = S3FifoCore(100)
    old, new = _Blob(1, b"a" * 40), _Blob(1, b"b" * 20)
    core.admit(old)
    core.admit(new)
    assert core.nodes[1] is new and core.used_bytes == 20 and len(core) == 1
    # The old node is still queued, flagged gone: evicting past it must not count it.
    for k in range(2, 12):
        core.admit(_Blob(k, b"c" * 10))
    assert core.used_bytes == sum(n.charge() for n in core.nodes.values()) <= 100


def test_core_growth_past_capacity_evicts() -> None:
    core: S3FifoCore[_Blob] = S3FifoCore(100)
    nodes = [_Blob(k, b"z" * 20) for k in range(5)]
    for n in nodes:
        core.admit(n)
    grown = nodes[4]
    grown.data = b"z" * 60
    evicted = core.recharge(grown, 20)
    assert evicted and core.used_bytes <= 100
    assert all(n.key not in core for n in evicted)
