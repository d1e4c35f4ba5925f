"""CertStore: the certificate a viewer gets depends on its SNI; files reload without a restart."""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openfront.cache.policy import Behavior, Distribution
from openfront.cli._certgen import issue_certificate, load_or_create_ca
from openfront.config.edge import CertificateConfig, TlsConfig
from openfront.edge.clienthello import TLS1_2, TLS1_3, offered_versions
from openfront.edge.tls import CertStore, pick
from openfront.errors import ConfigError

TABLE = (("cdn.example.com",), ("*.example.com", "example.com"), ("a.example.com", "*.other.org"))


@pytest.mark.parametrize(
    ("name", "index"),
    [
        ("cdn.example.com", 0),
        ("CDN.Example.COM.", 0),  # case and a trailing root dot do not matter
        ("a.example.com", 2),  # an exact name beats a wildcard listed earlier
        ("b.example.com", 1),
        ("example.com", 1),
        ("a.b.example.com", 0),  # a wildcard covers one label only
        ("x.other.org", 2),
        ("other.org", 0),
        ("unknown.net", 0),
        ("", 0),
        (None, 0),
        ("com", 0),
    ],
)
def test_pick(name: str | None, index: int) -> None:
    assert pick(name, TABLE) == index


def _certs(directory: Path, groups: Sequence[Sequence[str]]) -> list[CertificateConfig]:
    ca, _ = load_or_create_ca(directory)
    out = []
    for names in groups:
        cert_file, key_file = issue_certificate(directory, list(names), ca)
        out.append(CertificateConfig(names=tuple(names), cert_file=cert_file, key_file=key_file))
    return out


def _tls(certs: list[CertificateConfig], min_protocol: str = "TLSv1.2") -> TlsConfig:
    return TlsConfig.model_validate({"certificates": certs, "min_protocol": min_protocol})


class _Ok(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(b"ok")
        transport.close()


@pytest.fixture
async def serve() -> AsyncIterator[list[asyncio.Server]]:
    servers: list[asyncio.Server] = []
    yield servers
    for server in servers:
        server.close()
        await server.wait_closed()


async def _listen(servers: list[asyncio.Server], store: CertStore) -> int:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Ok, "127.0.0.1", 0, ssl=store.server_context())
    servers.append(server)
    port: int = server.sockets[0].getsockname()[1]
    return port


async def _handshake(
    port: int, ca: Path, sni: str | None, client: ssl.SSLContext | None = None
) -> tuple[list[str], str | None]:
    """DNS SANs of the certificate the server presents to `sni`, and the ALPN protocol."""
    ctx = client or ssl.create_default_context(cafile=ca)
    if sni is None:
        ctx.check_hostname = False
    ctx.set_alpn_protocols(["http/1.1"])
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=ctx, server_hostname=sni or ""
    )
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        cert = ssl_object.getpeercert()
        assert await reader.read() == b"ok"
        return [
            v for k, v in cert["subjectAltName"] if k == "DNS"
        ], ssl_object.selected_alpn_protocol()
    finally:
        writer.close()


@pytest.mark.parametrize(
    ("sni", "sans"),
    [
        ("cdn.example.com", ["cdn.example.com"]),
        ("img.example.com", ["*.example.com", "example.com"]),
        ("example.com", ["*.example.com", "example.com"]),
        ("www.other.org", ["www.other.org"]),
        (None, ["cdn.example.com"]),  # no SNI: the first certificate
    ],
)
async def test_sni_chooses_the_certificate(
    tmp_path: Path, serve: list[asyncio.Server], sni: str | None, sans: list[str]
) -> None:
    groups = [["cdn.example.com"], ["*.example.com", "example.com"], ["www.other.org"]]
    store = CertStore(_tls(_certs(tmp_path, groups)))
    port = await _listen(serve, store)
    assert await _handshake(port, tmp_path / "ca.pem", sni) == (sans, "http/1.1")


async def test_an_unknown_name_gets_the_first_certificate_and_fails_verification(
    tmp_path: Path, serve: list[asyncio.Server]
) -> None:
    store = CertStore(_tls(_certs(tmp_path, [["cdn.example.com"], ["*.example.com"]])))
    port = await _listen(serve, store)
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        await _handshake(port, tmp_path / "ca.pem", "a.b.example.com")


