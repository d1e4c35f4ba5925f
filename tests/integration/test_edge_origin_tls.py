"""HTTPS to origins: verification, CloudFront's 502s, OriginSslProtocols, match-viewer, pools."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from tests.support.client import read_response, request
from tests.support.edge import config, dist_config
from tests.support.origin import Reply, TestOrigin

from openfront.cli._certgen import Authority, issue_certificate, load_or_create_ca
from openfront.config import parse_config
from openfront.edge.origin_tls import certificate_names_match, dns_name_matches, sni_name
from openfront.errors import ConfigError

NO_CONNECT = b"able to connect to the origin."  # CloudFront: "CloudFront wasn't able to ..."
CC = ("Cache-Control", "max-age=600")
V12, V13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3


class Pki:
    """A test CA (openfront cert's) issuing server certificates into a folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ca: Authority = load_or_create_ca(folder)[0]
        self.ca_file = folder / "ca.pem"

    def server_context(
        self, names: list[str], lo: ssl.TLSVersion = V12, hi: ssl.TLSVersion = V13
    ) -> ssl.SSLContext:
        cert, key = issue_certificate(self.folder, names, self.ca)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        ctx.minimum_version, ctx.maximum_version = lo, hi
        return ctx


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path / "pki")


class SniOrigin(TestOrigin):
    """A test origin that records the SNI name of each TLS handshake (None: no SNI)."""

    __test__ = False

    def __init__(self, tls: ssl.SSLContext | None) -> None:
        super().__init__(tls)
        self.snis: list[str | None] = []
        if tls is not None:
            tls.sni_callback = lambda _conn, name, _ctx: self.snis.append(name)


@pytest.fixture
async def origins() -> AsyncIterator[Callable[..., Awaitable[SniOrigin]]]:
    """Start test origins (HTTPS with `tls=`)."""
    started: list[SniOrigin] = []

    async def start(tls: ssl.SSLContext | None = None) -> SniOrigin:
        o = SniOrigin(tls)
        o.set("/p", lambda s: Reply(200, [], b"tls" if tls else b"plain"))
        o.set("/host", lambda s: Reply(200, [], s.headers["host"].encode()))
        started.append(await o.start())
        return o

    yield start
    for o in started:
        await o.close()


def _https_dist(port: int, protocols: Any = None, domain: str = "localhost") -> dict[str, Any]:
    dist = dist_config(port)
    custom = dist["Origins"][0]["CustomOriginConfig"]
    dist["Origins"][0]["DomainName"] = domain
    custom.update({"HTTPSPort": port, "OriginProtocolPolicy": "https-only"})
    if protocols is not None:
        custom["OriginSslProtocols"] = protocols
    return dist


def _trusting(pki: Pki, **more: Any) -> dict[str, Any]:
    return {"ca_bundle": str(pki.ca_file), **more}


async def test_https_only_verifies_sends_sni_and_pools(pki: Pki, origins, make_edge) -> None:
    o = await origins(pki.server_context(["localhost"]))
    edge = await make_edge(cfg=config(_https_dist(o.port), origin_tls=_trusting(pki)))
    for _ in range(3):
        r = await request(edge.port, path="/host")
        assert (r.status, r.body) == (200, f"localhost:{o.port}".encode())
    assert o.snis == ["localhost"]
    assert o.tls_versions == ["TLSv1.2"]  # OriginSslProtocols defaults to TLSv1.2
    assert o.connections == 1  # one TLS connection, kept alive


@pytest.mark.parametrize(
    ("names", "trust", "reason"),
    [
        (["other.test"], True, "Hostname mismatch"),
        (["localhost"], False, "self-signed certificate in certificate chain"),
    ],
    ids=["wrong-name", "untrusted-ca"],
)
async def test_a_bad_origin_certificate_is_502_and_logged(
    pki: Pki, origins, make_edge, caplog: pytest.LogCaptureFixture, names, trust, reason
) -> None:
    o = await origins(pki.server_context(names))
    tls = _trusting(pki) if trust else {}
    edge = await make_edge(cfg=config(_https_dist(o.port), origin_tls=tls))
    with caplog.at_level(logging.WARNING, logger="openfront.edge"):
        r = await request(edge.port, path="/p")
        again = await request(edge.port, path="/p")
    for resp in (r, again):
        assert (resp.status, resp.x_cache) == (502, "Error from cloudfront")
        assert NO_CONNECT in resp.body
    logged = [m for m in caplog.messages if "certificate rejected" in m]
    assert len(logged) == 1 and reason in logged[0]  # the same failure is logged once a minute
    assert o.requests == []  # no request ever reached the origin


