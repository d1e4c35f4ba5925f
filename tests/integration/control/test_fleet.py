"""Edges following `openfront api` over the long-poll: real edge processes, boto3 as the client.

Each test gets its own API (its own database: fleet edges make other tests' changes wait) and
starts `openfront edge --control-plane` processes in front of test origins.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from tests.integration.control.conftest import BACKENDS, _scratch_database
from tests.integration.control.helpers import (
    ROOT_KEY,
    ROOT_SECRET,
    ApiThread,
    client,
    error_code,
    raw_request,
    start_api,
    unique,
)
from tests.support.client import request
from tests.support.origin import Reply, TestOrigin

from openfront.cli.edges_cmd import fetch_edges
from openfront.cli.main import main
from openfront.control import distributions
from openfront.control.audit import query as audit_query
from openfront.control.models import DistributionVersion

CC = ("Cache-Control", "max-age=600")
WAIT = 30.0
NATS_ENV = "OPENFRONT_TEST_NATS_URL"


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def fleet_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'control.db'}"
        return
    import os

    env, example = BACKENDS[request.param]
    base = os.environ.get(env)
    if not base:
        pytest.skip(f"{env} is not set (e.g. {example}): {request.param} tests skipped")
    yield from _scratch_database(base)


@pytest.fixture(params=["poll", "nats"])
def bus(request: pytest.FixtureRequest) -> Iterator[tuple[str, str] | None]:
    """None for the long-poll; (URL, a stream of its own, deleted afterwards) for NATS."""
    if request.param == "poll":
        yield None
        return
    url = os.environ.get(NATS_ENV)
    if not url:
        pytest.skip(f"{NATS_ENV} is not set (e.g. nats://127.0.0.1:4222): NATS tests skipped")
    stream = f"OFTEST_{uuid.uuid4().hex[:12].upper()}"
    yield url, stream
    asyncio.run(_delete_stream(url, stream))


async def _delete_stream(url: str, stream: str) -> None:
    import nats
    from nats.js.errors import NotFoundError

    nc = await nats.connect(url)
    try:
        await nc.jetstream().delete_stream(stream)
    except NotFoundError:
        pass
    finally:
        await nc.close()


@pytest.fixture
def api(fleet_db: str, bus: tuple[str, str] | None, tmp_path: Path) -> Iterator[ApiThread]:
    extra: dict[str, Any] = {}
    if bus is not None:
        extra = {"bus_url": bus[0], "bus_stream": bus[1]}
    server = start_api(
        tmp_path / "api", fleet_db, edge_stale_seconds=30, fleet_poll_seconds=5, **extra
    )
    yield server
    server.stop()


@pytest.fixture
async def origins() -> AsyncIterator[list[TestOrigin]]:
    started = [await TestOrigin().start() for _ in range(2)]
    yield started
    for o in started:
        await o.close()


class Edge:
    def __init__(self, proc: asyncio.subprocess.Process, port: int, edge_id: str) -> None:
        self.proc, self.port, self.edge_id = proc, port, edge_id

    async def get(self, path: str, host: str = "test.local") -> Any:
        return await request(self.port, "GET", path, host=host)

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(self.proc.wait(), WAIT) == 0


@pytest.fixture
async def start_edge(
    tmp_path: Path, bus: tuple[str, str] | None
) -> AsyncIterator[Callable[..., Awaitable[Edge]]]:
    creds = tmp_path / "edge.env"
    creds.write_text(f"AWS_ACCESS_KEY_ID={ROOT_KEY}\nAWS_SECRET_ACCESS_KEY={ROOT_SECRET}\n")
    creds.chmod(0o600)
    running: list[Edge] = []
    bus_args = [] if bus is None else ["--bus", bus[0], "--bus-stream", bus[1]]

    async def start(api_url: str, name: str, *extra: str) -> Edge:
        ready = tmp_path / f"{name}.ready"
        ready.unlink(missing_ok=True)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "openfront", "edge", "--control-plane", api_url,
            "--credentials", str(creds), "--data", str(tmp_path / name), "--pop", "TST50-C1",
            "--region", "test-1", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
            "--ready-file", str(ready), *bus_args, *extra,
        )  # fmt: skip
        await until(lambda: ready.exists() or proc.returncode is not None)
        assert proc.returncode is None, "edge exited before it was ready"
        port = int(json.loads(ready.read_text())["url"].rsplit(":", 1)[1])
        edge_id = (tmp_path / name / "edge-id").read_text().strip()
        edge = Edge(proc, port, edge_id)
        running.append(edge)
        return edge

    yield start
    for e in running:
        if e.proc.returncode is None:
            e.proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(e.proc.wait(), WAIT)


async def until(pred: Callable[[], Any], timeout: float = WAIT) -> Any:
    """Poll a (blocking) condition in a thread until it is truthy, within a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(pred)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.05)


