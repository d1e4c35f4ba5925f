"""TLS to origins: client contexts per allowed version range, and CloudFront's name rule.

CloudFront sends the Host header it forwards as SNI (the origin's domain name when Host is not
forwarded) and accepts a certificate that names either of the two (guide §1.12, CFDG
http-502-bad-gateway.md). OpenSSL checks one name per handshake, so when the two differ the chain
is verified by OpenSSL and the names by `certificate_names_match`.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from openfront.errors import ConfigError

_log = logging.getLogger(__name__)

_VERSIONS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}


class OriginTls:
    """Client contexts for origins; built on first use (loading the system CAs takes ~0.1 s)."""

    def __init__(self, ca_bundle: Path | None = None, *, verify: bool = True) -> None:
        self.verify = verify
        self._ca_bundle = ca_bundle
        self._contexts: dict[tuple[tuple[str, ...], bool], ssl.SSLContext] = {}
        if ca_bundle is not None:
            # Checked now so a wrong path is a start-up error, not a 502 on the first miss.
            try:
                ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=ca_bundle)
            except (OSError, ssl.SSLError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                raise ConfigError(f"edge.origin_tls.ca_bundle {ca_bundle}: {reason}") from None
        if not verify:
            _log.warning(
                "edge.origin_tls.verify is false: origin certificates are NOT checked, anyone "
                "on the path can impersonate an origin; use this in a lab only"
            )

    def context(self, versions: tuple[str, ...], *, check_hostname: bool) -> ssl.SSLContext:
        """The context for origins allowing `versions` (oldest first).

        With check_hostname false the chain is still verified; the caller checks the names.
        """
        key = (versions, check_hostname and self.verify)
        ctx = self._contexts.get(key)
        if ctx is None:
            ctx = self._contexts[key] = self._build(versions, check_hostname and self.verify)
        return ctx

    def _build(self, versions: tuple[str, ...], check_hostname: bool) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        if self._ca_bundle is not None:
            ctx.load_verify_locations(cafile=self._ca_bundle)
        ctx.minimum_version = _VERSIONS[versions[0]]
        ctx.maximum_version = _VERSIONS[versions[-1]]
        ctx.check_hostname = check_hostname
        if not self.verify:
            ctx.verify_mode = ssl.CERT_NONE
        return ctx


def certificate_names_match(cert: Mapping[str, Any], names: Iterable[str]) -> bool:
    """Whether a verified peer certificate (``getpeercert()``) names one of `names`.

    RFC 6125 as OpenSSL applies it for Python: DNS subjectAltNames, a `*` only as the whole
    leftmost label; IP addresses only against IP entries; the subject CN only without DNS names.
    """
    sans = cert.get("subjectAltName", ())
    dns = [value for kind, value in sans if kind == "DNS"]
    ips = [value for kind, value in sans if kind == "IP Address"]
    if not dns:
        dns = [v for rdn in cert.get("subject", ()) for k, v in rdn if k == "commonName"]
    for name in names:
        ip = _ip(name)
        if ip is not None:
            if any(_ip(value) == ip for value in ips):
                return True
        elif any(dns_name_matches(pattern, name) for pattern in dns):
            return True
    return False


def dns_name_matches(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if not pattern or not host:
        return False
    if pattern == host:
        return True
    if not pattern.startswith("*.") or "*" in pattern[2:] or pattern.count(".") < 2:
        return False  # `*.com`-style wildcards and partial-label ones never match
    label, dot, parent = host.partition(".")
    return bool(label) and bool(dot) and parent == pattern[2:]


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return None


def bad_server_name(name: str) -> str | None:
    """Why Python's ssl would refuse `name` as server_hostname, else None.

    asyncio raises that ValueError only after the TCP connect and leaks the socket, so names
    are checked before connecting.
    """
    if not name or name.startswith(".") or any(c <= " " or c == "\x7f" for c in name):
        return f"{name!r} is not a host name"
    try:
        name.encode("idna")
    except UnicodeError as exc:
        return f"{name!r} is not a host name: {exc}"
    return None


def sni_name(host_header: str) -> str:
    """The name in a Host header value: port and IPv6 brackets removed, lower case."""
    host = host_header.strip()
    if host.startswith("["):
        return host[1 : host.find("]")].lower() if "]" in host else host.lower()
    return host.rpartition(":")[0].lower() if ":" in host else host.lower()