async def test_verification_off_accepts_any_certificate_with_a_warning(
    pki: Pki, origins, make_edge, caplog: pytest.LogCaptureFixture
) -> None:
    o = await origins(pki.server_context(["other.test"]))
    with caplog.at_level(logging.WARNING, logger="openfront.edge"):
        edge = await make_edge(cfg=config(_https_dist(o.port), origin_tls={"verify": False}))
    assert any("NOT checked" in m for m in caplog.messages)
    r = await request(edge.port, path="/p")
    assert (r.status, r.body) == (200, b"tls")


@pytest.mark.parametrize(
    ("origin_versions", "protocols", "status", "used"),
    [
        ((V13, V13), None, 502, None),  # default [TLSv1.2] against a TLS 1.3-only origin
        ((V13, V13), ["TLSv1.2"], 502, None),
        ((V12, V12), ["TLSv1.3"], 502, None),  # OpenFront's TLSv1.3 extension, vice versa
        ((V13, V13), ["TLSv1.2", "TLSv1.3"], 200, "TLSv1.3"),
        ((V12, V13), {"Quantity": 3, "Items": ["TLSv1", "TLSv1.1", "TLSv1.2"]}, 200, "TLSv1.2"),
    ],
)
async def test_origin_ssl_protocols_bound_the_version(
    pki: Pki, origins, make_edge, origin_versions, protocols, status, used
) -> None:
    o = await origins(pki.server_context(["localhost"], *origin_versions))
    edge = await make_edge(cfg=config(_https_dist(o.port, protocols), origin_tls=_trusting(pki)))
    r = await request(edge.port, path="/p")
    assert r.status == status
    if used is None:
        assert NO_CONNECT in r.body and o.requests == []
    else:
        assert o.tls_versions == [used]


async def _get_tls(port: int, pki: Pki, path: str, host: str = "cdn.test") -> Any:
    ctx = ssl.create_default_context(cafile=str(pki.ca_file))
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname=host)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        return await read_response(reader)
    finally:
        writer.close()


def _viewer_tls(pki: Pki) -> dict[str, Any]:
    cert, key = issue_certificate(pki.folder, ["cdn.test"], pki.ca)
    return {
        "listen": "127.0.0.1:0",
        "certificates": [{"names": ["cdn.test"], "cert_file": str(cert), "key_file": str(key)}],
    }


async def test_match_viewer_follows_the_viewer_scheme_with_a_pool_each(
    pki: Pki, origins, make_edge
) -> None:
    plain = await origins()
    secure = await origins(pki.server_context(["localhost"]))
    for o in (plain, secure):
        o.set("/c", Reply(200, [CC], b"cached"))
    dist = dist_config(plain.port)
    dist["Origins"][0]["DomainName"] = "localhost"
    dist["Origins"][0]["CustomOriginConfig"].update(
        {"HTTPSPort": secure.port, "OriginProtocolPolicy": "match-viewer"}
    )
    cfg = config(dist, tls=_viewer_tls(pki), origin_tls=_trusting(pki))
    edge = await make_edge(cfg=cfg)
    for _ in range(2):
        r = await request(edge.port, path="/p", host="cdn.test")
        assert (r.status, r.body) == (200, b"plain")
        r = await _get_tls(edge.tls_port, pki, "/p")
        assert (r.status, r.body) == (200, b"tls")
    r = await _get_tls(edge.tls_port, pki, "/host")
    assert r.body == f"localhost:{secure.port}".encode()  # Host names the HTTPS port
    assert (plain.count("/p"), secure.count("/p")) == (2, 2)
    assert (plain.connections, secure.connections) == (1, 1)  # one keep-alive pool per scheme
    # Cached once whichever scheme fetched it (CloudFront's rule for match-viewer).
    assert (await _get_tls(edge.tls_port, pki, "/c")).body == b"cached"
    r = await request(edge.port, path="/c", host="cdn.test")
    assert (r.x_cache, plain.count("/c"), secure.count("/c")) == ("Hit from cloudfront", 0, 1)


_FORWARD_HOST = {
    "Name": "host",
    "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": ["Host"]},
    "CookiesConfig": {"CookieBehavior": "none"},
    "QueryStringsConfig": {"QueryStringBehavior": "none"},
}


@pytest.mark.parametrize(
    ("names", "status"),
    [(["cdn.test"], 200), (["localhost"], 200), (["elsewhere.test"], 502)],
    ids=["names-the-host", "names-the-origin", "names-neither"],
)
async def test_a_forwarded_host_is_the_sni_and_either_name_may_match(
    pki: Pki, origins, make_edge, names, status
) -> None:
    o = await origins(pki.server_context(names))
    dist = _https_dist(o.port)
    dist["DefaultCacheBehavior"]["OriginRequestPolicyConfig"] = _FORWARD_HOST
    edge = await make_edge(cfg=config(dist, origin_tls=_trusting(pki)))
    r = await request(edge.port, path="/host", host="cdn.test:8080")
    assert r.status == status
    assert o.snis == ["cdn.test"]
    if status == 200:
        assert r.body == b"cdn.test:8080"


