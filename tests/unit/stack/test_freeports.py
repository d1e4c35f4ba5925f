"""Free ports for `openfront up --free-ports`: below the ephemeral range, never handed out twice."""

from __future__ import annotations

from openfront.stack import freeports


def test_ports_are_below_the_ephemeral_range_and_never_repeat() -> None:
    ports = []
    for _ in range(50):
        probe = freeports.free_probe("127.0.0.1")
        assert probe is not None
        ports.append(probe.getsockname()[1])
        probe.close()  # closed at once, as between `up`'s rounds of picks: still not reused
    assert len(set(ports)) == len(ports)
    assert all(freeports.LOW <= p < freeports.HIGH for p in ports)
