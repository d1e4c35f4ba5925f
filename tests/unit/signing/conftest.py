"""Keys and helpers shared by the signing tests (keys are made once per session: RSA is slow)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

QueryPairs = list[tuple[str, str | None]]


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="session")
def rsa_sha1_signer(rsa_key: rsa.RSAPrivateKey) -> Callable[[bytes], bytes]:
    """The callable botocore's CloudFrontSigner wants."""
    return lambda message: rsa_key.sign(message, padding.PKCS1v15(), hashes.SHA1())


def split_url(signed: str) -> tuple[str, QueryPairs]:
    """``scheme://host/path`` and the raw query pairs, as the edge would pass them."""
    base, _, query = signed.partition("?")
    pairs: QueryPairs = []
    for piece in query.split("&") if query else []:
        name, eq, val = piece.partition("=")
        pairs.append((name, val if eq else None))
    return base, pairs


@pytest.fixture(scope="session")
def split() -> Callable[[str], tuple[str, QueryPairs]]:
    return split_url
