"""The memory tier's two layouts behind a real edge: hits, conditionals, ranges, invalidation."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.client import request
from tests.support.origin import Reply, TestOrigin

CC = ("Cache-Control", "max-age=60")


@pytest.mark.parametrize("layout", ["arena", "objects"])
async def test_hits_conditionals_ranges_and_invalidation(
    origin: TestOrigin, make_edge, layout: str
) -> None:
    body = bytes(range(256)) * 8
    origin.set("/img/a.bin", Reply(200, [CC, ("ETag", '"a1"')], body))
    origin.set("/img/b.bin", Reply(200, [CC], b"b" * 10))
    edge = await make_edge(origin.port, cache={"memory_layout": layout})
    first = await request(edge.port, path="/img/a.bin")
    hit = await request(edge.port, path="/img/a.bin")
    assert (first.x_cache, hit.x_cache) == ("Miss from cloudfront", "Hit from cloudfront")
    assert hit.body == body and hit.h("etag") == '"a1"'
    cond = await request(edge.port, path="/img/a.bin", headers={"If-None-Match": '"a1"'})
    assert cond.status == 304 and cond.x_cache == "Hit from cloudfront"
    part = await request(edge.port, path="/img/a.bin", headers={"Range": "bytes=10-19"})
    assert part.status == 206 and part.body == body[10:20]
    await request(edge.port, path="/img/b.bin")
    assert len(edge.env.memory) == 2
    done = await edge.env.invalidate(None, ["/img/*"])
    assert done["Removed"] == 2 and len(edge.env.memory) == 0
    again = await request(edge.port, path="/img/a.bin")
    assert again.x_cache == "Miss from cloudfront" and origin.count("/img/a.bin") == 2


async def test_a_disk_hit_the_memory_tier_declines_is_still_served(
    origin: TestOrigin, make_edge, tmp_path: Path
) -> None:
    """An object over half the arena has no ring to go to: its disk hits are served from disk
    (promotion declined), not fetched again."""
    body = b"d" * 40_000
    origin.set("/big", Reply(200, [CC], body))
    edge = await make_edge(
        origin.port,
        cache={
            "disk_path": str(tmp_path / "c"),
            "memory_bytes": 64 * 1024,
            "memory_max_object_bytes": 64 * 1024,
        },
    )
    for want in ("Miss from cloudfront", "Hit from cloudfront", "Hit from cloudfront"):
        r = await request(edge.port, path="/big")
        assert r.status == 200 and r.body == body and r.x_cache == want
    assert origin.count("/big") == 1 and len(edge.env.memory) == 0
