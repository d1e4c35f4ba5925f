"""CloudFront signed-URL policies: the wire encoding, canned and custom policies, evaluation.

Pure: standard library only, no clock (``now`` is passed in), never raises on viewer input.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
QueryPairs = Sequence[tuple[str, str | None]]

# Query parameters CloudFront consumes; they never reach the cache key or the origin.
SIGNING_PARAMS: Final = frozenset(
    {"Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm"}
)
HASH_ALGORITHMS: Final = frozenset({"SHA1", "SHA256"})
MAX_EPOCH: Final = 2**31 - 1  # CloudFront's Expires is a signed 32-bit value
# Bounds checked before any decoding, so a huge value costs nothing.
MAX_SIGNATURE_CHARS: Final = 2048  # an RSA-8192 signature is 1368 characters
MAX_POLICY_CHARS: Final = 16384

_EPOCH_DIGITS = re.compile(r"[0-9]{1,10}", re.ASCII)
_B64_CHARS = re.compile(r"[A-Za-z0-9+/]*={0,2}", re.ASCII)
_TO_STD = str.maketrans("-_~", "+=/")
_FROM_STD = bytes.maketrans(b"+=/", b"-_~")
_CONDITION_KEYS = frozenset({"DateLessThan", "DateGreaterThan", "IpAddress"})


def b64_encode(data: bytes) -> str:
    """CloudFront's URL-safe base64: standard base64 with ``+=/`` swapped for ``-_~``."""
    return base64.b64encode(data).translate(_FROM_STD).decode("ascii")


def b64_decode(text: str, limit: int) -> bytes | None:
    """The inverse of ``b64_encode``; None for anything that is not valid (or too long)."""
    if len(text) > limit:
        return None
    std = text.translate(_TO_STD)
    std += "=" * (-len(std) % 4)  # some signers drop the padding
    if _B64_CHARS.fullmatch(std) is None:
        return None
    try:
        return base64.b64decode(std, validate=True)
    except (binascii.Error, ValueError):
        return None


def parse_epoch(text: str) -> int | None:
    """A canned policy's ``Expires``: decimal digits only, within 32 bits."""
    if _EPOCH_DIGITS.fullmatch(text) is None:
        return None
    value = int(text)
    return value if value <= MAX_EPOCH else None


