"""Making signed URLs and signed cookies, as ``aws cloudfront sign`` and botocore do.

For operators and tests (the ``openfront sign-url`` / ``sign-cookie`` commands); bad arguments
raise ValueError with a clear message.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from openfront.signing.policy import (
    HASH_ALGORITHMS,
    MAX_EPOCH,
    b64_encode,
    canned_policy,
    is_signing_param,
    parse_policy,
)

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def load_private_key(pem: str | bytes, password: bytes | None = None) -> PrivateKey:
    """An RSA or EC private key from PEM; ValueError for anything else."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"not a usable PEM private key: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("CloudFront signing keys are RSA or ECDSA")
    return key


def build_policy(
    resource: str | None,
    date_less_than: int,
    *,
    date_greater_than: int | None = None,
    ip_address: str | None = None,
) -> str:
    """A compact custom policy (botocore's key order); ``resource`` None grants every URL."""
    condition: dict[str, Any] = {"DateLessThan": {"AWS:EpochTime": _epoch(date_less_than)}}
    if ip_address:
        cidr = ip_address if "/" in ip_address else f"{ip_address}/32"
        condition["IpAddress"] = {"AWS:SourceIp": cidr}
    if date_greater_than is not None:
        condition["DateGreaterThan"] = {"AWS:EpochTime": _epoch(date_greater_than)}
    statement: dict[str, Any] = {} if resource is None else {"Resource": resource}
    statement["Condition"] = condition
    return json.dumps({"Statement": [statement]}, separators=(",", ":"))


def _epoch(value: float) -> int:
    epoch = int(value)
    if not 0 <= epoch <= MAX_EPOCH:
        raise ValueError(f"epoch time {epoch} is outside CloudFront's 32-bit range")
    return epoch


def sign_bytes(key: PrivateKey, message: bytes, hash_algorithm: str = "SHA1") -> bytes:
    """RSA PKCS#1 v1.5 or ECDSA (DER) signature over ``message``."""
    if hash_algorithm not in HASH_ALGORITHMS:
        raise ValueError(f"hash_algorithm must be one of {sorted(HASH_ALGORITHMS)}")
    algo = hashes.SHA256() if hash_algorithm == "SHA256" else hashes.SHA1()
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(message, padding.PKCS1v15(), algo)
    return key.sign(message, ec.ECDSA(algo))


def _signed_fields(
    resource: str,
    key_pair_id: str,
    private_key: str | bytes | PrivateKey,
    expires: float | None,
    policy: str | None,
    hash_algorithm: str,
) -> list[tuple[str, str]]:
    """The signing fields in CloudFront's order: Expires or Policy, Signature, Key-Pair-Id."""
    if not key_pair_id:
        raise ValueError("key_pair_id is required")
    key = private_key if isinstance(private_key, PrivateKey) else load_private_key(private_key)
    message, fields = _policy_fields(resource, expires, policy)
    fields.append(("Signature", b64_encode(sign_bytes(key, message, hash_algorithm))))
    fields.append(("Key-Pair-Id", key_pair_id))
    if hash_algorithm != "SHA1":
        fields.append(("Hash-Algorithm", hash_algorithm))
    return fields


def _policy_fields(
    resource: str, expires: float | None, policy: str | None
) -> tuple[bytes, list[tuple[str, str]]]:
    if policy is not None and expires is None:
        message = policy.encode()
        if parse_policy(message) is None:
            raise ValueError("policy is not a valid CloudFront policy document")
        return message, [("Policy", b64_encode(message))]
    if expires is not None and policy is None:
        epoch = _epoch(expires)
        return canned_policy(resource, epoch).encode(), [("Expires", str(epoch))]
    raise ValueError("give exactly one of expires (canned policy) and policy (custom)")


def sign_url(
    url: str,
    key_pair_id: str,
    private_key_pem: str | bytes | PrivateKey,
    *,
    expires: float | None = None,
    policy: str | None = None,
    hash_algorithm: str = "SHA1",
) -> str:
    """``url`` with the signing parameters appended (after its own query, if any)."""
    _, qmark, query = url.partition("?")
    if qmark and any(is_signing_param(p.partition("=")[0]) for p in query.split("&")):
        raise ValueError("the URL already has CloudFront signing parameters")
    fields = _signed_fields(url, key_pair_id, private_key_pem, expires, policy, hash_algorithm)
    tail = "&".join(f"{name}={value}" for name, value in fields)
    return f"{url}{'&' if qmark else '?'}{tail}"


def sign_cookies(
    resource: str,
    key_pair_id: str,
    private_key_pem: str | bytes | PrivateKey,
    *,
    expires: float | None = None,
    policy: str | None = None,
    hash_algorithm: str = "SHA1",
) -> dict[str, str]:
    """The ``CloudFront-*`` cookie values; with ``expires``, ``resource`` is the exact URL."""
    fields = _signed_fields(resource, key_pair_id, private_key_pem, expires, policy, hash_algorithm)
    return {f"CloudFront-{name}": value for name, value in fields}
