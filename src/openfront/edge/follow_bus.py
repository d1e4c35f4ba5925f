"""Following the control plane over NATS JetStream (``openfront edge --bus nats://...``).

Each edge has a durable pull consumer (``edge_<id>``) on the stream the API publishes to, so
an edge that was down gets everything it missed when it starts, even while the API itself is
down. Acknowledgements and heartbeats still go to the API over HTTP (the statuses live in its
database); the JetStream message is acked after the change is applied and saved.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import TYPE_CHECKING, Any

from openfront.control.fleet_nats import connect, subjects

if TYPE_CHECKING:
    from openfront.edge.follow import Follower

_log = logging.getLogger("openfront.edge.follow")
BATCH = 256


def durable_name(edge_id: str) -> str:
    return "edge_" + re.sub(r"[^A-Za-z0-9_-]", "_", edge_id)


def changes_from(messages: list[dict[str, Any]], config_seq: int, inv_seq: int) -> dict[str, Any]:
    """What the long-poll would have answered: the messages past the cursors, in order."""
    configs = [m for m in messages if m.get("kind") == "config" and m["seq"] > config_seq]
    invs = [m for m in messages if m.get("kind") == "invalidation" and m["seq"] > inv_seq]
    return {
        "config_seq": max([config_seq, *(m["seq"] for m in configs)]),
        "invalidation_seq": max([inv_seq, *(m["seq"] for m in invs)]),
        "configs": configs,
        "invalidations": invs,
    }


async def _subscribe(js: Any, follower: Follower, stream: str) -> Any:
    from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
    from nats.js.errors import NotFoundError

    durable = durable_name(follower.edge_id)
    if follower.fresh:
        # No snapshot on disk: whatever the old consumer already delivered is lost with it.
        try:
            await js.delete_consumer(stream, durable)
        except NotFoundError:
            pass
        follower.fresh = False
    prefix = subjects(stream)[0].rsplit(".", 1)[0]
    config = ConsumerConfig(
        durable_name=durable,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=60,
    )
    return await js.pull_subscribe(f"{prefix}.>", durable=durable, stream=stream, config=config)


async def follow_bus(follower: Follower, url: str, stream: str) -> None:
    from nats.errors import TimeoutError as NatsTimeout

    from openfront.edge.follow import ApiRefused

    heartbeat = follower.cp.poll_seconds
    nc = None
    try:
        sub = None
        registered, ack_due, last_ack = False, True, 0.0
        while not follower.closing:
            if not registered:
                try:
                    await follower.register()
                    registered, ack_due = True, True
                except Exception as exc:  # the API is down: follow the bus meanwhile
                    _log.warning("control plane %s: %s", follower.cp.url, exc)
            try:
                if nc is None or nc.is_closed:
                    nc, sub = await connect(url, _log), None
                if sub is None:
                    sub = await _subscribe(nc.jetstream(), follower, stream)
                wait = (
                    1.0 if not registered else max(0.1, heartbeat - (time.monotonic() - last_ack))
                )
                msgs = await sub.fetch(BATCH, timeout=wait)
            except NatsTimeout:
                msgs = []
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _log.warning("NATS %s: %s; retrying", url, exc)
                sub = None
                await asyncio.sleep(follower.cp.retry_seconds)
                continue
            if msgs:
                snap = follower.snapshot
                changes = changes_from(
                    [json.loads(m.data) for m in msgs],
                    snap.config_seq,
                    snap.invalidation_seq or 0,
                )
                if changes["configs"] or changes["invalidations"]:
                    await follower.apply(changes)
                    ack_due = True
                for m in msgs:
                    await m.ack()
            if registered and (ack_due or time.monotonic() - last_ack >= heartbeat):
                try:
                    await follower.ack()  # also the heartbeat
                    ack_due, last_ack = False, time.monotonic()
                except ApiRefused as exc:
                    registered = exc.code != "NoSuchEdge"
                    _log.warning("control plane refused the ack: %s", exc)
                except Exception as exc:
                    _log.warning("control plane %s: %s", follower.cp.url, exc)
                    last_ack = time.monotonic()  # retried at the next heartbeat
    finally:
        if nc is not None:
            await nc.close()
