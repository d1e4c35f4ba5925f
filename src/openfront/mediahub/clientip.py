"""Which address a request comes from, and the rate-limit key for it.

Pure: no I/O. X-Forwarded-For is believed only from trusted proxies, read right to left
(each proxy appends the address it saw), so a client cannot pick its own address by sending
the header itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(cidrs: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def _address(text: str) -> Address | None:
    try:
        addr = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def _trusted(addr: Address, trusted: Sequence[Network]) -> bool:
    return any(addr.version == net.version and addr in net for net in trusted)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> Address | None:
    """The client's address: the peer's, or the nearest untrusted hop behind trusted proxies.

    ``forwarded_for`` holds every X-Forwarded-For header value in order.
    """
    addr = _address(peer) if peer else None
    if addr is None or not _trusted(addr, trusted):
        return addr
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        hop_addr = _address(hop)
        if hop_addr is None:
            break  # garbage from further out: trust nothing beyond it
        addr = hop_addr
        if not _trusted(hop_addr, trusted):
            break
    return addr


def rate_key(addr: Address | None) -> str:
    """``ip:`` + the address; IPv6 by /64, since one host usually holds a whole /64."""
    if addr is None:
        return "ip:unknown"
    if isinstance(addr, ipaddress.IPv6Address):
        return f"ip:{ipaddress.IPv6Network((addr, 64), strict=False)}"
    return f"ip:{addr}"
