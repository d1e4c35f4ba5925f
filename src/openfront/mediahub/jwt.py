"""Compact JWTs signed with HMAC-SHA256 (RFC 7519 + RFC 7515, ``alg`` HS256 only).

Pure: standard library only, ``now`` is an argument. Verification refuses any other ``alg``
(so ``none`` and RS/HS confusion are impossible), compares the signature in constant time,
and checks ``exp``, ``nbf``, ``iss`` and ``aud``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

MAX_TOKEN_CHARS = 4096
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


class TokenError(ValueError):
    """A token that must be refused; ``str()`` says why, without echoing the token."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding: one encoding per value, so no two tokens mean one."""
    if not _B64URL.match(text) or len(text) % 4 == 1:
        raise TokenError("malformed token")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("malformed token") from None
    if b64url_encode(data) != text:
        raise TokenError("malformed token")
    return data


def key_id(key: bytes) -> str:
    """A short public name for a key (the header's ``kid``): regions with different keys show."""
    return hashlib.sha256(b"openfront-mediahub-kid:" + key).hexdigest()[:16]


def _json(part: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(part))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise TokenError("malformed token") from None
    if not isinstance(value, dict):
        raise TokenError("malformed token")
    return value


def _dump(value: Mapping[str, Any]) -> str:
    return b64url_encode(json.dumps(value, separators=(",", ":"), sort_keys=True).encode())


def _mac(key: bytes, signing_input: str) -> bytes:
    return hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest()


def sign(claims: Mapping[str, Any], key: bytes) -> str:
    """``claims`` as a compact HS256 JWT whose header names the key."""
    signing_input = f"{_dump({'alg': 'HS256', 'typ': 'JWT', 'kid': key_id(key)})}.{_dump(claims)}"
    return f"{signing_input}.{b64url_encode(_mac(key, signing_input))}"


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenError(f"malformed {name} claim")
    return float(value)


def verify(
    token: str, key: bytes, *, now: float, issuer: str, audience: str, leeway: float = 0.0
) -> dict[str, Any]:
    """The claims of a valid token; raises TokenError saying what is wrong."""
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        raise TokenError("malformed token")
    header_b64, payload_b64, sig_b64 = token.split(".")
    header = _json(header_b64)
    if header.get("alg") != "HS256":
        raise TokenError("unsupported signing algorithm")
    if "kid" in header and header["kid"] != key_id(key):
        raise TokenError("token was signed with another key")
    signature = b64url_decode(sig_b64)
    if not hmac.compare_digest(signature, _mac(key, f"{header_b64}.{payload_b64}")):
        raise TokenError("bad signature")
    claims = _json(payload_b64)
    exp, nbf = _number(claims, "exp"), _number(claims, "nbf")
    if exp is None:
        raise TokenError("token has no expiry")
    if now >= exp + leeway:
        raise TokenError("token has expired")
    if nbf is not None and now + leeway < nbf:
        raise TokenError("token is not valid yet")
    if claims.get("iss") != issuer:
        raise TokenError("token is from another issuer")
    aud = claims.get("aud")
    if not (aud == audience or (isinstance(aud, list) and audience in aud)):
        raise TokenError("token is for another audience")
    return claims


def access_claims(
    *, subject: str, issuer: str, audience: str, now: float, ttl: int, token_id: str, region: str
) -> dict[str, Any]:
    """The claims of an access token issued at ``now`` for ``ttl`` seconds."""
    issued = int(now)
    return {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl,
        "jti": token_id,
        "region": region,
    }
