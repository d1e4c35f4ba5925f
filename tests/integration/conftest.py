from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from tests.support.edge import config, dist_config
from tests.support.origin import TestOrigin


@pytest.fixture
async def origin() -> AsyncIterator[TestOrigin]:
    o = await TestOrigin().start()
    yield o
    await o.close()


@pytest.fixture
async def make_edge() -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    from openfront.edge.server import RunningEdge

    edges: list[RunningEdge] = []

    async def make(
        origin_port: int | None = None,
        *,
        dist: dict[str, Any] | None = None,
        cfg: Any = None,
        **edge: Any,
    ) -> RunningEdge:
        if cfg is None:
            assert dist is not None or origin_port is not None
            cfg = config(dist if dist is not None else dist_config(origin_port or 0), **edge)
        e = RunningEdge(cfg)
        await e.start()
        edges.append(e)
        return e

    yield make
    for e in edges:
        await e.close()
