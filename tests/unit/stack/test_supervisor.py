"""The supervisor with real children (`python -m openfront origin`): ready, restart, stop."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from openfront.stack.supervisor import Backoff, ServiceSpec, ServiceStartError, Supervisor

WAIT = 30.0  # bound on any handshake in these tests


def origin_spec(tmp_path: Path, **kw: Any) -> ServiceSpec:
    root = tmp_path / "site"
    root.mkdir(exist_ok=True)
    (root / "hello.txt").write_text("hello")
    args = ("origin", "--root", str(root), "--listen", "127.0.0.1:0")
    return ServiceSpec("origin", args, tmp_path / "run" / "origin.log", **kw)


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False


def port_open(url: str) -> bool:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.socket() as s:
        return s.connect_ex((host, int(port))) == 0


def test_start_ready_then_stop(tmp_path: Path) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    async def main() -> tuple[dict[str, Any], int, str]:
        sup = Supervisor(tmp_path / "run", on_ready=lambda n, i: seen.append((n, i)), grace=5)
        ready = await sup.start(origin_spec(tmp_path))
        pid = sup.pid("origin")
        async with httpx.AsyncClient(verify=False) as client:
            body = (await client.get(ready["url"] + "/hello.txt")).text
        await sup.stop()
        return ready, pid, body

    ready, pid, body = asyncio.run(main())
    assert body == "hello"
    assert ready["pid"] == pid
    assert seen == [("origin", ready)]
    assert not pid_alive(pid)
    assert not port_open(ready["url"])
    assert not (tmp_path / "run" / "origin.ready.json").exists()


def test_child_that_exits_early_fails_with_its_output(tmp_path: Path) -> None:
    spec = ServiceSpec(
        "broken",
        ("origin", "--root", str(tmp_path / "missing")),
        tmp_path / "run" / "broken.log",
    )

    async def main() -> None:
        sup = Supervisor(tmp_path / "run")
        try:
            await sup.start(spec)
        finally:
            await sup.stop()

    with pytest.raises(ServiceStartError, match=r"(?s)broken exited with code 2.*does not exist"):
        asyncio.run(main())


def test_child_not_ready_in_time_is_stopped(tmp_path: Path) -> None:
    spec = origin_spec(tmp_path, ready_timeout=0)

    async def main() -> None:
        await Supervisor(tmp_path / "run").start(spec)

    with pytest.raises(ServiceStartError, match="not ready after 0s"):
        asyncio.run(main())
    assert not (tmp_path / "run" / "origin.ready.json").exists()


def test_a_child_that_dies_is_restarted(tmp_path: Path) -> None:
    async def main() -> tuple[int, int, list[str]]:
        restarted = asyncio.Event()
        downs: list[str] = []
        readies: list[int] = []

        def on_ready(name: str, info: dict[str, Any]) -> None:
            readies.append(info["pid"])
            if len(readies) == 2:
                restarted.set()

        sup = Supervisor(
            tmp_path / "run",
            on_ready=on_ready,
            on_down=lambda n, m: downs.append(f"{n}: {m}"),
            backoff=Backoff(first=0.01),
        )
        await sup.start(origin_spec(tmp_path))
        first = sup.pid("origin")
        os.kill(first, 9)
        try:
            async with asyncio.timeout(WAIT):
                await restarted.wait()
            return first, sup.pid("origin"), downs
        finally:
            await sup.stop()

    first, second, downs = asyncio.run(main())
    assert first != second
    assert downs == ["origin: exited with code -9; restart in 0.01s"]
    assert not pid_alive(first) and not pid_alive(second)


@pytest.mark.parametrize(
    ("previous", "ran_for", "expected"),
    [(None, 0.0, 0.5), (0.5, 1.0, 1.0), (16.0, 1.0, 30.0), (30.0, 1.0, 30.0), (8.0, 60.0, 0.5)],
)
def test_backoff(previous: float | None, ran_for: float, expected: float) -> None:
    assert Backoff().next(previous, ran_for) == expected
