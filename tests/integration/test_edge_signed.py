"""Private content on the edge: signed URLs and cookies checked before the cache (guide §1.15)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from tests.support.client import request
from tests.support.edge import config, dist_config
from tests.support.origin import Reply, TestOrigin

botocore_signers = pytest.importorskip("botocore.signers")

KEY_ID = "K2JCJMDEHXQW5F"
CC = ("Cache-Control", "max-age=600")


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _signer(key: rsa.RSAPrivateKey) -> Any:
    def sign(message: bytes) -> bytes:
        return key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # CloudFront's algorithm

    return botocore_signers.CloudFrontSigner(KEY_ID, sign)


def _config(origin: TestOrigin, key: rsa.RSAPrivateKey) -> Any:
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    dist = dist_config(origin.port)
    private = dict(dist["DefaultCacheBehavior"])
    private.update(PathPattern="/private/*", TrustedKeyGroups={"Enabled": True, "Items": ["kg"]})
    dist["CacheBehaviors"] = [private]
    top = {
        "PublicKeys": [{"Id": KEY_ID, "PublicKeyConfig": {"Name": "k", "EncodedKey": pem}}],
        "KeyGroups": [{"Id": "kg", "KeyGroupConfig": {"Name": "g", "Items": [KEY_ID]}}],
    }
    return config(dist, top=top)


async def test_botocore_signed_urls_are_accepted_and_stripped(origin, make_edge, key) -> None:
    origin.set("/private/a.txt", lambda s: Reply(200, [CC], s.target.encode()))
    edge = await make_edge(cfg=_config(origin, key))
    base = "http://test.local/private/a.txt?v=1"
    signed = _signer(key).generate_presigned_url(base, date_less_than=_in(3600))
    target = signed.removeprefix("http://test.local")
    r = await request(edge.port, path=target)
    assert r.status == 200
    assert r.body == b"/private/a.txt?v=1"  # the origin never sees the signing parameters
    # Another valid signature for the same object is a cache hit: signatures are not in the key.
    policy = _signer(key).build_policy(base, date_less_than=_in(7200))
    again = _signer(key).generate_presigned_url(base, policy=policy)
    r2 = await request(edge.port, path=again.removeprefix("http://test.local"))
    assert (r2.status, r2.x_cache) == (200, "Hit from cloudfront")
    assert origin.count("/private/a.txt") == 1


async def test_unsigned_expired_and_tampered_requests_get_403(origin, make_edge, key) -> None:
    origin.set("/private/b.txt", Reply(200, [CC], b"secret"))
    origin.set("/public.txt", Reply(200, [CC], b"open"))
    edge = await make_edge(cfg=_config(origin, key))
    assert (await request(edge.port, path="/public.txt")).status == 200
    unsigned = await request(edge.port, path="/private/b.txt")
    assert unsigned.status == 403 and b"MissingKey" in unsigned.body
    assert unsigned.x_cache == "Error from cloudfront"
    expired = _signer(key).generate_presigned_url(
        "http://test.local/private/b.txt", date_less_than=_in(-10)
    )
    r = await request(edge.port, path=expired.removeprefix("http://test.local"))
    assert r.status == 403 and b"AccessDenied" in r.body
    good = _signer(key).generate_presigned_url(
        "http://test.local/private/b.txt", date_less_than=_in(600)
    )
    tampered = good.replace("/private/b.txt", "/private/c.txt")
    r = await request(edge.port, path=tampered.removeprefix("http://test.local"))
    assert r.status == 403
    assert origin.count("/private/b.txt") == 0 and origin.count("/private/c.txt") == 0


async def test_signed_cookies(origin, make_edge, key) -> None:
    from openfront.signing import build_policy, sign_cookies

    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    origin.set("/private/c.txt", Reply(200, [CC], b"cookie content"))
    edge = await make_edge(cfg=_config(origin, key))
    policy = build_policy("http://test.local/private/*", int(time.time()) + 600)
    cookies = sign_cookies("http://test.local/private/*", KEY_ID, pem, policy=policy)
    header = "; ".join(f"{k}={v}" for k, v in cookies.items())
    r = await request(edge.port, path="/private/c.txt", headers={"Cookie": header})
    assert (r.status, r.body) == (200, b"cookie content")


def _in(seconds: float) -> Any:
    import datetime

    return datetime.datetime.fromtimestamp(time.time() + seconds, tz=datetime.UTC)
