"""A preforked edge worker: ``python -m openfront.edge.worker CONFIG PORT INDEX N CTL REPLY READY
TLS_PORT [STATE]``.

Started only by the master in ``openfront.edge.server``; it answers the master's control
messages (invalidate, metrics, status, load) one JSON line per message on the reply pipe. With
STATE (an edge following the control plane) CONFIG holds the edge settings only and the
distributions come from the follower's saved state, loaded at start and on every ``load``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from openfront.config import OpenFrontConfig
from openfront.config.load import load_config
from openfront.edge.server import RunningEdge, _install_loop, reuseport_socket, split_addr
from openfront.errors import ConfigError


def _stop(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def _snapshot_config(edge: RunningEdge, state_path: Path) -> OpenFrontConfig:
    """The configuration the master's follower saved (validated; run in a thread)."""
    from openfront.edge.follow import Snapshot, snapshot_config

    snap = Snapshot.load(state_path)
    return snapshot_config(edge.cfg, snap.distributions if snap else {})


async def _control(edge: RunningEdge, ctl_fd: int, reply_fd: int, state_path: Path | None) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(ctl_fd, "rb", buffering=0)
    )
    env = edge.env
    while True:
        line = await reader.readline()
        if not line:
            return  # the master is gone
        msg = json.loads(line)
        reply: dict[str, Any]
        try:
            op = msg.get("op")
            if op == "invalidate":
                reply = await env.invalidate(msg.get("dist"), list(msg.get("paths", [])))
            elif op == "metrics":
                reply = {"snapshot": env.metrics.snapshot()}
            elif op == "status":
                reply = env.status()
            elif op == "load" and state_path is not None:
                # Parsed off the loop, swapped on it: requests never see half a configuration.
                env.set_config(await asyncio.to_thread(_snapshot_config, edge, state_path))
                reply = {"loaded": len(env.distributions)}
            else:
                reply = {"error": f"unknown op {op!r}"}
        except LookupError as e:
            reply = {"error": str(e), "kind": "lookup"}
        except (ValueError, ConfigError) as e:
            reply = {"error": str(e), "kind": "value"}
        os.write(reply_fd, (json.dumps(reply) + "\n").encode())


async def _main(cfg: OpenFrontConfig, argv: list[str]) -> int:
    _, port, index, count, ctl, reply, ready, tls_port, *follow = argv
    state_path = Path(follow[0]) if follow else None
    host, _ = split_addr(cfg.edge.listen)
    edge = RunningEdge(cfg, share=int(count), worker=int(index))
    if state_path is not None:
        edge.env.set_config(_snapshot_config(edge, state_path))
    tls_sock = None
    if cfg.edge.tls is not None:
        tls_sock = reuseport_socket(split_addr(cfg.edge.tls.listen)[0], int(tls_port))
    await edge.start(sock=reuseport_socket(host, int(port)), tls_sock=tls_sock, admin=False)
    os.write(int(ready), b"ready\n")
    os.close(int(ready))
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, lambda: _stop(stop))
    control = asyncio.ensure_future(_control(edge, int(ctl), int(reply), state_path))
    try:
        await asyncio.wait([stop, control], return_when=asyncio.FIRST_COMPLETED)
    finally:
        control.cancel()
        await edge.close()
    return 0


def main() -> None:
    # SIGINT goes to the whole process group on Ctrl-C; the master decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if len(sys.argv) > 9:  # following a control plane: the file holds edge settings only
        from openfront.edge.follow import edge_only_config

        path = Path(sys.argv[1])
        cfg = edge_only_config(json.loads(path.read_text()), str(path))
    else:
        cfg = load_config(Path(sys.argv[1]))
    _install_loop(cfg)
    sys.exit(asyncio.run(_main(cfg, sys.argv[1:])))


if __name__ == "__main__":
    main()
