"""Origins, failover, the shield tier, pass-through methods, invalidation, persistence, logs."""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.request

from tests.support.client import request
from tests.support.edge import config, dist_config, origin_entry
from tests.support.origin import Reply, TestOrigin

CC = ("Cache-Control", "max-age=60")


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


async def test_unreachable_origin_is_502(make_edge) -> None:
    edge = await make_edge(_closed_port())
    r = await request(edge.port, path="/x")
    assert r.status == 502 and r.x_cache == "Error from cloudfront"
    assert b"The request could not be satisfied" in r.body


async def test_origin_timeout_is_504(origin: TestOrigin, make_edge) -> None:
    never = asyncio.Event()

    async def hang(_s):
        await never.wait()
        return Reply()

    origin.set("/slow", hang)
    dist = dist_config(origin.port, Origins=[origin_entry("o1", origin.port, read_timeout=1)])
    edge = await make_edge(dist=dist)
    r = await request(edge.port, path="/slow")
    assert r.status == 504 and r.x_cache == "Error from cloudfront"


async def test_origin_group_fails_over_on_listed_status(make_edge) -> None:
    primary = await TestOrigin().start()
    secondary = await TestOrigin().start()
    try:
        primary.set("/f", Reply(503, [], b"down"))
        secondary.set("/f", Reply(200, [CC], b"from-secondary"))
        dist = dist_config(
            primary.port,
            Origins=[origin_entry("p", primary.port), origin_entry("s", secondary.port)],
            OriginGroups=[
                {
                    "Id": "g",
                    "FailoverCriteria": {"StatusCodes": [503]},
                    "Members": [{"OriginId": "p"}, {"OriginId": "s"}],
                }
            ],
        )
        dist["DefaultCacheBehavior"]["TargetOriginId"] = "g"
        edge = await make_edge(dist=dist)
        r = await request(edge.port, path="/f")
        assert (r.status, r.body) == (200, b"from-secondary")
        assert primary.count("/f") == 1 and secondary.count("/f") == 1
        # connection failure also fails over
        await primary.close()
        r2 = await request(edge.port, path="/g")
        assert r2.status == 404 and secondary.count("/g") == 1
    finally:
        await secondary.close()


async def test_post_put_delete_pass_through_with_bodies(origin: TestOrigin, make_edge) -> None:
    origin.set(
        "/up",
        lambda s: Reply(201, [("X-Got", str(len(s.body)))], s.method.encode() + b":" + s.body[:5]),
    )
    edge = await make_edge(origin.port)
    payload = b"0123456789" * 100_000  # 1 MB upload through the edge
    r = await request(edge.port, "POST", "/up", body=payload)
    assert (r.status, r.h("x-got"), r.body) == (201, str(len(payload)), b"POST:01234")
    r = await request(edge.port, "PUT", "/up", body=b"abc")
    assert r.body == b"PUT:abc"
    r = await request(edge.port, "DELETE", "/up")
    assert r.body == b"DELETE:"
    assert [s.method for s in origin.requests] == ["POST", "PUT", "DELETE"]
    assert origin.requests[0].headers.get("x-amz-cf-id")
    assert "127.0.0.1" in (origin.requests[0].headers.get("x-forwarded-for") or "")


async def test_unsafe_method_invalidates_stored_get(origin: TestOrigin, make_edge) -> None:
    n = iter(range(10))
    origin.set("/doc", lambda s: Reply(200, [CC], b"v%d" % next(n)))
    edge = await make_edge(origin.port)
    assert (await request(edge.port, path="/doc")).body == b"v0"
    assert (await request(edge.port, path="/doc")).x_cache == "Hit from cloudfront"
    await request(edge.port, "PUT", "/doc", body=b"new")
    r = await request(edge.port, path="/doc")
    assert r.x_cache == "Miss from cloudfront" and r.body == b"v2"


