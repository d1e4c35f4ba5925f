"""HTTPS on a running edge: SNI certificates, scheme-aware viewer protocol policy."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import pytest
from tests.support.client import read_response, request
from tests.support.edge import config, dist_config
from tests.support.origin import Reply, TestOrigin

CC = ("Cache-Control", "max-age=600")


def _certs(tmp: Path) -> tuple[Path, Path, Path]:
    from openfront.cli._certgen import issue_certificate, load_or_create_ca

    ca, _ = load_or_create_ca(tmp)
    cert, key = issue_certificate(tmp, ["cdn.test", "*.cdn.test"], ca)
    return tmp / "ca.pem", cert, key


async def _get_tls(
    port: int, ca: Path, name: str, path: str, ctx: ssl.SSLContext | None = None
) -> Any:
    ctx = ctx or ssl.create_default_context(cafile=str(ca))
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname=name)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
        return await read_response(reader)
    finally:
        writer.close()


async def test_https_listener_serves_and_redirects_plain_http(
    origin: TestOrigin, make_edge, tmp_path: Path
) -> None:
    ca, cert, key = _certs(tmp_path)
    origin.set("/s", lambda s: Reply(200, [CC], s.headers.get("cloudfront-forwarded-proto", "-")
                                     .encode()))  # fmt: skip
    dist = dist_config(origin.port)
    dist["DefaultCacheBehavior"]["ViewerProtocolPolicy"] = "redirect-to-https"
    dist["DefaultCacheBehavior"]["OriginRequestPolicyConfig"] = {
        "Name": "proto",
        "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": ["CloudFront-Forwarded-Proto"]},
        "CookiesConfig": {"CookieBehavior": "none"},
        "QueryStringsConfig": {"QueryStringBehavior": "none"},
    }
    tls = {"listen": "127.0.0.1:0",
           "certificates": [{"names": ["cdn.test", "*.cdn.test"], "cert_file": str(cert),
                             "key_file": str(key)}]}  # fmt: skip
    edge = await make_edge(cfg=config(dist, tls=tls))
    plain = await request(edge.port, path="/s", host="www.cdn.test")
    assert plain.status == 301
    assert plain.h("location") == f"https://www.cdn.test:{edge.tls_port}/s"
    secure = await _get_tls(edge.tls_port, ca, "www.cdn.test", "/s")
    assert (secure.status, secure.body) == (200, b"https")
    again = await _get_tls(edge.tls_port, ca, "cdn.test", "/s")
    assert again.x_cache == "Hit from cloudfront"


async def test_minimum_protocol_version_applies_per_alias(
    origin: TestOrigin, make_edge, tmp_path: Path
) -> None:
    ca, cert, key = _certs(tmp_path)
    origin.set("/s", Reply(200, [], b"ok"))

    def dist(alias: str, policy: str | None) -> dict[str, Any]:
        d = dist_config(origin.port, Aliases=[alias])
        if policy is not None:
            d["ViewerCertificate"] = {
                "MinimumProtocolVersion": policy,
                "SSLSupportMethod": "sni-only",
            }
        return d

    tls = {"listen": "127.0.0.1:0",
           "certificates": [{"names": ["cdn.test", "*.cdn.test"], "cert_file": str(cert),
                             "key_file": str(key)}]}  # fmt: skip
    top = {"distributions": [
        {"Id": "ESTRICT", "DistributionConfig": dist("strict.cdn.test", "TLSv1.3_2025")},
        {"Id": "ELAX", "DistributionConfig": dist("lax.cdn.test", None)},
    ]}  # fmt: skip
    edge = await make_edge(cfg=config(dist("unused.test", None), tls=tls, top=top))
    old = ssl.create_default_context(cafile=str(ca))
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    # The server's protocol_version alert reaches the client as an SSLError or as a reset.
    with pytest.raises((ssl.SSLError, ConnectionError)):
        await _get_tls(edge.tls_port, ca, "strict.cdn.test", "/s", old)
    assert (await _get_tls(edge.tls_port, ca, "lax.cdn.test", "/s", old)).status == 200
    assert (await _get_tls(edge.tls_port, ca, "strict.cdn.test", "/s")).status == 200
    assert origin.count("/s") == 2
