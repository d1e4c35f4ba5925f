"""AWS Signature Version 4, the server's side: check a signed request's Authorization header.

Pure functions over plain values, ``now`` passed in. The canonical request follows the same
rules as botocore's ``SigV4Auth`` (non-S3 services: the path is URI-encoded once more, query
pairs are decoded, re-encoded and sorted); the unit tests cross-check against botocore.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "cloudfront"
MAX_SKEW = timedelta(minutes=15)
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_CREDENTIAL = re.compile(
    r"^([A-Za-z0-9]{1,128})/([0-9]{8})/([a-z0-9-]{1,64})/([a-z0-9-]+)/aws4_request$"
)
_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")


class SigV4Error(Exception):
    """Why a request is not authenticated: a CloudFront/IAM error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Authorization:
    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


@dataclass(frozen=True, slots=True)
class SignedRequest:
    method: str
    raw_path: str  # as on the wire, percent-encoding kept
    raw_query: str
    headers: Sequence[tuple[str, str]]  # every header, repeated names included
    body: bytes


def parse_authorization(value: str | None) -> Authorization:
    if not value:
        raise SigV4Error("MissingAuthenticationToken", "Missing Authentication Token")
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        msg = f"Unsupported authorization type {algorithm[:40]!r}: only {ALGORITHM} is accepted"
        raise SigV4Error("IncompleteSignature", msg)
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            fields[key] = val
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if k not in fields]
    if missing:
        msg = f"Authorization header requires '{missing[0]}' parameter"
        raise SigV4Error("IncompleteSignature", msg)
    cred = _CREDENTIAL.match(fields["Credential"])
    if cred is None:
        raise SigV4Error(
            "IncompleteSignature", "Credential is not KEY/DATE/REGION/SERVICE/aws4_request"
        )
    signed = tuple(fields["SignedHeaders"].split(";"))
    if not all(signed) or list(signed) != sorted({h.lower() for h in signed}):
        raise SigV4Error("IncompleteSignature", "SignedHeaders must be sorted lower-case names")
    if not _SIGNATURE.match(fields["Signature"]):
        raise SigV4Error("IncompleteSignature", "Signature must be 64 lower-case hex digits")
    key, date, region, service = cred.groups()
    return Authorization(key, date, region, service, signed, fields["Signature"])


def header_values(headers: Sequence[tuple[str, str]], name: str) -> list[str]:
    return [v for k, v in headers if k.lower() == name]


def request_time(headers: Sequence[tuple[str, str]]) -> tuple[str, datetime]:
    """The signing time (X-Amz-Date, else Date) as SigV4's basic ISO 8601 and as a datetime."""
    amz = header_values(headers, "x-amz-date")
    if amz:
        try:
            when = datetime.strptime(amz[0].strip(), _AMZ_DATE).replace(tzinfo=UTC)
        except ValueError:
            raise SigV4Error("IncompleteSignature", "X-Amz-Date is not YYYYMMDDTHHMMSSZ") from None
        return amz[0].strip(), when
    date = header_values(headers, "date")
    if date:
        try:
            when = parsedate_to_datetime(date[0]).astimezone(UTC)
        except (TypeError, ValueError):
            raise SigV4Error("IncompleteSignature", "Date is not an HTTP date") from None
        return when.strftime(_AMZ_DATE), when
    msg = "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header"
    raise SigV4Error("IncompleteSignature", msg)


def canonical_path(raw_path: str) -> str:
    """RFC 3986 dot segments and repeated slashes removed, then every octet but unreserved and
    '/' encoded once more (so an encoded '%' doubles), as AWS's non-S3 services do."""
    segments: list[str] = []
    for part in raw_path.split("/"):
        if part == "..":
            if segments:
                segments.pop()
        elif part and part != ".":
            segments.append(part)
    path = "/" + "/".join(segments)
    if raw_path.endswith("/") and segments:
        path += "/"
    return quote(path, safe="/~")


def canonical_query(raw_query: str) -> str:
    pairs = []
    for part in raw_query.split("&") if raw_query else ():
        key, _, value = part.partition("=")
        pairs.append((_encode(key), _encode(value)))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _encode(value: str) -> str:
    return quote(unquote(value), safe="-_.~")


def canonical_request(req: SignedRequest, signed_headers: Sequence[str], payload_hash: str) -> str:
    lines = []
    for name in signed_headers:
        values = header_values(req.headers, name)
        if not values:
            raise SigV4Error(
                "SignatureDoesNotMatch", f"signed header {name!r} is not in the request"
            )
        lines.append(f"{name}:{','.join(' '.join(v.split()) for v in values)}")
    return "\n".join(
        [
            req.method.upper(),
            canonical_path(req.raw_path),
            canonical_query(req.raw_query),
            "\n".join(lines) + "\n",
            ";".join(signed_headers),
            payload_hash,
        ]
    )


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signature(secret: str, auth: Authorization, amz_date: str, canonical: str) -> str:
    scope = f"{auth.date}/{auth.region}/{auth.service}/aws4_request"
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    to_sign = f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"
    key = _hmac(f"AWS4{secret}".encode(), auth.date)
    for part in (auth.region, auth.service, "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def verify(
    req: SignedRequest,
    secret_for: Callable[[str], str | None],
    now: datetime,
    *,
    service: str = SERVICE,
    max_skew: timedelta = MAX_SKEW,
) -> Authorization:
    """Check ``req``'s signature; returns its Authorization or raises SigV4Error.

    ``secret_for(access_key_id)`` gives the plaintext secret, None for an unknown key.
    """
    values = header_values(req.headers, "authorization")
    if len(values) > 1:
        raise SigV4Error("IncompleteSignature", "more than one Authorization header")
    auth = parse_authorization(values[0] if values else None)
    if auth.service != service:
        msg = f"Credential should be scoped to correct service: '{service}'."
        raise SigV4Error("SignatureDoesNotMatch", msg)
    if "host" not in auth.signed_headers:
        raise SigV4Error("IncompleteSignature", "the Host header must be signed")
    amz_date, when = request_time(req.headers)
    if abs(now - when) > max_skew:
        msg = (
            f"The difference between the request time ({when:%Y-%m-%dT%H:%M:%SZ}) and the "
            f"server's time ({now.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}) is too large."
        )
        raise SigV4Error("RequestTimeTooSkewed", msg)
    if auth.date != amz_date[:8]:
        raise SigV4Error("SignatureDoesNotMatch", "Credential date does not match the request time")
    if header_values(req.headers, "x-amz-security-token"):
        raise SigV4Error("InvalidClientTokenId", "Session tokens are not supported")
    payload_hash = hashlib.sha256(req.body).hexdigest()
    claimed = header_values(req.headers, "x-amz-content-sha256")
    if claimed and claimed[0].strip() != payload_hash:
        msg = "The provided 'x-amz-content-sha256' header does not match what was computed."
        raise SigV4Error("XAmzContentSHA256Mismatch", msg)
    secret = secret_for(auth.access_key_id)
    if secret is None:
        msg = "The security token included in the request is invalid."
        raise SigV4Error("InvalidClientTokenId", msg)
    expected = signature(
        secret, auth, amz_date, canonical_request(req, auth.signed_headers, payload_hash)
    )
    if not hmac.compare_digest(expected, auth.signature):
        msg = (
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method."
        )
        raise SigV4Error("SignatureDoesNotMatch", msg)
    return auth
