"""The viewer-side TLS listener's certificates: chosen by SNI, reloaded when their files change.

A distribution's security policy (ViewerCertificate.MinimumProtocolVersion) applies to its
aliases. OpenSSL has already chosen the version when the SNI callback runs, and switching
contexts there does not change it, so the callback refuses the handshake itself: for an alias
that needs TLS 1.3 it checks the versions the ClientHello offered, read from CPython's TLS message
hook (``SSLContext._msg_callback``; Python exposes no other view of the ClientHello).
"""

from __future__ import annotations

import logging
import os
import ssl
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openfront.cache.policy import Distribution
from openfront.config.edge import CertificateConfig, TlsConfig
from openfront.edge.clienthello import TLS1_3, offered_versions
from openfront.errors import ConfigError

log = logging.getLogger(__name__)

ALPN = ["http/1.1"]
_VERSIONS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}

# (st_ino, st_size, st_mtime_ns) of the cert file and of the key file: an in-place rewrite changes
# the mtime, an atomic rename (certbot, Kubernetes secrets) changes the inode.
Stamp = tuple[tuple[int, int, int], tuple[int, int, int]]


def pick(name: str | None, names_table: Sequence[Sequence[str]]) -> int:
    """Certificate index for an SNI name: exact name, then `*.` one-label wildcard, else 0."""
    if not name:
        return 0
    name = name.rstrip(".").lower()
    for index, names in enumerate(names_table):
        if any(n.lower() == name for n in names):
            return index
    _, dot, parent = name.partition(".")
    if dot and parent:
        wildcard = "*." + parent
        for index, names in enumerate(names_table):
            if any(n.lower() == wildcard for n in names):
                return index
    return 0


def policy_minimum(policy: str) -> ssl.TLSVersion:
    """The oldest TLS version accepted under a CloudFront security policy.

    TLS 1.3 for `TLSv1.3_2025`; TLS 1.2 for the others, as OpenFront never speaks older TLS
    (CloudFront's `TLSv1.1_2016` and older also admit TLS 1.0/1.1, SSLv3 even SSLv3).
    """
    return ssl.TLSVersion.TLSv1_3 if policy.startswith("TLSv1.3") else ssl.TLSVersion.TLSv1_2


def _refuse_password() -> bytes:
    # Without a callback OpenSSL would prompt on the terminal and hang a server.
    raise ValueError("the private key is encrypted; give an unencrypted key file")


def _stamp(cert: CertificateConfig) -> Stamp:
    a, b = os.stat(cert.cert_file), os.stat(cert.key_file)
    return (a.st_ino, a.st_size, a.st_mtime_ns), (b.st_ino, b.st_size, b.st_mtime_ns)


