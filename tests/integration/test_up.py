"""`openfront up` end to end: a real stack in a subprocess, a cache hit through it, clean Ctrl-C."""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

STARTUP = 60.0  # bound on the whole stack becoming ready
SHUTDOWN = 30.0  # bound on a clean stop (children get SIGTERM, SIGKILL after 5 s)
FAST = ("--no-storage",)  # storage regions have their own test (tests/integration/storage)

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("openfront.edge.server") is None,
    reason="openfront.edge.server is not written yet: `openfront up` has no edge to start",
)


def lines_of(stream: IO[str]) -> tuple[queue.Queue[str | None], threading.Thread]:
    """Lines from a pipe, read on a thread, so waiting for one can have a deadline."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return lines, thread


def wait_for_line(
    lines: queue.Queue[str | None], marker: str, seen: list[str], within: float = STARTUP
) -> None:
    deadline = time.monotonic() + within
    while True:
        line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        if line is None:
            pytest.fail("openfront up exited before it was ready:\n" + "".join(seen))
        seen.append(line)
        if marker in line:
            return


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(") ")[2].startswith("Z")
    except FileNotFoundError:
        return True


def port_closed(url: str) -> bool:
    host, _, port = url.removeprefix("http://").rpartition(":")
    with socket.socket() as s:
        return s.connect_ex((host, int(port))) != 0


def test_up_serves_through_the_edge_and_stops_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "openfront", "up", "--data", str(data), "--free-ports", *FAST],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.stdout is not None
    seen: list[str] = []
    lines, pump = lines_of(proc.stdout)
    try:
        wait_for_line(lines, "Press Ctrl-C to stop", seen)
        services: dict[str, Any] = json.loads((data / "stack.json").read_text())["services"]
        assert set(services) == {"origin", "edge", "api", "fleet-edge"}
        edge = services["edge"]
        with httpx.Client(verify=False) as client:
            first = client.get(edge["url"] + "/index.html")
            second = client.get(edge["url"] + "/index.html")
            metrics = client.get(edge["admin_url"] + "/metrics")
            # The demo distribution created through the API, served by the edge following it.
            followed = client.get(services["fleet-edge"]["url"] + "/index.html")
        assert followed.status_code == 200 and b"OpenFront demo" in followed.content
        assert (data / "api" / "root-credentials.env").stat().st_mode & 0o777 == 0o600
        assert first.status_code == second.status_code == 200
        assert first.headers["x-cache"] == "Miss from cloudfront"
        assert second.headers["x-cache"] == "Hit from cloudfront"
        assert first.content == second.content and b"OpenFront demo" in first.content
        assert 'distribution="EDEMOSTACK"' in metrics.text
        assert (data / "admin-token").stat().st_mode & 0o777 == 0o600
        assert (data / "origin" / "video" / "sample.bin").stat().st_size == 2 * 1024 * 1024
        assert edge["url"] in "".join(seen)
        check_demo_security(edge, data)
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=SHUTDOWN)
        pump.join(timeout=SHUTDOWN)  # the pipe is at EOF once every writer has exited
        proc.stdout.close()
    assert code == 0, "".join(seen)
    for service in services.values():
        assert gone(service["pid"]), service
    for url in (edge["url"], edge["admin_url"], services["origin"]["url"]):
        assert port_closed(url), url
    assert json.loads((data / "stack.json").read_text()) == {"services": {}}


def test_up_reports_a_child_that_cannot_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "origin").mkdir(parents=True)
    (data / "origin" / "_headers.json").write_text("{not json")
    result = subprocess.run(
        [sys.executable, "-m", "openfront", "up", "--data", str(data), "--free-ports", *FAST],
        capture_output=True,
        text=True,
        timeout=STARTUP,
    )
    assert result.returncode == 1
    assert "origin exited with code 2" in result.stdout
    assert "_headers.json: not valid JSON" in result.stdout
    assert json.loads((data / "stack.json").read_text()) == {"services": {}}


def check_demo_security(edge: dict[str, Any], data: Path) -> None:
    """The demo shows HTTPS, signed private content, the geo rule and compression."""
    https = "https://localhost:" + edge["https_url"].rpartition(":")[2]
    private = f"{https}/private/members.html"
    signed = subprocess.run(
        [
            *(sys.executable, "-m", "openfront", "sign-url", private),
            *("--key-pair-id", "KOPENFRONTDEMO"),
            *("--private-key", str(data / "keys" / "demo-signing-key.pem")),
        ],
        capture_output=True,
        text=True,
        timeout=STARTUP,
        check=True,
    ).stdout.strip()
    trust = ssl.create_default_context(cafile=str(data / "certs" / "ca.pem"))
    with httpx.Client(verify=trust) as client:
        home = client.get(https + "/")
        refused = client.get(private)
        allowed = client.get(signed)
    assert home.status_code == 200 and b"OpenFront demo" in home.content
    assert refused.status_code == 403 and b"MissingKey" in refused.content
    assert allowed.status_code == 200 and b"Members only" in allowed.content
    with httpx.Client() as client:
        blocked = client.get(
            edge["url"] + "/index.html", headers={"X-Forwarded-For": "175.45.176.1"}
        )
        plain = client.get(edge["url"] + "/private/members.html")
        brotli = client.get(edge["url"] + "/static/app.js", headers={"Accept-Encoding": "br"})
    assert blocked.status_code == 403
    assert plain.status_code == 301 and plain.headers["location"].startswith("https://")
    assert brotli.headers["content-encoding"] == "br"