def canned_policy(resource: str, expires: int) -> str:
    """The exact policy CloudFront (and botocore) sign for a canned-policy URL or cookie."""
    statement = {"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}
    return json.dumps({"Statement": [statement]}, separators=(",", ":"))


def is_signing_param(name: str) -> bool:
    return name in SIGNING_PARAMS


def strip_signing_params(query: str) -> str:
    """The raw query without CloudFront's signing parameters, other pieces kept in order."""
    if not query:
        return query
    kept = [p for p in query.split("&") if p.partition("=")[0] not in SIGNING_PARAMS]
    return "&".join(kept)


def resource_url(url: str, query_pairs: Iterable[tuple[str, str | None]]) -> str:
    """The URL a policy speaks about: ``url`` plus the viewer's own raw query parameters."""
    kept = [
        name if val is None else f"{name}={val}"
        for name, val in query_pairs
        if name not in SIGNING_PARAMS
    ]
    return f"{url}?{'&'.join(kept)}" if kept else url


# --- resource patterns -------------------------------------------------------------------------

_STAR: Final = 0
_ONE: Final = 1
Token = tuple[int, str]  # (_STAR | _ONE, "") or (-1, literal character)
_LIT: Final = -1


def _tokenize(pattern: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            tokens.append((_LIT, pattern[i + 1]))
            i += 2
            continue
        tokens.append((_STAR, "") if ch == "*" else (_ONE, "") if ch == "?" else (_LIT, ch))
        i += 1
    return tokens


def _glob(tokens: Sequence[Token], text: str) -> bool:
    """Wildcard match in O(len(tokens) * len(text)): backtrack only to the last ``*``."""
    t = s = 0
    star_t, star_s = -1, 0
    while s < len(text):
        if t < len(tokens) and (
            tokens[t][0] == _ONE or (tokens[t][0] == _LIT and tokens[t][1] == text[s])
        ):
            t += 1
            s += 1
        elif t < len(tokens) and tokens[t][0] == _STAR:
            star_t, star_s = t, s
            t += 1
        elif star_t >= 0:
            star_s += 1
            t, s = star_t + 1, star_s
        else:
            return False
    while t < len(tokens) and tokens[t][0] == _STAR:
        t += 1
    return t == len(tokens)


def _find_literal(tokens: Sequence[Token], chars: str, start: int = 0) -> int:
    for i in range(start, len(tokens)):
        kind, ch = tokens[i]
        if kind == _LIT and ch in chars:
            return i
    return -1


def _find_scheme_end(tokens: Sequence[Token]) -> int:
    for i in range(len(tokens) - 2):
        if all(tokens[i + k] == (_LIT, c) for k, c in enumerate("://")):
            return i
    return -1


def _lower(tokens: Sequence[Token]) -> list[Token]:
    return [(kind, ch.lower()) for kind, ch in tokens]


@dataclass(frozen=True, slots=True)
class ResourcePattern:
    """A policy ``Resource``: ``*`` and ``?`` match within one section of the URL.

    Sections are scheme, host, path and query; a literal ``?`` is written ``\\?``. A trailing ``*``
    in the path also matches any query, one in the host any path and query, and ``"*"`` any URL.
    A pattern equal to the URL always matches (CloudFront's own examples leave ``?`` unescaped).
    """

    text: str
    whole: tuple[Token, ...] | None  # a pattern without "://": one glob over the whole URL
    scheme: tuple[Token, ...] = ()
    host: tuple[Token, ...] = ()
    path: tuple[Token, ...] | None = None
    query: tuple[Token, ...] | None = None

    @classmethod
    def compile(cls, text: str) -> ResourcePattern:
        tokens = _tokenize(text)
        end = _find_scheme_end(tokens)
        if end < 0:
            return cls(text, tuple(tokens))
        rest = tokens[end + 3 :]
        slash = _find_literal(rest, "/")
        host = rest if slash < 0 else rest[:slash]
        if slash < 0:
            return cls(text, None, tuple(_lower(tokens[:end])), tuple(_lower(host)))
        qmark = _find_literal(rest, "?", slash)
        path = rest[slash:] if qmark < 0 else rest[slash:qmark]
        query = None if qmark < 0 else tuple(rest[qmark + 1 :])
        return cls(text, None, tuple(_lower(tokens[:end])), tuple(_lower(host)), tuple(path), query)

    def matches(self, url: str) -> bool:
        if url == self.text:
            return True
        if self.whole is not None:
            return _glob(self.whole, url)
        scheme, sep, rest = url.partition("://")
        if not sep:
            return False
        host_end = len(rest)
        for ch in "/?":
            pos = rest.find(ch)
            if 0 <= pos < host_end:
                host_end = pos
        host, after = rest[:host_end], rest[host_end:]
        if not (_glob(self.scheme, scheme.lower()) and _glob(self.host, host.lower())):
            return False
        return self._path_and_query_match(after)

    def _path_and_query_match(self, after: str) -> bool:
        if self.path is None:  # the pattern ended in the host
            return bool(self.host) and self.host[-1][0] == _STAR
        path, qmark, query = after.partition("?")
        if not _glob(self.path, path):
            return False
        if self.query is not None:
            return bool(qmark) and _glob(self.query, query)
        if not qmark:
            return True
        return bool(self.path) and self.path[-1][0] == _STAR


# --- custom policies ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Policy:
    """The one statement of a CloudFront policy, validated."""

    date_less_than: int
    date_greater_than: int | None = None
    source_ip: IpNetwork | None = None
    resource: ResourcePattern | None = None  # None: every URL the key may sign


class PolicyError(ValueError):
    """The policy document is not one CloudFront accepts (reported as Malformed Policy)."""


def parse_policy(raw: bytes) -> Policy | None:
    """A policy from its JSON bytes, or None when the document is malformed."""
    try:
        doc = json.loads(raw)
        return _policy_from_doc(doc)
    except (ValueError, RecursionError, UnicodeDecodeError):
        return None


def _policy_from_doc(doc: Any) -> Policy:
    if not isinstance(doc, dict) or set(doc) != {"Statement"}:
        raise PolicyError("expected an object with only Statement")
    statements = doc["Statement"]
    if not isinstance(statements, list) or len(statements) != 1:
        raise PolicyError("Statement must be a list of exactly one statement")
    stmt = statements[0]
    if not isinstance(stmt, dict) or not set(stmt) <= {"Resource", "Condition"}:
        raise PolicyError("a statement holds only Resource and Condition")
    resource = stmt.get("Resource")
    if resource is not None and not isinstance(resource, str):
        raise PolicyError("Resource must be a string")
    cond = stmt.get("Condition")
    if not isinstance(cond, dict) or not set(cond) <= _CONDITION_KEYS:
        raise PolicyError("Condition holds only DateLessThan, DateGreaterThan, IpAddress")
    if "DateLessThan" not in cond:
        raise PolicyError("DateLessThan is required")
    return Policy(
        date_less_than=_epoch_condition(cond["DateLessThan"]),
        date_greater_than=_epoch_condition(cond["DateGreaterThan"])
        if "DateGreaterThan" in cond
        else None,
        source_ip=_ip_condition(cond["IpAddress"]) if "IpAddress" in cond else None,
        resource=None if resource is None else ResourcePattern.compile(resource),
    )


def _epoch_condition(value: Any) -> int:
    if not isinstance(value, dict) or set(value) != {"AWS:EpochTime"}:
        raise PolicyError("a date condition is {'AWS:EpochTime': <int>}")
    epoch = value["AWS:EpochTime"]
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 0 <= epoch <= MAX_EPOCH:
        raise PolicyError("AWS:EpochTime must be an integer within 32 bits")
    return epoch


def _ip_condition(value: Any) -> IpNetwork:
    if not isinstance(value, dict) or set(value) != {"AWS:SourceIp"}:
        raise PolicyError("IpAddress is {'AWS:SourceIp': '<cidr>'}")
    cidr = value["AWS:SourceIp"]
    if not isinstance(cidr, str):
        raise PolicyError("AWS:SourceIp must be a string")
    return ipaddress.ip_network(cidr, strict=False)  # ValueError -> malformed


def _client_address(client_ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        addr = ipaddress.ip_address(client_ip)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def policy_refusal(policy: Policy, url: str, now: float, client_ip: str) -> str | None:
    """Why ``policy`` does not grant this request (a short detail for logs), or None if it does."""
    if not now < policy.date_less_than:
        return "expired"
    if policy.date_greater_than is not None and now < policy.date_greater_than:
        return "not yet valid"
    if policy.source_ip is not None:
        addr = _client_address(client_ip)
        if addr is None or addr not in policy.source_ip:
            return "client IP not allowed"
    if policy.resource is not None and not policy.resource.matches(url):
        return "resource does not match"
    return None