async def test_min_protocol_tls13_refuses_a_tls12_client(
    tmp_path: Path, serve: list[asyncio.Server]
) -> None:
    store = CertStore(_tls(_certs(tmp_path, [["cdn.example.com"]]), "TLSv1.3"))
    port = await _listen(serve, store)
    ca = tmp_path / "ca.pem"
    old = ssl.create_default_context(cafile=ca)
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    # The server's protocol_version alert reaches the client as an SSLError or as a reset.
    with pytest.raises((ssl.SSLError, ConnectionError)):
        await _handshake(port, ca, "cdn.example.com", old)
    assert await _handshake(port, ca, "cdn.example.com") == (["cdn.example.com"], "http/1.1")


async def test_min_protocol_tls12_accepts_a_tls12_client(
    tmp_path: Path, serve: list[asyncio.Server]
) -> None:
    store = CertStore(_tls(_certs(tmp_path, [["cdn.example.com"]])))
    port = await _listen(serve, store)
    old = ssl.create_default_context(cafile=tmp_path / "ca.pem")
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    sans, _ = await _handshake(port, tmp_path / "ca.pem", "cdn.example.com", old)
    assert sans == ["cdn.example.com"]


def _bump_mtime(*paths: Path) -> None:
    # Same-size rewrites within one clock tick could keep the mtime; force a visible change.
    for path in paths:
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


async def test_reload_swaps_a_changed_certificate(
    tmp_path: Path, serve: list[asyncio.Server]
) -> None:
    (cert,) = _certs(tmp_path, [["cdn.example.com"]])
    store = CertStore(_tls([cert]))
    port = await _listen(serve, store)
    ca_pem = tmp_path / "ca.pem"
    assert store.reload_if_changed() is False

    ca, _ = load_or_create_ca(tmp_path)
    new_dir = tmp_path / "new"
    new_dir.mkdir()
    new_cert, new_key = issue_certificate(new_dir, ["cdn.example.com", "new.example.com"], ca)
    cert.cert_file.write_bytes(new_cert.read_bytes())
    cert.key_file.write_bytes(new_key.read_bytes())
    _bump_mtime(cert.cert_file, cert.key_file)

    assert store.reload_if_changed() is True
    assert store.reload_if_changed() is False
    sans, _ = await _handshake(port, ca_pem, "cdn.example.com")
    assert sans == ["cdn.example.com", "new.example.com"]
    sans, _ = await _handshake(port, ca_pem, None)  # the no-SNI path also sees the new one
    assert sans == ["cdn.example.com", "new.example.com"]


@pytest.mark.parametrize("damage", ["garbage", "wrong_key", "deleted"])
async def test_a_bad_replacement_keeps_the_old_certificate(
    tmp_path: Path,
    serve: list[asyncio.Server],
    caplog: pytest.LogCaptureFixture,
    damage: str,
) -> None:
    cert, other = _certs(tmp_path, [["cdn.example.com"], ["other.example.com"]])
    store = CertStore(_tls([cert, other]))
    port = await _listen(serve, store)
    if damage == "garbage":
        cert.cert_file.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot base64\n")
    elif damage == "wrong_key":
        cert.key_file.write_bytes(other.key_file.read_bytes())
    else:
        cert.cert_file.unlink()
    if damage != "deleted":
        _bump_mtime(cert.cert_file, cert.key_file)

    with caplog.at_level(logging.WARNING, logger="openfront.edge.tls"):
        assert store.reload_if_changed() is False
    assert "keeping the loaded one" in caplog.text
    sans, _ = await _handshake(port, tmp_path / "ca.pem", "cdn.example.com")
    assert sans == ["cdn.example.com"]


def test_unreadable_files_at_start_are_a_config_error(tmp_path: Path) -> None:
    (cert,) = _certs(tmp_path, [["cdn.example.com"]])
    missing = cert.model_copy(update={"key_file": tmp_path / "nope.pem"})
    with pytest.raises(ConfigError, match=r"nope\.pem"):
        CertStore(_tls([missing]))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("hello\n")
    with pytest.raises(ConfigError, match=r"garbage\.pem"):
        CertStore(_tls([cert.model_copy(update={"cert_file": garbage})]))


