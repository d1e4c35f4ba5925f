"""Usernames and email addresses: validation and the one normal form each is stored in.

Pure: no I/O. Equivalent inputs must map to one stored form on every database, whatever its
collation, so that "Alice" and "alice" (or "Bob@EXAMPLE.com" and "Bob@example.com") are one
account on SQLite, PostgreSQL and MariaDB alike.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass

import idna

USERNAME_MIN, USERNAME_MAX = 3, 32
_USERNAME = re.compile(r"^[a-z0-9](?:[a-z0-9_.-]*[a-z0-9])?$")
# RFC 5322 atext; non-ASCII characters are allowed as well (RFC 6531, SMTPUTF8).
_ATEXT = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~")
LOCAL_MAX_OCTETS = 64  # RFC 5321 §4.5.3.1.1
ADDRESS_MAX_OCTETS = 254  # RFC 5321 path limit (256) minus the angle brackets


class InvalidName(ValueError):
    """A username or email that cannot be used; the message is for the person typing it."""


@dataclass(frozen=True, slots=True)
class Email:
    address: str  # stored and shown: local part as typed (NFC), domain lower-case A-labels
    key: str  # uniqueness: the address with the local part lower-cased too


def normalise_username(raw: str) -> str:
    """The stored form of a username (lower case); raises InvalidName."""
    name = raw.strip().lower()
    if not USERNAME_MIN <= len(name) <= USERNAME_MAX:
        raise InvalidName(f"username must be {USERNAME_MIN} to {USERNAME_MAX} characters long")
    if not name.isascii() or not re.fullmatch(r"[a-z0-9_.-]+", name):
        raise InvalidName("username may only contain letters a-z, digits, '_', '.' and '-'")
    if not _USERNAME.match(name):
        raise InvalidName("username must start and end with a letter or a digit")
    if ".." in name:
        raise InvalidName("username must not contain '..'")
    return name


def normalise_email(raw: str) -> Email:
    """Trim, check and normalise an address: IDNA domain in lower case; raises InvalidName."""
    text = raw.strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise InvalidName("email must look like name@example.com")
    local = unicodedata.normalize("NFC", local)
    _check_local(local)
    ascii_domain = _ascii_domain(domain)
    address = f"{local}@{ascii_domain}"
    if len(address.encode("utf-8")) > ADDRESS_MAX_OCTETS:
        raise InvalidName(f"email must be at most {ADDRESS_MAX_OCTETS} bytes long")
    return Email(address=address, key=f"{local.lower()}@{ascii_domain}")


def _check_local(local: str) -> None:
    if len(local.encode("utf-8")) > LOCAL_MAX_OCTETS:
        raise InvalidName(f"the part before @ must be at most {LOCAL_MAX_OCTETS} bytes long")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise InvalidName("the part before @ must not start or end with '.' or contain '..'")
    for ch in local:
        if ch in _ATEXT or ch == ".":
            continue
        if ord(ch) > 127 and unicodedata.category(ch)[0] not in "CZ":
            continue
        raise InvalidName(f"the part before @ must not contain {ch!r}")


def _ascii_domain(domain: str) -> str:
    if domain.startswith("["):
        raise InvalidName("email must use a domain name, not an address literal")
    try:
        ascii_domain = idna.encode(domain, uts46=True, std3_rules=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise InvalidName(f"{domain!r} is not a valid domain name") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(labels):
        raise InvalidName("the email's domain must be a full name such as example.com")
    if labels[-1].isdigit():
        raise InvalidName("the email's domain must be a name, not an IP address")
    return ascii_domain.lower()
