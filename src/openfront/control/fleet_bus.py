"""Publishing the fleet's changes to NATS JetStream (``openfront api --bus nats://...``).

The database stays the source of truth: a publisher follows it like an edge would, from the
last message the stream holds, and publishes every configuration version and invalidation in
order, one subject per kind. Each message carries a ``Nats-Msg-Id``, so a second API server
publishing the same rows is deduplicated by the stream (within its duplicate window), and
edges skip anything at or below their cursors in any case.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from openfront.control import fleet
from openfront.control.db import Database
from openfront.control.fleet_http import ChangeSignal
from openfront.control.fleet_nats import connect, subjects

log = logging.getLogger("openfront.control.bus")
BATCH = 500
RECHECK_SECONDS = 1.0


async def ensure_stream(js: Any, stream: str) -> None:
    from nats.js.api import StorageType, StreamConfig
    from nats.js.errors import NotFoundError

    config = StreamConfig(name=stream, subjects=list(subjects(stream)), storage=StorageType.FILE)
    try:
        await js.stream_info(stream)
    except NotFoundError:
        await js.add_stream(config)


async def _last_seq(js: Any, stream: str, subject: str) -> int:
    from nats.js.errors import NotFoundError

    try:
        msg = await js.get_last_msg(stream, subject)
    except NotFoundError:
        return 0
    return int(json.loads(msg.data)["seq"])


class BusPublisher:
    def __init__(self, url: str, stream: str, db: Database, signal: ChangeSignal) -> None:
        self.url = url
        self.stream = stream
        self.db = db
        self.signal = signal
        self._nc: Any = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> None:
        """Connect and make sure the stream exists; raises when NATS cannot be reached."""
        self._nc = await connect(self.url, log)
        await ensure_stream(self._nc.jetstream(), self.stream)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        # The flag as well as the cancel: asyncio.wait_for of Python 3.11 can swallow a cancel
        # that arrives as the awaited event fires (and closing the API fires it).
        self._closing = True
        if self._task is not None:
            # The loop ends by itself at its next check (the API's close wakes it), so no
            # thread still reads the database once this returns; cancel only if NATS hangs.
            done, _ = await asyncio.wait({self._task}, timeout=5.0)
            if not done:
                self._task.cancel()
                try:
                    await self._task
                except asyncio.CancelledError:
                    pass
        if self._nc is not None:
            await self._nc.close()

    async def _run(self) -> None:
        config_subject, inv_subject = subjects(self.stream)
        config_seq = inv_seq = -1
        while not self._closing:
            since = self.signal.generation
            try:
                if self._nc.is_closed:  # it gave up reconnecting: start a new connection
                    self._nc = await connect(self.url, log)
                js = self._nc.jetstream()
                if config_seq < 0:
                    config_seq = await _last_seq(js, self.stream, config_subject)
                    inv_seq = await _last_seq(js, self.stream, inv_subject)
                configs, invs = await asyncio.to_thread(self._fetch, config_seq, inv_seq)
                for subject, kind, items in (
                    (config_subject, "config", configs),
                    (inv_subject, "invalidation", invs),
                ):
                    for item in items:
                        payload = json.dumps({"kind": kind, **item}, separators=(",", ":"))
                        msg_id = f"{self.stream}-{kind}-{item['seq']}"
                        await js.publish(subject, payload.encode(), headers={"Nats-Msg-Id": msg_id})
                        if kind == "config":
                            config_seq = item["seq"]
                        else:
                            inv_seq = item["seq"]
                if len(configs) == BATCH or len(invs) == BATCH:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("publishing to %s failed: %s; retrying", self.url, exc)
                config_seq = -1  # ask the stream again where it stands
                await asyncio.sleep(RECHECK_SECONDS)
                continue
            await self.signal.wait(RECHECK_SECONDS, since)

    def _fetch(
        self, config_after: int, inv_after: int
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        with self.db.read() as session:
            return fleet.each_change_after(session, config_after, inv_after, BATCH)