@pytest.mark.parametrize("host", ["a..b", ".lead", "x" * 64 + ".test"])
async def test_a_forwarded_host_that_is_no_tls_name_is_502_without_a_connection(
    pki: Pki, origins, make_edge, host: str
) -> None:
    o = await origins(pki.server_context(["localhost"]))
    dist = _https_dist(o.port)
    dist["DefaultCacheBehavior"]["OriginRequestPolicyConfig"] = _FORWARD_HOST
    edge = await make_edge(cfg=config(dist, origin_tls=_trusting(pki)))
    r = await request(edge.port, path="/host", host=host)
    assert (r.status, o.connections) == (502, 0)


async def test_pools_are_kept_apart_per_sni_name(pki: Pki, origins, make_edge) -> None:
    o = await origins(pki.server_context(["localhost", "a.test", "b.test"]))
    dist = _https_dist(o.port)
    dist["DefaultCacheBehavior"]["OriginRequestPolicyConfig"] = _FORWARD_HOST
    edge = await make_edge(cfg=config(dist, origin_tls=_trusting(pki)))
    for host in ("a.test", "b.test", "a.test", "b.test"):
        assert (await request(edge.port, path="/host", host=host)).body == host.encode()
    assert sorted(o.snis) == ["a.test", "b.test"] and o.connections == 2


def _parse(custom: dict[str, Any]) -> Any:
    dist = dist_config(443)
    dist["Origins"][0]["CustomOriginConfig"].update(custom)
    return parse_config({"distributions": [{"Id": "E1", "DistributionConfig": dist}]}, "t")


@pytest.mark.parametrize(
    ("protocols", "message"),
    [
        (["SSLv3", "TLSv1.2"], "SSLv3 is not supported"),
        (["TLSv1", "TLSv1.1"], "TLSv1.2 or TLSv1.3 only"),
        (["TLSv1.2", "TLSv1.2"], "listed twice"),
        (["TLSv9"], "OriginSslProtocols"),
        ({"Quantity": 2, "Items": ["TLSv1.2"]}, "InconsistentQuantities"),
    ],
)
def test_bad_origin_ssl_protocols_are_config_errors(protocols: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _parse({"OriginSslProtocols": protocols})


def test_origin_ssl_protocols_compile_to_versions() -> None:
    from openfront.config.compile import compile_all

    cfg = _parse({"OriginSslProtocols": ["TLSv1.3", "TLSv1", "TLSv1.2"], "HTTPSPort": 8443})
    (origin,) = compile_all(cfg)[0].origins.values()
    assert (origin.tls_versions, origin.https_port) == (("TLSv1.2", "TLSv1.3"), 8443)


async def test_an_unreadable_ca_bundle_stops_the_start(tmp_path: Path, make_edge) -> None:
    cfg = config(dist_config(80), origin_tls={"ca_bundle": str(tmp_path / "none.pem")})
    with pytest.raises(ConfigError, match=r"ca_bundle .*none\.pem"):
        await make_edge(cfg=cfg)


@pytest.mark.parametrize(
    ("pattern", "host", "match"),
    [
        ("cdn.test", "CDN.test.", True),
        ("*.example.com", "a.example.com", True),
        ("*.example.com", "a.b.example.com", False),  # one label only
        ("*.example.com", "example.com", False),
        ("*.com", "example.com", False),  # too wide
        ("a*.example.com", "ab.example.com", False),  # no partial wildcards
        ("", "x", False),
    ],
)
def test_dns_name_matches(pattern: str, host: str, match: bool) -> None:
    assert dns_name_matches(pattern, host) is match


def test_certificate_names_match_uses_sans_then_cn() -> None:
    cert = {
        "subject": ((("commonName", "cn.test"),),),
        "subjectAltName": (("DNS", "*.cdn.test"), ("IP Address", "127.0.0.1")),
    }
    assert certificate_names_match(cert, ["x.cdn.test"])
    assert certificate_names_match(cert, ["nope.test", "127.0.0.1"])
    assert not certificate_names_match(cert, ["cn.test"])  # CN ignored beside DNS names
    assert not certificate_names_match(cert, ["127.0.0.2", "cdn.test"])
    assert certificate_names_match({"subject": cert["subject"]}, ["cn.test"])


@pytest.mark.parametrize(
    ("host", "name"),
    [("Cdn.Test:8443", "cdn.test"), ("cdn.test", "cdn.test"), ("[::1]:80", "::1"), ("", "")],
)
def test_sni_name_from_a_host_header(host: str, name: str) -> None:
    assert sni_name(host) == name
