"""`openfront edge` as a real process: preforked workers on one port, and the uvloop loop."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import urllib.request
from pathlib import Path

import pytest
from tests.support.client import request
from tests.support.edge import dist_config, eventually
from tests.support.origin import Reply, TestOrigin

CC = ("Cache-Control", "max-age=600")


async def _start(tmp_path: Path, origin: TestOrigin, **edge: object):
    cfg = {
        "edge": {
            "listen": "127.0.0.1:0",
            "admin": {"listen": "127.0.0.1:0", "token": "tok"},
            "cache": {"disk_path": str(tmp_path / "cache")},
            **edge,
        },
        "distributions": [{"Id": "EW", "DistributionConfig": dist_config(origin.port)}],
    }
    (tmp_path / "edge.json").write_text(json.dumps(cfg))
    ready = tmp_path / "ready.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "openfront", "edge", "--config", str(tmp_path / "edge.json"),
        "--ready-file", str(ready),
    )  # fmt: skip
    await eventually(lambda: ready.exists() or proc.returncode is not None, timeout=60)
    assert proc.returncode is None, "edge exited before it was ready"
    info = json.loads(ready.read_text())
    return proc, int(info["url"].rsplit(":", 1)[1]), info["admin_url"]


def _admin(url: str, path: str, body: dict | None = None) -> bytes:
    req = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode() if body is not None else None,
        method="POST" if body is not None else "GET",
        headers={"Authorization": "Bearer tok"},
    )
    with urllib.request.urlopen(req, timeout=20) as resp:
        return resp.read()


async def _stop(proc: asyncio.subprocess.Process) -> int:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(proc.wait(), 30)


def _worker_pids(master: int) -> list[int]:
    kids = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(k) for k in kids]


async def test_prefork_workers_share_port_disk_and_invalidation(tmp_path, origin) -> None:
    origin.set("/w.txt", Reply(200, [CC], b"w" * 100))
    proc, port, admin = await _start(tmp_path, origin, workers=2)
    try:
        workers = _worker_pids(proc.pid)
        assert len(workers) == 2
        first = await request(port, path="/w.txt")
        assert first.x_cache == "Miss from cloudfront"
        # The worker that fetched it commits to the shared disk tier just after answering.
        cache = tmp_path / "cache"
        # A temp meta (`.tmp.<pid>.<hex>.meta`) is not published yet: wait for the renamed one.
        await eventually(
            lambda: any(not p.name.startswith(".tmp.") for p in cache.rglob("*.meta")), 30
        )
        # Fresh connections spread over both workers (each has its own request-id prefix).
        results = [first] + [await request(port, path="/w.txt") for _ in range(39)]
        prefixes = {(r.h("x-amz-cf-id") or "")[:40] for r in results}
        assert len(prefixes) == 2
        assert all(r.body == b"w" * 100 for r in results)
        # One worker fetched it; the other found it in the shared disk tier.
        assert origin.count("/w.txt") == 1
        assert {r.x_cache for r in results[1:]} == {"Hit from cloudfront"}
        removed = json.loads(await asyncio.to_thread(
            _admin, admin, "/invalidate", {"Paths": ["/w.txt"]}))  # fmt: skip
        assert removed["Status"] == "Completed"
        after = [await request(port, path="/w.txt") for _ in range(10)]
        assert "Miss from cloudfront" in {r.x_cache for r in after}
        metrics = (await asyncio.to_thread(_admin, admin, "/metrics")).decode()
        assert 'openfront_edge_requests_total{distribution="EW"} 50.0' in metrics
        # A worker killed with SIGKILL is replaced and the port keeps answering.
        os.kill(workers[0], signal.SIGKILL)
        await eventually(lambda: len(set(_worker_pids(proc.pid)) - {workers[0]}) == 2, 60)
        for _ in range(10):
            assert (await request(port, path="/w.txt")).status == 200
    finally:
        assert await _stop(proc) == 0
    assert all(_gone(pid) for pid in workers[1:])


def _gone(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "zombie" in status.read_text()


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
async def test_event_loops(tmp_path, origin, loop: str) -> None:
    origin.set("/u", Reply(200, [CC], b"u" * 5000))
    proc, port, _ = await _start(tmp_path, origin, event_loop=loop)
    try:
        a = await request(port, path="/u")
        b = await request(port, path="/u", headers={"Range": "bytes=0-9"})
        assert (a.x_cache, a.body) == ("Miss from cloudfront", b"u" * 5000)
        assert (b.status, b.body, b.x_cache) == (206, b"u" * 10, "Hit from cloudfront")
    finally:
        assert await _stop(proc) == 0


async def test_prefork_workers_serve_https(tmp_path, origin) -> None:
    import ssl

    from tests.support.client import read_response

    from openfront.cli._certgen import issue_certificate, load_or_create_ca

    ca, _ = load_or_create_ca(tmp_path)
    cert, key = issue_certificate(tmp_path, ["cdn.test"], ca)
    origin.set("/t", Reply(200, [CC], b"tls"))
    tls = {"listen": "127.0.0.1:0", "certificates": [
        {"names": ["cdn.test"], "cert_file": str(cert), "key_file": str(key)}]}  # fmt: skip
    proc, _port, _ = await _start(tmp_path, origin, workers=2, tls=tls)
    try:
        info = json.loads((tmp_path / "ready.json").read_text())
        https_port = int(info["https_url"].rsplit(":", 1)[1])
        ctx = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        for _ in range(4):
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", https_port, ssl=ctx, server_hostname="cdn.test"
            )
            writer.write(b"GET /t HTTP/1.1\r\nHost: cdn.test\r\nConnection: close\r\n\r\n")
            r = await read_response(reader)
            writer.close()
            assert (r.status, r.body) == (200, b"tls")
    finally:
        assert await _stop(proc) == 0
