"""MediaHub in a real browser against the real stack: `openfront up --free-ports` runs both
regions (Seoul in Korean, São Paulo in English), each with its bucket, media edge and worker.

A new user signs up in Seoul, uploads a generated clip (resuming after a reload), waits for it,
plays and seeks it through Seoul's media edge, switches language and makes the video public;
then signs in with the same account in São Paulo, where the page is in English and the video
plays through São Paulo's media edge (replicated, or fetched from Seoul's bucket by the edge's
failover).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e import mediahub_flow as flow
from tests.e2e.browser import Shots, chromium, require_browser

from openfront.mediahub.routes import web as web_routes

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
STARTUP = 120.0  # two weed minis, two MediaHubs and three edges on a loaded 2-core machine
SHUTDOWN = 30.0
READY_LINE = "Press Ctrl-C to stop"
SEOUL, SAO_PAULO = "ap-northeast-2", "sa-east-1"


def _wait_for_line(proc: subprocess.Popen[str], marker: str, seen: list[str]) -> None:
    """Read the stack's output on a thread until the marker, with a deadline."""
    assert proc.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()

    def pump(stream: Any) -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, args=(proc.stdout,), daemon=True).start()
    deadline = time.monotonic() + STARTUP
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            pytest.fail(f"openfront up was not ready in {STARTUP:.0f} s:\n" + "".join(seen))
        if line is None:
            pytest.fail("openfront up exited before it was ready:\n" + "".join(seen))
        seen.append(line)
        if marker in line:
            return


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`openfront up` without the control plane (not needed here: two fewer processes)."""
    require_browser()
    if not (web_routes.WEBAPP_DIR / "index.html").exists():
        pytest.skip("the web app is not built: make web (needs Node.js 18+)")
    data = tmp_path_factory.mktemp("stack") / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "openfront", "up", "--free-ports", "--no-api", "--data", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    seen: list[str] = []
    try:
        _wait_for_line(proc, READY_LINE, seen)
        services: dict[str, Any] = json.loads((data / "stack.json").read_text())["services"]
        yield services
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=SHUTDOWN)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            assert proc.stdout is not None
            proc.stdout.close()
    assert code == 0, "".join(seen)


def _site(services: dict[str, Any], region: str) -> flow.Site:
    hub, edge = services[f"mediahub-{region}"], services[f"media-edge-{region}"]
    return flow.Site(url=hub["url"], cdn_url=edge["url"])


async def test_both_regions_from_openfront_up(
    stack: dict[str, Any], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    seoul, sao_paulo = _site(stack, SEOUL), _site(stack, SAO_PAULO)
    assert stack[f"mediahub-{SEOUL}"]["language"] == "ko"
    assert stack[f"mediahub-{SAO_PAULO}"]["language"] == "en"
    shots = Shots.for_test(request.node.name)
    clip = flow.make_clip(tmp_path / "han-river.mp4")
    traffic = flow.Traffic()
    account = flow.Account()
    async with chromium(tmp_path / "profile") as context:
        page = await context.new_page()
        traffic.watch(page)
        try:
            await flow.sign_up(page, seoul, shots, account)
            await flow.upload(page, shots, traffic, clip)
            video_id = await flow.wait_until_ready(page, shots)
            await flow.watch(page, seoul, shots, traffic, video_id)
            await flow.switch_languages(page, seoul, shots, account)
            await flow.share_publicly(page, seoul, shots, traffic)
            await flow.other_region(page, sao_paulo, shots, traffic, account, video_id)
        except BaseException:
            await shots.take(page, "failure")
            raise
        finally:
            shots.note("traffic.log", traffic.lines())
    assert traffic.page_errors == []