def edges_of(api: ApiThread) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in fetch_edges(api.url, ROOT_KEY, ROOT_SECRET)}


def edges_where(
    api: ApiThread, pred: Callable[[dict[str, dict[str, Any]]], bool]
) -> dict[str, dict[str, Any]] | None:
    found = edges_of(api)
    return found if pred(found) else None


def dist_config(ref: str, origin_port: int, **over: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "CallerReference": ref,
        "Comment": "fleet",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "app",
                    "DomainName": "127.0.0.1",
                    "CustomOriginConfig": {
                        "HTTPPort": origin_port,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "http-only",
                    },
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "app",
            "ViewerProtocolPolicy": "allow-all",
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",  # CachingOptimized
        },
    }
    config.update(over)
    return config


def status(cf: Any, dist_id: str) -> str:
    return str(cf.get_distribution(Id=dist_id)["Distribution"]["Status"])


async def test_boto3_lifecycle_with_edges_following(
    api: ApiThread, origins: list[TestOrigin], start_edge: Callable[..., Awaitable[Edge]]
) -> None:
    a, b = origins
    a.set("/page", Reply(200, [CC], b"page from a"))
    b.set("/page", Reply(200, [CC], b"page from b"))
    b.set("/new", Reply(200, [CC], b"new from b"))
    cf = client(api.url)
    # The second edge preforks: its master follows and relays to both workers.
    edges = [await start_edge(api.url, "e0"), await start_edge(api.url, "e1", "--workers", "2")]
    listed = await until(lambda: edges_where(api, lambda e: len(e) == 2))
    assert {e["status"] for e in listed.values()} == {"healthy"}
    assert {e["pop"] for e in listed.values()} == {"TST50-C1"}

    created = await asyncio.to_thread(
        cf.create_distribution, DistributionConfig=dist_config(unique(), a.port)
    )
    dist_id = created["Distribution"]["Id"]
    assert created["Distribution"]["Status"] == "InProgress"
    await until(lambda: status(cf, dist_id) == "Deployed")
    for edge in edges:
        first = await edge.get("/page")
        assert (first.status, first.body) == (200, b"page from a")
    assert (await edges[0].get("/page")).x_cache == "Hit from cloudfront"

    current = await asyncio.to_thread(cf.get_distribution_config, Id=dist_id)
    config = current["DistributionConfig"]
    config["Origins"]["Items"][0]["CustomOriginConfig"]["HTTPPort"] = b.port
    updated = await asyncio.to_thread(
        cf.update_distribution, Id=dist_id, IfMatch=current["ETag"], DistributionConfig=config
    )
    assert updated["Distribution"]["Status"] == "InProgress"
    await until(lambda: status(cf, dist_id) == "Deployed")
    for edge in edges:
        assert (await edge.get("/new")).body == b"new from b"  # the new origin
    assert (await edges[0].get("/page")).body == b"page from a"  # still cached

    inv = await asyncio.to_thread(
        cf.create_invalidation,
        DistributionId=dist_id,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/page"]}, "CallerReference": "i1"},
    )
    inv_id = inv["Invalidation"]["Id"]

    def inv_status() -> str:
        found = cf.get_invalidation(DistributionId=dist_id, Id=inv_id)
        return str(found["Invalidation"]["Status"])

    await until(lambda: inv_status() == "Completed")
    for edge in edges:
        again = await edge.get("/page")
        assert (again.x_cache, again.body) == ("Miss from cloudfront", b"page from b")

    current = await asyncio.to_thread(cf.get_distribution_config, Id=dist_id)
    config = current["DistributionConfig"]
    config["Enabled"] = False
    disabled = await asyncio.to_thread(
        cf.update_distribution, Id=dist_id, IfMatch=current["ETag"], DistributionConfig=config
    )
    await until(lambda: status(cf, dist_id) == "Deployed")
    for edge in edges:
        assert (await edge.get("/page")).status == 403  # a disabled distribution serves nothing
    await asyncio.to_thread(cf.delete_distribution, Id=dist_id, IfMatch=disabled["ETag"])
    with api.state.db.read() as session:
        head = session.scalar(
            select(DistributionVersion.seq).order_by(DistributionVersion.seq.desc())
        )
    listed = await until(
        lambda: edges_where(api, lambda e: all(x["configSeq"] == head for x in e.values()))
    )
    assert all(not x["errors"] and x["configBehind"] == 0 for x in listed.values())

    env = {"AWS_ACCESS_KEY_ID": ROOT_KEY, "AWS_SECRET_ACCESS_KEY": ROOT_SECRET}
    shown = await asyncio.to_thread(
        CliRunner().invoke, main, ["edges", "--api", api.url, "--json"], env=env
    )
    assert shown.exit_code == 0, shown.output
    rows = [json.loads(line) for line in shown.output.splitlines()]
    assert sorted(r["id"] for r in rows) == sorted(e.edge_id for e in edges)
    table = await asyncio.to_thread(
        CliRunner().invoke, main, ["edges", "--api", api.url], env={**env, "COLUMNS": "200"}
    )
    assert table.exit_code == 0 and "healthy" in table.output and "TST50-C1" in table.output
    refused = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["edges", "--api", api.url],
        env={**env, "AWS_SECRET_ACCESS_KEY": "x" * 20},
    )
    assert refused.exit_code == 1 and "SignatureDoesNotMatch" in refused.output


