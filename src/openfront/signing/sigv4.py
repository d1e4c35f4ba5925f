"""AWS Signature Version 4 for S3 requests, the client's side: what Origin Access Control adds.

Pure functions over plain values, the time passed in. S3's canonical request differs from other
services' (control/sigv4.py): the path is encoded once and never normalised, and the payload hash
may be ``UNSIGNED-PAYLOAD`` so that a body can stream without being read twice.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote, unquote

__all__ = [
    "ALGORITHM",
    "EMPTY_SHA256",
    "UNSIGNED_PAYLOAD",
    "Credentials",
    "amz_date",
    "canonical_path",
    "canonical_query",
    "has_own_auth",
    "sign_s3",
]

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# Replaced by the signer: a viewer's copy would contradict the signature.
_SIGNER_SET = frozenset(
    {"authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"}
)
# Besides host and every x-amz-* header, S3 checks these when they are signed.
_ALSO_SIGNED = frozenset({"host", "content-md5", "content-type"})


@dataclass(frozen=True, slots=True)
class Credentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


def canonical_path(raw_path: str) -> str:
    """S3's CanonicalURI: every byte but unreserved characters and '/' percent-encoded, once.

    The path is decoded first, so `/a%20b` and `/a b` sign alike; dot segments stay (S3 keys may
    contain them).
    """
    return quote(unquote(raw_path), safe="/~")


def canonical_query(raw_query: str) -> str:
    """Pairs decoded, re-encoded (unreserved characters kept) and sorted; `k` becomes `k=`."""
    if not raw_query:
        return ""
    pairs = []
    for part in raw_query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((_encode(key), _encode(value)))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _encode(value: str) -> str:
    return quote(unquote(value), safe="-_.~")


def amz_date(now: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))


@lru_cache(maxsize=64)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    # Four HMACs that change once a day: cached, they are most of a signature's cost.
    key = _hmac(f"AWS4{secret}".encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def has_own_auth(headers: Sequence[tuple[str, str]], raw_query: str) -> bool:
    """Whether a request carries its own AWS credentials: an Authorization header or a
    presigned URL's X-Amz-Signature."""
    if any(name.lower() == "authorization" for name, _ in headers):
        return True
    return any(part.partition("=")[0].lower() == "x-amz-signature" for part in raw_query.split("&"))


def sign_s3(
    method: str,
    path: str,
    raw_query: str,
    headers: Sequence[tuple[str, str]],
    creds: Credentials,
    region: str,
    now: float,
    *,
    payload_hash: str = UNSIGNED_PAYLOAD,
    service: str = "s3",
    sign_also: Collection[str] = (),
) -> list[tuple[str, str]]:
    """``headers`` (which must hold Host) signed for ``method path?raw_query``.

    Returns the header list to send: the signer's own fields (Authorization, X-Amz-Date,
    X-Amz-Content-SHA256, X-Amz-Security-Token) replace any copies in ``headers``. ``path`` is
    sent as given, so pass it through :func:`canonical_path` first. ``sign_also`` names (lower
    case) further headers to sign.
    """
    stamp = amz_date(now)
    out = [(n, v) for n, v in headers if n.lower() not in _SIGNER_SET]
    out.append(("X-Amz-Date", stamp))
    out.append(("X-Amz-Content-SHA256", payload_hash))
    if creds.session_token:
        out.append(("X-Amz-Security-Token", creds.session_token))
    signed: dict[str, list[str]] = {}
    for name, value in out:
        lname = name.lower()
        if lname in _ALSO_SIGNED or lname.startswith("x-amz-") or lname in sign_also:
            signed.setdefault(lname, []).append(" ".join(value.split()))
    if "host" not in signed:
        raise ValueError("a Host header is required to sign an S3 request")
    names = sorted(signed)
    canonical = "\n".join(
        (
            method.upper(),
            canonical_path(path),
            canonical_query(raw_query),
            "".join(f"{n}:{','.join(signed[n])}\n" for n in names),
            ";".join(names),
            payload_hash,
        )
    )
    date = stamp[:8]
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = f"{ALGORITHM}\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = _signing_key(creds.secret_access_key, date, region, service)
    sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out.append(
        (
            "Authorization",
            f"{ALGORITHM} Credential={creds.access_key_id}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={sig}",
        )
    )
    return out
