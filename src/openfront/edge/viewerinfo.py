"""Viewer facts for one request: trusted client address, country, CloudFront-* headers."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from openfront.cache.policy import Behavior, Distribution
from openfront.edge.request import Request
from openfront.viewer import LOCATION_HEADERS, device_flags, viewer_headers
from openfront.viewer.geo import GeoLookup

# Names that depend on the viewer's address rather than on its request.
_CF_PREFIX = "cloudfront-"


def wanted_viewer_headers(beh: Behavior) -> frozenset[str]:
    """The CloudFront-* header names the behavior keys on or forwards (lower-case)."""
    names = set(beh.key.header_names) if beh.key.headers == "whitelist" else set()
    orp = beh.origin_request
    if orp.headers in ("whitelist", "allViewerAndWhitelistCloudFront"):
        names |= orp.header_names
    return frozenset(n for n in names if n.startswith(_CF_PREFIX))


class ViewerInfo:
    """What the edge needs about viewers, loaded once per worker."""

    def __init__(
        self,
        distributions: Iterable[Distribution],
        trusted_proxies: Iterable[str],
        geoip_database: str | None,
    ) -> None:
        dists = list(distributions)
        self.wanted: dict[int, frozenset[str]] = {}
        for d in dists:
            for beh in (*d.behaviors, d.default_behavior):
                names = wanted_viewer_headers(beh)
                if names:
                    self.wanted[id(beh)] = names
        needs_geo = bool(self.wanted) or any(d.geo_restriction[0] != "none" for d in dists)
        # Loading the country database takes ~0.15 s: only when a rule or a header needs it.
        self.geo = GeoLookup(geoip_database) if needs_geo else None
        self.proxies = tuple(ipaddress.ip_network(c, strict=False) for c in trusted_proxies)

    def client_ip(self, req: Request) -> str:
        """The viewer's address: the peer, or the first X-Forwarded-For entry when the peer is
        a trusted proxy."""
        if not self.proxies:
            return req.client_ip
        xff = req.lookup.get("x-forwarded-for")
        if not xff:
            return req.client_ip
        try:
            peer = ipaddress.ip_address(req.client_ip)
            if not any(peer in net for net in self.proxies):
                return req.client_ip
            first = xff.split(",", 1)[0].strip()
            ipaddress.ip_address(first)
        except ValueError:
            return req.client_ip
        return first

    def country(self, ip: str) -> str | None:
        return self.geo.country(ip) if self.geo is not None else None

    def add_headers(self, req: Request, scheme: str, names: frozenset[str]) -> None:
        """Put the CloudFront-* values the behavior uses into the request's header map, so the
        cache key and the origin request policy see them like viewer headers."""
        location = None
        if self.geo is not None and not names.isdisjoint(LOCATION_HEADERS):
            location = self.geo.location(req.client_ip)
        values = viewer_headers(
            country=self.country(req.client_ip) if location is None else None,
            location=location,
            flags=device_flags(req.lookup.get("user-agent")),
            client_ip=req.client_ip,
            client_port=req.client_port,
            scheme=scheme,
            http_version=req.version,
        )
        lookup = req.lookup
        for name, value in values:
            low = name.lower()
            if low in names:
                lookup[low] = value
