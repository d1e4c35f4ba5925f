"""Identifiers in CloudFront's formats, from the system's CSPRNG."""

from __future__ import annotations

import secrets
import string

_UPPER_ALNUM = string.ascii_uppercase + string.digits
_SECRET_CHARS = string.ascii_letters + string.digits + "+/"


def _token(prefix: str, length: int, alphabet: str = _UPPER_ALNUM) -> str:
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def distribution_id() -> str:
    """E plus 13 upper-case letters and digits, like E2QWRUHAPOMQZL."""
    return _token("E", 13)


def invalidation_id() -> str:
    return _token("I", 13)


def etag() -> str:
    """A configuration version's ETag, shaped like CloudFront's (E2QWRUHAPOMQZL)."""
    return _token("E", 13)


def access_key_id() -> str:
    """20 characters like AWS's AKIA… ids; the OF marks OpenFront keys."""
    return _token("AKOF", 16)


def secret_access_key() -> str:
    return _token("", 40, _SECRET_CHARS)
