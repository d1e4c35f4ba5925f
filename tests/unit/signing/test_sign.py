from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from openfront.signing import (
    b64_decode,
    build_policy,
    load_private_key,
    parse_policy,
    sign_cookies,
    sign_url,
)

LATER = 1_800_000_000
URL = "https://d111111abcdef8.cloudfront.net/private/a.jpg"


def _utc(epoch: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC)


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, password: bytes | None = None) -> str:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


@pytest.fixture(scope="module")
def boto(rsa_sha1_signer: Callable[[bytes], bytes]) -> CloudFrontSigner:
    return CloudFrontSigner("K2JCJMDEHXQW5F", rsa_sha1_signer)


@pytest.mark.parametrize("url", [URL, f"{URL}?size=large&license=yes", f"{URL}?"])
def test_canned_url_is_byte_identical_to_botocore(
    boto: CloudFrontSigner, rsa_key: rsa.RSAPrivateKey, url: str
) -> None:
    # RSA PKCS#1 v1.5 is deterministic, so the whole URL must match.
    expected = boto.generate_presigned_url(url, date_less_than=_utc(LATER))
    assert sign_url(url, "K2JCJMDEHXQW5F", _pem(rsa_key), expires=LATER) == expected


def test_custom_url_is_byte_identical_to_botocore(
    boto: CloudFrontSigner, rsa_key: rsa.RSAPrivateKey
) -> None:
    policy = boto.build_policy(f"{URL}*", _utc(LATER), _utc(LATER - 100), "192.0.2.0/24")
    expected = boto.generate_presigned_url(URL, policy=policy)
    assert sign_url(URL, "K2JCJMDEHXQW5F", rsa_key, policy=policy) == expected


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((URL, _utc(LATER)), {}),
        ((URL, _utc(LATER), _utc(LATER - 60)), {}),
        ((URL, _utc(LATER)), {"ip_address": "192.0.2.1"}),
        (("*", _utc(LATER), _utc(1)), {"ip_address": "10.0.0.0/8"}),
    ],
)
def test_build_policy_matches_botocore(
    boto: CloudFrontSigner, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    resource, dlt, *rest = args
    ours = build_policy(
        resource,
        int(dlt.timestamp()),
        date_greater_than=int(rest[0].timestamp()) if rest else None,
        ip_address=kwargs.get("ip_address"),
    )
    assert ours == boto.build_policy(*args, **kwargs)
    assert parse_policy(ours.encode()) is not None


def test_build_policy_without_resource() -> None:
    text = build_policy(None, LATER)
    assert text == '{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":1800000000}}}]}'


def test_sha256_adds_hash_algorithm_last(rsa_key: rsa.RSAPrivateKey) -> None:
    signed = sign_url(URL, "K", rsa_key, expires=LATER, hash_algorithm="SHA256")
    names = [p.partition("=")[0] for p in signed.partition("?")[2].split("&")]
    assert names == ["Expires", "Signature", "Key-Pair-Id", "Hash-Algorithm"]
    assert signed.endswith("&Hash-Algorithm=SHA256")


def test_custom_policy_is_carried_in_the_url(rsa_key: rsa.RSAPrivateKey) -> None:
    policy = build_policy(URL, LATER)
    signed = sign_url(URL, "K", rsa_key, policy=policy)
    encoded = signed.partition("Policy=")[2].partition("&")[0]
    assert b64_decode(encoded, 10_000) == policy.encode()
    values = [p.partition("=")[2] for p in signed.partition("?")[2].split("&")]
    assert all(not set(v) & set("+=/") for v in values)


def test_sign_cookies_names(rsa_key: rsa.RSAPrivateKey) -> None:
    canned = sign_cookies(URL, "K", rsa_key, expires=LATER)
    assert list(canned) == ["CloudFront-Expires", "CloudFront-Signature", "CloudFront-Key-Pair-Id"]
    assert canned["CloudFront-Expires"] == str(LATER)
    custom = sign_cookies(
        URL, "K", rsa_key, policy=build_policy(f"{URL}*", LATER), hash_algorithm="SHA256"
    )
    assert list(custom) == [
        "CloudFront-Policy",
        "CloudFront-Signature",
        "CloudFront-Key-Pair-Id",
        "CloudFront-Hash-Algorithm",
    ]
    for value in (*canned.values(), *custom.values()):
        assert not set(value) & set("+=/;, ")


def test_encrypted_private_key(rsa_key: rsa.RSAPrivateKey) -> None:
    pem = _pem(rsa_key, b"s3cret")
    key = load_private_key(pem, b"s3cret")
    assert isinstance(key, rsa.RSAPrivateKey)
    with pytest.raises(ValueError, match="private key"):
        load_private_key(pem)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one"),
        ({"expires": LATER, "policy": "{}"}, "exactly one"),
        ({"expires": -1}, "32-bit"),
        ({"expires": 2**31}, "32-bit"),
        ({"policy": "{}"}, "not a valid CloudFront policy"),
        ({"policy": '{"Statement":[{"Resource":"*"}]}'}, "not a valid CloudFront policy"),
        ({"expires": LATER, "hash_algorithm": "MD5"}, "hash_algorithm"),
    ],
)
def test_sign_url_argument_errors(
    rsa_key: rsa.RSAPrivateKey, kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        sign_url(URL, "K", rsa_key, **kwargs)


def test_sign_url_refuses_a_signed_url(rsa_key: rsa.RSAPrivateKey) -> None:
    signed = sign_url(URL, "K", rsa_key, expires=LATER)
    with pytest.raises(ValueError, match="already has"):
        sign_url(signed, "K", rsa_key, expires=LATER)


def test_sign_url_requires_key_id(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ValueError, match="key_pair_id"):
        sign_url(URL, "", rsa_key, expires=LATER)


@pytest.mark.parametrize(
    "pem", ["", "garbage", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"]
)
def test_bad_private_key_pem(pem: str) -> None:
    with pytest.raises(ValueError, match="private key"):
        sign_url(URL, "K", pem, expires=LATER)


def test_other_key_types_are_refused() -> None:
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ValueError, match="RSA or ECDSA"):
        load_private_key(pem)


def test_ec_pem_signs(ec_key: ec.EllipticCurvePrivateKey) -> None:
    signed = sign_url(URL, "K", _pem(ec_key), expires=LATER)
    assert signed.startswith(f"{URL}?Expires={LATER}&Signature=")