async def test_refused_config_keeps_last_good_and_edges_survive_restarts(
    api: ApiThread, origins: list[TestOrigin], start_edge: Callable[..., Awaitable[Edge]]
) -> None:
    a, b = origins
    a.set("/x", Reply(200, [CC], b"x from a"))
    b.set("/x", Reply(200, [CC], b"x from b"))
    cf = client(api.url)
    edge = await start_edge(api.url, "e1")
    await until(lambda: edge.edge_id in edges_of(api))
    created = await asyncio.to_thread(
        cf.create_distribution, DistributionConfig=dist_config(unique(), a.port)
    )
    dist_id = created["Distribution"]["Id"]
    await until(lambda: status(cf, dist_id) == "Deployed")
    assert (await edge.get("/x")).body == b"x from a"

    # A version this edge cannot load (as from a newer API): stored, refused, reported.
    doc = dist_config(created["Distribution"]["DistributionConfig"]["CallerReference"], b.port)
    with api.state.db.write() as session:
        view = distributions.update_distribution(
            session, dist_id, doc, created["ETag"], api.settings, _now()
        )
        row = session.scalar(
            select(DistributionVersion).where(
                DistributionVersion.distribution_id == dist_id,
                DistributionVersion.etag == view.etag,
            )
        )
        assert row is not None and row.config is not None
        row.config = {**row.config, "FutureSetting": True}
    errors = await until(lambda: edges_of(api)[edge.edge_id]["errors"])
    assert "FutureSetting" in errors[dist_id]["message"]
    assert status(cf, dist_id) == "InProgress"
    assert (await edge.get("/x")).body == b"x from a"  # the last good config serves

    # Fixed by the next update; the edge goes down before it and catches up on start.
    await edge.stop()
    config = await asyncio.to_thread(cf.get_distribution_config, Id=dist_id)
    await asyncio.to_thread(
        cf.update_distribution,
        Id=dist_id,
        IfMatch=config["ETag"],
        DistributionConfig=config["DistributionConfig"],
    )
    edge = await start_edge(api.url, "e1")
    await until(lambda: status(cf, dist_id) == "Deployed")
    assert not edges_of(api)[edge.edge_id]["errors"]
    b.set("/y", Reply(200, [CC], b"y from b"))
    assert (await edge.get("/y")).body == b"y from b"

    # With the API down, a restarted edge serves its last good configuration from disk.
    await edge.stop()
    api.stop()
    edge = await start_edge(api.url, "e1")
    b.set("/z", Reply(200, [CC], b"z from b"))
    assert (await edge.get("/z")).body == b"z from b"
    api.stop = lambda: None  # type: ignore[method-assign]  # already stopped


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def test_domain_names_route_between_distributions(
    api: ApiThread,
    bus: tuple[str, str] | None,
    origins: list[TestOrigin],
    start_edge: Callable[..., Awaitable[Edge]],
) -> None:
    if bus is not None:
        pytest.skip("routing does not depend on the transport")
    cf = client(api.url)
    edge = await start_edge(api.url, "e1")
    await until(lambda: edge.edge_id in edges_of(api))  # else nothing waits for it
    domains = []
    for o, name in zip(origins, "ab", strict=True):
        o.set("/who", Reply(200, [CC], name.encode()))
        made = await asyncio.to_thread(
            cf.create_distribution, DistributionConfig=dist_config(unique(), o.port)
        )
        domains.append(made["Distribution"]["DomainName"])
        await until(lambda d=made["Distribution"]["Id"]: status(cf, d) == "Deployed")
    assert [(await edge.get("/who", host=d)).body for d in domains] == [b"a", b"b"]
    assert (await edge.get("/who", host="other.example")).status == 403  # two: Host decides


