"""A model-based run for the memory tiers: random operations against a dict of what must be
there; eviction may drop entries from the model, a wrong answer may never appear."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from openfront.cache.entry import EntryMeta

Model = dict[bytes, tuple[bytes, float, str]]  # key -> (body, ttl, url)

OPS = st.lists(
    st.tuples(
        st.sampled_from(["put", "put", "get", "delete", "update", "invalidate"]),
        st.integers(0, 12),
        st.integers(0, 300),
    ),
    max_size=120,
)


def run_model(
    m: Any,
    ops: list[tuple[str, int, int]],
    meta: Callable[[bytes, int, str], EntryMeta],
    invalidate: Callable[[Any, str], None],
    check: Callable[[Any, Model], None],
) -> None:
    """Apply ``ops`` to the store ``m``; after each, ``check(m, model)``."""
    model: Model = {}
    for op, n, size in ops:
        key = b"EDIST\0\0\0/o/%d\0\0" % n
        url = f"/o/{n}"
        if op == "put":
            body = bytes([n]) * size
            mt = meta(key, size, url)
            mt.ttl = float(size)
            m.put(key, mt, body)
            model[key] = (body, mt.ttl, url)
        elif op == "get":
            got = m.get(key)
            if got is None:
                model.pop(key, None)  # evicted: allowed, never a wrong answer
            else:
                body, ttl, u = model[key]
                assert bytes(got.body) == body and got.meta.ttl == ttl and got.meta.url == u
        elif op == "delete":
            assert m.delete(key) == (key in model) or key not in m
            model.pop(key, None)
        elif op == "update":
            mt = meta(key, 0, url)
            mt.headers = (("X-Pad", "p" * (size % 40)),)  # the stored head grows or shrinks
            mt.ttl = float(size) + 0.5
            m.update_meta(key, mt)
            if key in m and key in model:
                model[key] = (model[key][0], mt.ttl, url)
        else:
            invalidate(m, url)
            model.pop(key, None)
        for gone in [k for k in model if k not in m]:
            del model[gone]  # evicted by a put or an update
        assert set(m.keys()) == set(model)
        check(m, model)