def _base_context(min_protocol: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = _VERSIONS[min_protocol]
    ctx.set_alpn_protocols(ALPN)
    return ctx


def load_context(cert_file: Path, key_file: Path, min_protocol: str) -> ssl.SSLContext:
    """A server context holding one certificate chain; raises ConfigError with the reason."""
    ctx = _base_context(min_protocol)
    try:
        ctx.load_cert_chain(cert_file, key_file, password=_refuse_password)
    except (OSError, ssl.SSLError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"certificate {cert_file} / key {key_file}: {reason}") from None
    return ctx


@dataclass
class _Loaded:
    config: CertificateConfig
    context: ssl.SSLContext
    stamp: Stamp  # of the files last tried, loaded or not, so a bad file warns once


_TlsConn = ssl.SSLObject | ssl.SSLSocket
_HANDSHAKE, _CLIENT_HELLO = 22, 1


class CertStore:
    """Certificates of a TlsConfig, one SSLContext each; `server_context()` picks one by SNI.

    `distributions` give per-alias minimum versions above the listener's `min_protocol`.
    """

    def __init__(self, config: TlsConfig, distributions: Sequence[Distribution] = ()) -> None:
        self._min_protocol = config.min_protocol
        self._names = tuple(tuple(c.names) for c in config.certificates)
        floor = _VERSIONS[config.min_protocol]
        enabled = [d for d in distributions if d.enabled]
        minimums = {
            alias.lower(): policy_minimum(d.minimum_protocol_version)
            for d in enabled
            for alias in d.aliases
        }
        # Aliases (exact or `*.` wildcard) whose distribution needs TLS 1.3 when the listener
        # would take TLS 1.2; with one distribution every name is its (as requests are routed).
        self._tls13 = {a: v > floor for a, v in minimums.items()}
        self._tls13_default = (
            len(enabled) == 1 and policy_minimum(enabled[0].minimum_protocol_version) > floor
        )
        self._strict = self._tls13_default or any(self._tls13.values())
        if self._strict and not hasattr(ssl.SSLContext, "_msg_callback"):
            raise ConfigError(
                "this Python cannot enforce a TLSv1.3_2025 MinimumProtocolVersion per "
                "distribution; set edge.tls.min_protocol: TLSv1.3 instead"
            )
        self._offers_tls13: weakref.WeakKeyDictionary[_TlsConn, bool] = weakref.WeakKeyDictionary()
        self._certs: list[_Loaded] = []
        for cert in config.certificates:
            try:
                stamp = _stamp(cert)
            except OSError as exc:
                raise ConfigError(f"certificate {exc.filename}: {exc.strerror}") from None
            context = load_context(cert.cert_file, cert.key_file, self._min_protocol)
            self._certs.append(_Loaded(cert, context, stamp))

    def context_for(self, name: str | None) -> ssl.SSLContext:
        """The current context for an SNI name (the first certificate when none matches)."""
        return self._certs[pick(name, self._names)].context

    def server_context(self) -> ssl.SSLContext:
        """The context to listen with; each handshake switches to the certificate of its SNI."""
        # No certificate of its own: the callback runs for every handshake (OpenSSL calls it
        # with no name too) and always switches to a loaded one, so reloads are never missed.
        ctx = _base_context(self._min_protocol)
        ctx.sni_callback = self._on_sni
        if self._strict:
            # Only until the SNI callback: switching contexts there drops the hook, so records
            # after the handshake do not pay for it.
            setattr(ctx, "_msg_callback", self._on_message)  # noqa: B010 (not in typeshed)
        return ctx

    def needs_tls13(self, name: str | None) -> bool:
        """Whether handshakes for this SNI name must be TLS 1.3 (beyond the listener's floor)."""
        if name:
            name = name.rstrip(".").lower()
            found = self._tls13.get(name)
            if found is None:
                _, dot, parent = name.partition(".")
                found = self._tls13.get("*." + parent) if dot and parent else None
            if found is not None:
                return found
        return self._tls13_default

    def _on_message(
        self,
        conn: _TlsConn,
        direction: str,
        _v: object,
        content_type: int,
        msg_type: int,
        data: bytes,
    ) -> None:
        if direction == "read" and content_type == _HANDSHAKE and msg_type == _CLIENT_HELLO:
            self._offers_tls13[conn] = TLS1_3 in offered_versions(data)

    def _on_sni(self, conn: _TlsConn, name: str | None, _: object) -> int | None:
        # Always switch, also for the first certificate: the listening context's copy of it
        # would be stale after a reload.
        conn.context = self.context_for(name)
        if self._strict and self.needs_tls13(name) and not self._offers_tls13.get(conn, False):
            # The viewer cannot do TLS 1.3, so OpenSSL picked 1.2: refused as CloudFront does.
            return ssl.ALERT_DESCRIPTION_PROTOCOL_VERSION
        return None

    def reload_if_changed(self) -> bool:
        """Reload certificates whose files changed (a bad file keeps the old one); True if any."""
        swapped = False
        for loaded in self._certs:
            cert = loaded.config
            try:
                stamp = _stamp(cert)
            except OSError as exc:
                log.warning(
                    "certificate %s: %s; keeping the loaded one", exc.filename, exc.strerror
                )
                continue
            if stamp == loaded.stamp:
                continue
            loaded.stamp = stamp
            try:
                loaded.context = load_context(cert.cert_file, cert.key_file, self._min_protocol)
            except ConfigError as exc:
                log.warning("%s; keeping the loaded one", exc)
                continue
            log.info("reloaded certificate %s for %s", cert.cert_file, ", ".join(cert.names))
            swapped = True
        return swapped
