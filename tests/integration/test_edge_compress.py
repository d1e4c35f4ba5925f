"""Compression at the edge with CloudFront's rules (guide §1.7)."""

from __future__ import annotations

import gzip
from typing import Any

import brotli
from tests.support.client import request
from tests.support.edge import dist_config
from tests.support.origin import Reply, TestOrigin

CSS = b"body { color: red; }\n" * 200  # 4,200 bytes
CC = ("Cache-Control", "max-age=600")


def _dist(port: int) -> dict[str, Any]:
    dist = dist_config(port)
    beh = dist["DefaultCacheBehavior"]
    beh["Compress"] = True
    params = beh["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    params.update(EnableAcceptEncodingGzip=True, EnableAcceptEncodingBrotli=True)
    return dist


async def test_brotli_preferred_gzip_otherwise_variants_cached(
    origin: TestOrigin, make_edge
) -> None:
    origin.set("/a.css", Reply(200, [CC, ("Content-Type", "text/css"), ("ETag", '"v1"')], CSS))
    edge = await make_edge(dist=_dist(origin.port))
    br = await request(edge.port, path="/a.css", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.h("content-encoding") == "br" and brotli.decompress(br.body) == CSS
    assert br.h("vary") == "Accept-Encoding" and br.h("etag") == 'W/"v1"'
    gz = await request(edge.port, path="/a.css", headers={"Accept-Encoding": "gzip"})
    assert gz.h("content-encoding") == "gzip" and gzip.decompress(gz.body) == CSS
    plain = await request(edge.port, path="/a.css")
    assert plain.h("content-encoding") is None and plain.body == CSS
    # Same normalised Accept-Encoding ("br,gzip" for both): the stored Brotli variant.
    again = await request(edge.port, path="/a.css", headers={"Accept-Encoding": "br, gzip"})
    ranged_headers = {"Accept-Encoding": "br, gzip", "Range": "bytes=0-9"}
    ranged = await request(edge.port, path="/a.css", headers=ranged_headers)
    assert ranged.status == 206 and ranged.body == CSS[:10]  # from the identity copy
    assert ranged.h("content-encoding") is None
    assert again.x_cache == "Hit from cloudfront" and brotli.decompress(again.body) == CSS
    assert again.h("content-length") == str(len(again.body))
    assert origin.count("/a.css") == 3  # one fetch per key: br,gzip / gzip / none


async def test_what_is_never_compressed(origin: TestOrigin, make_edge) -> None:
    origin.set("/small.css", Reply(200, [CC, ("Content-Type", "text/css")], b"x" * 500))
    origin.set("/p.png", Reply(200, [CC, ("Content-Type", "image/png")], b"x" * 5000))
    js = [CC, ("Content-Type", "application/javascript"), ("Content-Encoding", "gzip")]
    origin.set("/pre.js", Reply(200, js, gzip.compress(CSS)))
    edge = await make_edge(dist=_dist(origin.port))
    ae = {"Accept-Encoding": "br, gzip"}
    assert (await request(edge.port, path="/small.css", headers=ae)).h("content-encoding") is None
    assert (await request(edge.port, path="/p.png", headers=ae)).h("content-encoding") is None
    pre = await request(edge.port, path="/pre.js", headers=ae)
    assert pre.h("content-encoding") == "gzip" and gzip.decompress(pre.body) == CSS
    rng = await request(edge.port, path="/p.png", headers={**ae, "Range": "bytes=0-9"})
    assert rng.status == 206 and rng.h("content-encoding") is None


async def test_compress_off_in_behavior(origin: TestOrigin, make_edge) -> None:
    origin.set("/a.css", Reply(200, [CC, ("Content-Type", "text/css")], CSS))
    dist = _dist(origin.port)
    dist["DefaultCacheBehavior"]["Compress"] = False
    edge = await make_edge(dist=dist)
    r = await request(edge.port, path="/a.css", headers={"Accept-Encoding": "br"})
    assert r.h("content-encoding") is None and r.body == CSS
