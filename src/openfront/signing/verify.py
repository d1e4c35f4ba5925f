"""Checking a viewer request's signed URL or signed cookies against trusted public keys.

``check_request`` never raises on viewer input: it returns ``Allowed`` or ``Denied``, and a
``Denied`` carries the code and message CloudFront puts in its 403 body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import unquote
from xml.sax.saxutils import escape

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from openfront.signing.policy import (
    HASH_ALGORITHMS,
    MAX_POLICY_CHARS,
    MAX_SIGNATURE_CHARS,
    Policy,
    QueryPairs,
    b64_decode,
    canned_policy,
    parse_epoch,
    parse_policy,
    policy_refusal,
    resource_url,
)

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
Source = Literal["url", "cookie"]

# The parameter names CloudFront reads from the query, and the matching cookie names.
_FIELDS: Final = ("Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm")
_COOKIE_PREFIX: Final = "CloudFront-"
_URL_MARKERS: Final = frozenset({"Expires", "Policy", "Signature", "Key-Pair-Id"})


@dataclass(frozen=True, slots=True)
class Allowed:
    source: Source
    key_pair_id: str
    expires: int


@dataclass(frozen=True, slots=True)
class Denied:
    """A refusal: ``code`` and ``message`` are CloudFront's; ``detail`` is for our logs only."""

    code: str
    message: str
    detail: str
    status: int = 403

    def body(self) -> bytes:
        """The XML error document CloudFront answers with."""
        return (
            '<?xml version="1.0" encoding="UTF-8"?><Error>'
            f"<Code>{escape(self.code)}</Code><Message>{escape(self.message)}</Message></Error>"
        ).encode()


def _missing_key(detail: str) -> Denied:
    return Denied("MissingKey", "Missing Key-Pair-Id query parameter or cookie value", detail)


def _unknown_key(detail: str) -> Denied:
    return Denied("InvalidKey", "Unknown Key", detail)


def _malformed_signature(detail: str) -> Denied:
    return Denied("MalformedSignature", "Could not unencode Signature", detail)


def _malformed_policy(detail: str) -> Denied:
    return Denied("MalformedPolicy", "Malformed Policy", detail)


def _access_denied(detail: str) -> Denied:
    return Denied("AccessDenied", "Access denied", detail)


def load_public_key(pem: str | bytes) -> PublicKey:
    """A trusted key from its PEM (config time); ValueError unless it is RSA or EC."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"not a PEM public key: {exc}") from None
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise ValueError("CloudFront public keys are RSA or ECDSA")
    return key


def _hash(name: str) -> hashes.HashAlgorithm:
    return hashes.SHA256() if name == "SHA256" else hashes.SHA1()


def signature_valid(key: PublicKey, signature: bytes, message: bytes, hash_name: str) -> bool:
    """RSA PKCS#1 v1.5 or ECDSA (DER) over ``message``; the library compares in constant time."""
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), _hash(hash_name))
        else:
            key.verify(signature, message, ec.ECDSA(_hash(hash_name)))
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _url_fields(query_pairs: QueryPairs) -> dict[str, str] | Denied:
    fields: dict[str, str] = {}
    for name, val in query_pairs:
        if name in _FIELDS:
            if name in fields:
                return _access_denied(f"duplicate {name} query parameter")
            fields[name] = unquote(val or "")
    return fields


def _cookie_fields(cookies: Mapping[str, str]) -> dict[str, str]:
    return {
        name: unquote(cookies[_COOKIE_PREFIX + name])
        for name in _FIELDS
        if _COOKIE_PREFIX + name in cookies
    }


def _pick_fields(
    query_pairs: QueryPairs, cookies: Mapping[str, str]
) -> tuple[Source, dict[str, str]] | Denied:
    # A signed URL wins over signed cookies, even a broken one.
    if any(name in _URL_MARKERS for name, _ in query_pairs):
        fields = _url_fields(query_pairs)
        return fields if isinstance(fields, Denied) else ("url", fields)
    return "cookie", _cookie_fields(cookies)


def check_request(
    url: str,
    query_pairs: QueryPairs,
    cookies: Mapping[str, str],
    *,
    key_groups: Mapping[str, PublicKey],
    now: float,
    client_ip: str,
) -> Allowed | Denied:
    """Whether a request for a restricted behavior carries a valid signature.

    ``url`` is ``scheme://host/path`` as the viewer asked for it (no query); ``query_pairs`` are
    the raw query pieces in order; ``key_groups`` maps each trusted Key-Pair-Id to its key.
    """
    picked = _pick_fields(query_pairs, cookies)
    if isinstance(picked, Denied):
        return picked
    source, fields = picked
    key_id = fields.get("Key-Pair-Id", "")
    if not key_id:
        return _missing_key(f"no Key-Pair-Id ({source})")
    key = key_groups.get(key_id)
    if key is None:
        return _unknown_key(f"Key-Pair-Id {key_id[:64]!r} is not trusted")
    signature = b64_decode(fields.get("Signature", ""), MAX_SIGNATURE_CHARS)
    if not signature:
        return _malformed_signature(f"Signature missing or not base64 ({source})")
    hash_name = fields.get("Hash-Algorithm", "SHA1")
    if hash_name not in HASH_ALGORITHMS:
        return _access_denied(f"unsupported Hash-Algorithm {hash_name[:16]!r}")
    resource = resource_url(url, query_pairs)
    signed = _signed_policy(fields, resource)
    if isinstance(signed, Denied):
        return signed
    message, policy = signed
    if not signature_valid(key, signature, message, hash_name):
        return _access_denied(f"signature does not verify ({source})")
    refusal = policy_refusal(policy, resource, now, client_ip)
    if refusal is not None:
        return _access_denied(f"{refusal} ({source})")
    return Allowed(source, key_id, policy.date_less_than)


def _signed_policy(fields: Mapping[str, str], resource: str) -> tuple[bytes, Policy] | Denied:
    """The bytes the signer signed and the policy they state."""
    has_expires, has_policy = "Expires" in fields, "Policy" in fields
    if has_expires == has_policy:
        return _malformed_policy("need exactly one of Expires and Policy")
    if has_expires:
        expires = parse_epoch(fields["Expires"])
        if expires is None:
            return _malformed_policy("Expires is not a 32-bit epoch time")
        message = canned_policy(resource, expires).encode()
        return message, Policy(date_less_than=expires)
    raw = b64_decode(fields["Policy"], MAX_POLICY_CHARS)
    if raw is None:
        return _malformed_policy("Policy is not base64 or too long")
    policy = parse_policy(raw)
    if policy is None:
        return _malformed_policy("Policy is not a valid CloudFront policy")
    return raw, policy
