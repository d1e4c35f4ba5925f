"""The viewer-side TLS listener's certificates: chosen by SNI, reloaded when their files change."""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openfront.config.edge import CertificateConfig, TlsConfig
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


class CertStore:
    """Certificates of a TlsConfig, one SSLContext each; `server_context()` picks one by SNI."""

    def __init__(self, config: TlsConfig) -> None:
        self._min_protocol = config.min_protocol
        self._names = tuple(tuple(c.names) for c in config.certificates)
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
        return ctx

    def _on_sni(self, conn: ssl.SSLObject | ssl.SSLSocket, name: str | None, _: object) -> None:
        # Always switch, also for the first certificate: the listening context's copy of it
        # would be stale after a reload.
        conn.context = self.context_for(name)

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