def test_fleet_routes_refuse_bad_input(tmp_path: Path) -> None:
    server = start_api(tmp_path, f"sqlite:///{tmp_path / 'control.db'}")
    try:
        url = server.url

        def call(method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, bytes]:
            data = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body)
            status, _, payload = raw_request(
                url, method, path, data.encode() if isinstance(data, str) else data, **kw
            )
            return status, payload

        ok, payload = call("POST", "/openfront/fleet/edges/e1", {"pop": "AMS1-C1"})
        assert ok == 200 and json.loads(payload)["invalidation_seq"] == 0
        cases = [
            (call("POST", "/openfront/fleet/edges/bad!id", {}), 400, "InvalidArgument"),
            (call("POST", "/openfront/fleet/edges/e1", b"{nope"), 400, "MalformedInput"),
            (call("POST", "/openfront/fleet/edges/e1", {"region": 5}), 400, "InvalidArgument"),
            (call("POST", "/openfront/fleet/edges/e9/ack", {"config_seq": 1,
                  "invalidation_seq": 0}), 404, "NoSuchEdge"),
            (call("POST", "/openfront/fleet/edges/e1/ack", {"config_seq": -1}), 400,
             "InvalidArgument"),
            (call("GET", "/openfront/fleet/changes?edge=e1&after=x"), 400, "InvalidArgument"),
            (call("GET", "/openfront/fleet/changes?edge=e1", sign=False), 403,
             "MissingAuthenticationToken"),
            (call("GET", "/openfront/edges", secret="wrong-secret-0123456789"), 403,
             "SignatureDoesNotMatch"),
            (call("POST", "/openfront/edges", {}), 405, "MethodNotAllowed"),
            (call("GET", "/openfront/fleet/nothing"), 404, "UnknownOperation"),
        ]  # fmt: skip
        for (status, body), want_status, want_code in cases:
            assert (status, error_code(body)) == (want_status, want_code)
        status, payload = call("GET", "/openfront/fleet/changes?edge=e1&after=0&wait=0")
        assert status == 200
        assert json.loads(payload) == {
            "config_seq": 0, "invalidation_seq": 0, "configs": [], "invalidations": []
        }  # fmt: skip
        with server.state.db.read() as session:
            records = audit_query(session, action="OpenFrontRegisterEdge")
        results = sorted(r["result"] for r in records)
        assert results == ["InvalidArgument", "InvalidArgument", "MalformedInput", "Success"]
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["edge", "--origin", "http://127.0.0.1:1", "--control-plane", "http://127.0.0.1:2"],
         {}, "exclude each other"),
        (["edge", "--origin", "http://127.0.0.1:1", "--edge-id", "e1"], {}, "need --control-plane"),
        (["edge", "--control-plane", "http://127.0.0.1:2"],
         {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None}, "needs AWS_ACCESS_KEY_ID"),
        (["edge", "--control-plane", "127.0.0.1:2"], {}, "not an API URL"),
        (["edge", "--control-plane", "http://127.0.0.1:2", "--bus", "http://x"], {}, "nats://"),
    ],
)  # fmt: skip
def test_edge_follow_flags_are_checked(
    args: list[str], env: dict[str, str | None], message: str
) -> None:
    base = {"AWS_ACCESS_KEY_ID": ROOT_KEY, "AWS_SECRET_ACCESS_KEY": ROOT_SECRET}
    result = CliRunner().invoke(main, args, env={**base, **env})
    assert result.exit_code == 2 and message in result.output, result.output


def test_edges_command_without_an_api() -> None:
    env = {"AWS_ACCESS_KEY_ID": ROOT_KEY, "AWS_SECRET_ACCESS_KEY": ROOT_SECRET}
    result = CliRunner().invoke(main, ["edges", "--api", "http://127.0.0.1:1"], env=env)
    assert result.exit_code == 1 and "http://127.0.0.1:1" in result.output