def _admin(edge, method: str, path: str, body: dict | None = None, token: str = "test-token"):
    req = urllib.request.Request(
        f"http://127.0.0.1:{edge.admin_port}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, resp.read()


async def test_invalidation_via_admin(origin: TestOrigin, make_edge) -> None:
    origin.set("/img/a.png", Reply(200, [CC], b"a"))
    origin.set("/img/b.png", Reply(200, [CC], b"b"))
    origin.set("/keep.css", Reply(200, [CC], b"c"))
    edge = await make_edge(origin.port)
    for p in ("/img/a.png", "/img/b.png", "/keep.css"):
        await request(edge.port, path=p)
    status, body = await asyncio.to_thread(
        _admin, edge, "POST", "/invalidate", {"DistributionId": "EDIST1", "Paths": ["/img/*"]}
    )
    assert status == 200 and json.loads(body)["Removed"] == 2
    assert (await request(edge.port, path="/img/a.png")).x_cache == "Miss from cloudfront"
    assert (await request(edge.port, path="/keep.css")).x_cache == "Hit from cloudfront"
    status, metrics = await asyncio.to_thread(_admin, edge, "GET", "/metrics")
    assert b"openfront_edge_requests_total" in metrics


async def test_disk_tier_survives_restart(origin: TestOrigin, make_edge, tmp_path) -> None:
    from openfront.edge.server import RunningEdge

    origin.set("/d.bin", Reply(200, [CC, ("ETag", '"d"')], b"D" * 50_000))
    cfg = config(dist_config(origin.port), cache={"disk_path": str(tmp_path / "c")})
    first = RunningEdge(cfg)
    await first.start()
    assert (await request(first.port, path="/d.bin")).x_cache == "Miss from cloudfront"
    await first.close()
    second = RunningEdge(cfg)
    await second.start()
    try:
        r = await request(second.port, path="/d.bin")
        assert r.x_cache == "Hit from cloudfront" and r.body == b"D" * 50_000
        assert origin.count("/d.bin") == 1
    finally:
        await second.close()


async def test_parent_edge_shields_the_origin(origin: TestOrigin, make_edge) -> None:
    origin.set("/s.js", Reply(200, [CC], b"shielded"))
    origin.gate = asyncio.Event()
    parent = await make_edge(origin.port)
    child_dist = dist_config(
        parent.port, Origins=[origin_entry("shield", parent.port, OpenFrontParentEdge=True)]
    )
    child_dist["DefaultCacheBehavior"]["TargetOriginId"] = "shield"
    children = [await make_edge(dist=child_dist) for _ in range(3)]
    pending = [asyncio.ensure_future(request(c.port, path="/s.js")) for c in children]
    await origin.wait_until(lambda: origin.count("/s.js") == 1)
    origin.gate.set()
    results = await asyncio.gather(*pending)
    assert all(r.body == b"shielded" for r in results)
    assert origin.count("/s.js") == 1


async def test_access_log_has_cloudfront_fields(origin: TestOrigin, make_edge, tmp_path) -> None:
    from openfront.edge.accesslog import FIELDS, read_log

    origin.set("/l", Reply(200, [CC, ("Content-Type", "text/plain")], b"log me"))
    edge = await make_edge(origin.port, logs={"path": str(tmp_path / "logs")})
    await request(edge.port, path="/l?x=1", headers={"User-Agent": "test agent"})
    await request(edge.port, path="/l?x=1")
    log = edge.env.logs["EDIST1"]
    await asyncio.to_thread(log.close)
    files = sorted((tmp_path / "logs").iterdir())
    rows = [row for f in files for row in read_log(f)]
    assert len(FIELDS) == 33 and len(rows) == 2
    first, second = rows
    assert first["cs-method"] == "GET" and first["cs-uri-stem"] == "/l"
    assert first["cs-uri-query"] == "x=1" and first["sc-status"] == "200"
    assert first["x-edge-result-type"] == "Miss" and second["x-edge-result-type"] == "Hit"
    assert first["cs(User-Agent)"] == "test%20agent"
    for row in rows:  # sc-bytes counts the head too; sc-content-len the body only
        assert row["sc-content-type"] == "text/plain" and row["sc-content-len"] == "6"
        assert int(row["sc-bytes"]) > 6 + 100
    assert first["x-edge-request-id"] != second["x-edge-request-id"]


async def test_access_log_rotation_zero_means_never(
    origin: TestOrigin, make_edge, tmp_path
) -> None:
    from openfront.edge.accesslog import read_log

    origin.set("/n", Reply(200, [CC], b"n"))
    logs = {"path": str(tmp_path / "logs"), "rotate_bytes": 0, "rotate_seconds": 0}
    edge = await make_edge(origin.port, logs=logs)
    await request(edge.port, path="/n")
    await asyncio.to_thread(edge.env.logs["EDIST1"].close)
    rows = [row for f in (tmp_path / "logs").iterdir() for row in read_log(f)]
    assert [r["cs-uri-stem"] for r in rows] == ["/n"]
