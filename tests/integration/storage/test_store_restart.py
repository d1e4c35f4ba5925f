"""A store killed with SIGKILL in the middle of a stream of uploads is restarted by the stack's
supervisor, and every upload it acknowledged is there afterwards, bytes and metadata."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from tests.support.weed import MEDIA_BUCKET, region_config

from openfront.stack.supervisor import Backoff, Supervisor
from openfront.storage.client import s3_client
from openfront.storage.ports import random_search_start
from openfront.storage.region import prepare_managed
from openfront.storage.service import region_spec

ACKED_BEFORE_KILL = 25
DEADLINE = 30.0


class Writer(threading.Thread):
    """PUTs numbered objects until the first failure; remembers what the store acknowledged."""

    def __init__(self, client: Any) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.acked: dict[str, bytes] = {}
        self.enough = threading.Event()
        self.failed: BaseException | None = None

    def run(self) -> None:
        n = 0
        while True:
            key, body = f"crash/{n:05d}", os.urandom(1000 + 37 * n)
            try:
                self.client.put_object(
                    Bucket=MEDIA_BUCKET, Key=key, Body=body, Metadata={"sha256": _sha(body)}
                )
            except Exception as exc:  # the store went away mid-stream: expected
                self.failed = exc
                self.enough.set()
                return
            self.acked[key] = body
            if len(self.acked) >= ACKED_BEFORE_KILL:
                self.enough.set()
            n += 1


def _sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@pytest.mark.slow  # 3-8 s: weed's volume server sometimes retries its first heartbeat after 5 s
async def test_kill_9_then_supervised_restart_keeps_every_acknowledged_object(
    tmp_path: Path,
) -> None:
    region = prepare_managed(
        region_config(), tmp_path / "regions", search_start=random_search_start()
    )
    ready: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    supervisor = Supervisor(
        tmp_path / "run",
        on_ready=lambda _name, info: ready.put_nowait(info),
        backoff=Backoff(first=0.05),
    )
    log = tmp_path / "run" / "s3.log"
    try:
        await supervisor.start(region_spec(region, log, os.environ))
        first = await ready.get()
        writer = Writer(s3_client(region.endpoint, region.credentials, region.name, attempts=1))
        writer.start()
        assert await asyncio.to_thread(writer.enough.wait, DEADLINE)
        os.kill(first["pid"], signal.SIGKILL)
        await asyncio.to_thread(writer.join, DEADLINE)
        assert writer.failed is not None, "the writer never saw the store go away"
        second = await asyncio.wait_for(ready.get(), DEADLINE)
        assert second["pid"] != first["pid"]
        assert second["url"] == first["url"]  # same ports, same master metadata dir

        client = region.client()
        assert len(writer.acked) >= ACKED_BEFORE_KILL
        for key, body in writer.acked.items():
            got = client.get_object(Bucket=MEDIA_BUCKET, Key=key)
            data = got["Body"].read()
            assert data == body, key
            assert got["Metadata"]["sha256"] == _sha(body)
        for info in (first, second):
            text = json.dumps(info)
            assert region.credentials.secret_access_key not in text
        assert region.credentials.secret_access_key not in log.read_text()
    finally:
        await supervisor.stop()
    assert ready.empty()
