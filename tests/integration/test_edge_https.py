"""HTTPS on a running edge: SNI certificates, scheme-aware viewer protocol policy."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

from tests.support.client import read_response, request
from tests.support.edge import config, dist_config
from tests.support.origin import Reply, TestOrigin

CC = ("Cache-Control", "max-age=600")


def _certs(tmp: Path) -> tuple[Path, Path, Path]:
    from openfront.cli._certgen import issue_certificate, load_or_create_ca

    ca, _ = load_or_create_ca(tmp)
    cert, key = issue_certificate(tmp, ["cdn.test", "*.cdn.test"], ca)
    return tmp / "ca.pem", cert, key


async def _get_tls(port: int, ca: Path, name: str, path: str) -> Any:
    ctx = ssl.create_default_context(cafile=str(ca))
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
