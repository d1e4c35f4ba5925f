"""Free ports for `openfront up --free-ports`, taken below the kernel's ephemeral range.

A port the kernel hands out for bind(("", 0)) comes from the ephemeral range, which every
outgoing connection (the stores' own gRPC links among them) also draws from. Between our probe
and the service's own bind, such a connection can take the port. Ports below that range are only
taken by listeners, so the window is harmless in practice.
"""

from __future__ import annotations

import secrets
import socket

# Below Linux's default ephemeral range (32768-60999) and the stores' port blocks (20000+).
LOW, HIGH = 10_000, 20_000
ATTEMPTS = 200


def bind_probe(host: str, port: int) -> socket.socket | None:
    """A socket bound to ``host:port`` (SO_REUSEADDR), or None when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        return None
    return sock


def free_probe(host: str) -> socket.socket | None:
    """A socket bound to a free port outside the ephemeral range, else to any free port."""
    for _ in range(ATTEMPTS):
        probe = bind_probe(host, LOW + secrets.randbelow(HIGH - LOW))
        if probe is not None:
            return probe
    return bind_probe(host, 0)
