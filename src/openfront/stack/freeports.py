"""Free ports for `openfront up --free-ports`, taken below the kernel's ephemeral range.

A port the kernel hands out for bind(("", 0)) comes from the ephemeral range, which every
outgoing connection (the stores' own gRPC links among them) also draws from. Between our probe
and the service's own bind, such a connection can take the port. Ports below that range are only
taken by listeners, so the window is harmless in practice. A port handed out once is never
handed out again by this process: `openfront up` picks its services' ports in several rounds
before any of them binds, and a later round must not choose a port an earlier one chose.
"""

from __future__ import annotations

import secrets
import socket

# Below Linux's default ephemeral range (32768-60999) and the stores' port blocks (20000+).
LOW, HIGH = 10_000, 20_000
ATTEMPTS = 200

_handed: set[int] = set()  # ports free_probe chose in this process


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
        port = LOW + secrets.randbelow(HIGH - LOW)
        if port in _handed:
            continue
        probe = bind_probe(host, port)
        if probe is not None:
            _handed.add(port)
            return probe
    return bind_probe(host, 0)