def _rsa_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def _ttl_policy(name: str, ttl: int) -> dict[str, Any]:
    return {"Name": name, "MinTTL": 0, "DefaultTTL": ttl, "MaxTTL": max(ttl, 1)}


async def test_edges_apply_custom_cache_policies_and_key_groups(
    api: ApiThread, origins: list[TestOrigin], start_edge: Callable[..., Awaitable[Edge]]
) -> None:
    from openfront.signing import sign_url

    a, _ = origins
    a.set("/page", Reply(200, [], b"page"))  # no Cache-Control: the policy's DefaultTTL rules
    a.set("/private/doc", Reply(200, [("Cache-Control", "no-store")], b"secret"))
    cf = client(api.url)
    edge = await start_edge(api.url, "e1")
    await until(lambda: edge.edge_id in edges_of(api))

    made = await asyncio.to_thread(
        cf.create_cache_policy, CachePolicyConfig=_ttl_policy(unique("cp"), 0)
    )
    policy_id = made["CachePolicy"]["Id"]
    (old_private, old_public), (new_private, new_public) = _rsa_pair(), _rsa_pair()
    keys = []
    for public in (old_public, new_public):
        key = await asyncio.to_thread(
            cf.create_public_key,
            PublicKeyConfig={
                "CallerReference": unique(),
                "Name": unique("k"),
                "EncodedKey": public,
            },
        )
        keys.append(key["PublicKey"]["Id"])
    group = await asyncio.to_thread(
        cf.create_key_group, KeyGroupConfig={"Name": unique("kg"), "Items": [keys[0]]}
    )
    group_id = group["KeyGroup"]["Id"]
    config = dist_config(unique(), a.port)
    config["DefaultCacheBehavior"]["CachePolicyId"] = policy_id
    config["CacheBehaviors"] = {
        "Quantity": 1,
        "Items": [
            {
                "PathPattern": "/private/*",
                "TargetOriginId": "app",
                "ViewerProtocolPolicy": "allow-all",
                "CachePolicyId": policy_id,
                "TrustedKeyGroups": {"Enabled": True, "Quantity": 1, "Items": [group_id]},
            }
        ],
    }
    created = await asyncio.to_thread(cf.create_distribution, DistributionConfig=config)
    dist_id = created["Distribution"]["Id"]
    await until(lambda: status(cf, dist_id) == "Deployed")

    async def hit_twice() -> str | None:
        await edge.get("/page")
        second: str | None = (await edge.get("/page")).x_cache
        return second

    assert await hit_twice() != "Hit from cloudfront"  # DefaultTTL 0: nothing is kept

    current = await asyncio.to_thread(cf.get_cache_policy_config, Id=policy_id)
    new_ttl = {**current["CachePolicyConfig"], "DefaultTTL": 600, "MaxTTL": 600}
    await asyncio.to_thread(
        cf.update_cache_policy, Id=policy_id, IfMatch=current["ETag"], CachePolicyConfig=new_ttl
    )
    # The policy travels to the edges in a new version of each distribution using it.
    assert (await asyncio.to_thread(cf.get_distribution, Id=dist_id))["ETag"] != created["ETag"]
    await until(lambda: status(cf, dist_id) == "Deployed")
    assert await hit_twice() == "Hit from cloudfront"

    def signed(private: str, key_id: str) -> str:
        url = sign_url("http://test.local/private/doc", key_id, private, expires=time.time() + 600)
        return url.removeprefix("http://test.local")

    assert (await edge.get("/private/doc")).status == 403
    assert (await edge.get(signed(old_private, keys[0]))).body == b"secret"
    assert (await edge.get(signed(new_private, keys[1]))).status == 403

    # Rotating the group's key reaches the edge: the new key signs, the old one no longer does.
    await asyncio.to_thread(
        cf.update_key_group,
        Id=group_id,
        IfMatch=group["ETag"],
        KeyGroupConfig={"Name": group["KeyGroup"]["KeyGroupConfig"]["Name"], "Items": [keys[1]]},
    )
    await until(lambda: status(cf, dist_id) == "Deployed")
    assert (await edge.get(signed(new_private, keys[1]))).body == b"secret"
    assert (await edge.get(signed(old_private, keys[0]))).status == 403
    got = await asyncio.to_thread(cf.get_distribution, Id=dist_id)
    active = got["Distribution"]["ActiveTrustedKeyGroups"]["Items"]
    assert active == [{"KeyGroupId": group_id, "KeyPairIds": {"Quantity": 1, "Items": [keys[1]]}}]
    assert not edges_of(api)[edge.edge_id]["errors"]
