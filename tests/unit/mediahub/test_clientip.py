"""The client address behind trusted proxies, and its rate-limit key."""

from __future__ import annotations

import ipaddress

import pytest

from openfront.mediahub.clientip import client_address, parse_networks, rate_key

PROXIES = parse_networks(["10.0.0.0/8", "::1/128"])


@pytest.mark.parametrize(
    ("peer", "xff", "client"),
    [
        ("203.0.113.9", [], "203.0.113.9"),
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # untrusted peer: header ignored
        ("10.1.1.1", [], "10.1.1.1"),
        ("10.1.1.1", ["198.51.100.1"], "198.51.100.1"),
        ("10.1.1.1", ["1.1.1.1, 198.51.100.1"], "198.51.100.1"),  # the client forged 1.1.1.1
        ("10.1.1.1", ["198.51.100.1, 10.2.2.2"], "198.51.100.1"),  # two proxies
        ("10.1.1.1", ["198.51.100.1", "10.2.2.2"], "198.51.100.1"),  # two header lines
        ("10.1.1.1", ["garbage, 10.2.2.2"], "10.2.2.2"),
        ("::1", ["2001:db8::5"], "2001:db8::5"),
        ("::ffff:10.1.1.1", ["198.51.100.1"], "198.51.100.1"),  # v4-mapped peer
        ("10.1.1.1", ["[2001:db8::7]"], "2001:db8::7"),
        ("10.1.1.1", ["10.3.3.3"], "10.3.3.3"),  # all trusted: the farthest one
    ],
)
def test_client_address(peer: str, xff: list[str], client: str) -> None:
    assert client_address(peer, xff, PROXIES) == ipaddress.ip_address(client)


def test_no_peer_or_a_bad_one_is_unknown() -> None:
    assert client_address(None, [], PROXIES) is None
    assert client_address("not-an-ip", [], PROXIES) is None
    assert rate_key(None) == "ip:unknown"


@pytest.mark.parametrize(
    ("addr", "key"),
    [
        ("198.51.100.7", "ip:198.51.100.7"),
        ("2001:db8:1:2:aaaa::1", "ip:2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "ip:2001:db8:1:2::/64"),
    ],
)
def test_rate_keys_group_ipv6_by_64(addr: str, key: str) -> None:
    assert rate_key(ipaddress.ip_address(addr)) == key