def test_an_encrypted_key_is_refused_not_prompted_for(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    (cert,) = _certs(tmp_path, [["cdn.example.com"]])
    key = serialization.load_pem_private_key(cert.key_file.read_bytes(), password=None)
    cert.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    with pytest.raises(ConfigError, match="encrypted"):
        CertStore(_tls([cert]))


@pytest.mark.parametrize(
    "bad",
    [
        {"certificates": []},
        {"certificates": [{"names": [], "cert_file": "c", "key_file": "k"}]},
        {"certificates": [{"names": ["a..b"], "cert_file": "c", "key_file": "k"}]},
        {"certificates": [{"names": ["a.*.com"], "cert_file": "c", "key_file": "k"}]},
        {"certificates": [{"names": ["a"], "cert_file": "c", "key_file": "k"}], "min_protocol": 1},
        {"certificates": [{"names": ["a"], "cert_file": "c", "key_file": "k"}], "listen": "x"},
    ],
)
def test_tls_config_refuses_bad_input(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        TlsConfig.model_validate(bad)


# -- per-distribution minimum versions -------------------------------------------------------------


def _hello(versions: list[int] | None, *, extensions: bytes = b"") -> bytes:
    """A ClientHello handshake message offering `versions` (None: no supported_versions)."""
    ext = extensions
    if versions is not None:
        listed = b"".join(v.to_bytes(2, "big") for v in versions)
        ext += b"\x00\x2b" + (len(listed) + 1).to_bytes(2, "big") + bytes([len(listed)]) + listed
    body = b"\x03\x03" + b"r" * 32 + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00"
    body += len(ext).to_bytes(2, "big") + ext
    return b"\x01" + len(body).to_bytes(3, "big") + body


SNI_EXT = b"\x00\x00\x00\x0b\x00\x09\x00\x00\x06a.test"


@pytest.mark.parametrize(
    ("message", "offered"),
    [
        (_hello([0x0A0A, TLS1_3, TLS1_2]), {0x0A0A, TLS1_3, TLS1_2}),  # GREASE is just listed
        (_hello([TLS1_2], extensions=SNI_EXT), {TLS1_2}),
        (_hello(None, extensions=SNI_EXT), {TLS1_2}),  # no supported_versions: legacy_version
        (_hello(None)[:-2], {TLS1_2}),  # no extensions block at all
        (_hello([TLS1_3])[:-3], set()),  # cut short
        (b"\x02" + _hello([TLS1_3])[1:], set()),  # a ServerHello
        (b"", set()),
    ],
)
def test_offered_versions(message: bytes, offered: set[int]) -> None:
    assert offered_versions(message) == offered


@given(st.binary(max_size=300))
def test_offered_versions_never_raises(data: bytes) -> None:
    offered_versions(b"\x01" + data)


def _dist(dist_id: str, aliases: tuple[str, ...], policy: str) -> Distribution:
    return Distribution(
        dist_id, aliases, {}, {}, (), Behavior("*", "o"), minimum_protocol_version=policy
    )


def test_needs_tls13_per_alias(tmp_path: Path) -> None:
    certs = _certs(tmp_path, [["cdn.example.com"]])
    dists = [
        _dist("E1", ("strict.example.com", "*.strict.org"), "TLSv1.3_2025"),
        _dist("E2", ("lax.example.com",), "TLSv1.2_2021"),
        _dist("E3", ("old.example.com",), "SSLv3"),
    ]
    store = CertStore(_tls(certs), dists)
    assert [store.needs_tls13(n) for n in ("STRICT.example.com.", "a.strict.org")] == [True] * 2
    names = ("lax.example.com", "old.example.com", "a.b.strict.org", "other.net", None)
    assert [store.needs_tls13(n) for n in names] == [False] * 5
    # A listener already at TLS 1.3 needs no more; one distribution owns every name.
    assert not CertStore(_tls(certs, "TLSv1.3"), dists).needs_tls13("strict.example.com")
    only = CertStore(_tls(certs), dists[:1])
    assert only.needs_tls13("anything.net") and only.needs_tls13(None)


async def test_a_tls13_alias_refuses_tls12_in_the_handshake(
    tmp_path: Path, serve: list[asyncio.Server]
) -> None:
    certs = _certs(tmp_path, [["*.example.com"]])
    dists = [
        _dist("E1", ("strict.example.com",), "TLSv1.3_2025"),
        _dist("E2", ("lax.example.com",), "TLSv1.2_2019"),
    ]
    port = await _listen(serve, CertStore(_tls(certs), dists))
    ca = tmp_path / "ca.pem"
    old = ssl.create_default_context(cafile=ca)
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises((ssl.SSLError, ConnectionError)):
        await _handshake(port, ca, "strict.example.com", old)
    assert (await _handshake(port, ca, "lax.example.com", old))[0] == ["*.example.com"]
    assert (await _handshake(port, ca, "strict.example.com"))[0] == ["*.example.com"]
