"""What the demo origin serves from its folder: path resolution, types, validators, header rules.

Synchronous on purpose: the origin calls `Site.lookup` through `asyncio.to_thread`, so the
stat/open/json work never blocks its event loop.
"""

from __future__ import annotations

import json
import mimetypes
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from openfront.errors import ConfigError
from openfront.http.dates import format_http_date, parse_http_date

HEADERS_FILE = "_headers.json"

# A fixed table first: mimetypes alone depends on the host's /etc/mime.types, and the demo
# should send the same Content-Type on every machine.
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".wasm": "application/wasm",
    ".mp4": "video/mp4",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".bin": "application/octet-stream",
}


def content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name, strict=True)
    return guessed or "application/octet-stream"


def strong_etag(size: int, mtime_ns: int) -> str:
    """A strong validator from size and mtime (like nginx's), quoted per RFC 9110 §8.8.3."""
    return f'"{size:x}-{mtime_ns:x}"'


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """CloudFront path-pattern semantics: `*` any run (including `/`), `?` one character."""
    body = pattern.lstrip("/")
    parts = ("." if ch == "?" else ".*" if ch == "*" else re.escape(ch) for ch in body)
    return re.compile("/" + "".join(parts), re.DOTALL)


@dataclass(frozen=True, slots=True)
class HeaderRule:
    pattern: str
    regex: re.Pattern[str]
    headers: tuple[tuple[str, str], ...]


def parse_header_rules(text: str, source: str = HEADERS_FILE) -> tuple[HeaderRule, ...]:
    """Parse `_headers.json`: {"<path pattern>": {"<Header-Name>": "<value>", ...}, ...}."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be an object of pattern -> headers")
    rules = []
    for pattern, headers in data.items():
        if not isinstance(headers, dict):
            raise ConfigError(f"{source}: {pattern!r}: must be an object of header -> value")
        pairs = []
        for name, value in headers.items():
            if not isinstance(value, str) or not _valid_header(name, value):
                raise ConfigError(f"{source}: {pattern!r}.{name}: bad header name or value")
            pairs.append((name, value))
        rules.append(HeaderRule(pattern, _pattern_regex(pattern), tuple(pairs)))
    return tuple(rules)


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


def _valid_header(name: str, value: str) -> bool:
    return _TOKEN.fullmatch(name) is not None and _FIELD_VALUE.fullmatch(value) is not None


def rule_headers(rules: tuple[HeaderRule, ...], path: str) -> list[tuple[str, str]]:
    """Headers of every rule matching `path`, in file order; a later rule overrides a name."""
    merged: dict[str, tuple[str, str]] = {}
    for rule in rules:
        if rule.regex.fullmatch(path):
            for name, value in rule.headers:
                merged[name.lower()] = (name, value)
    return list(merged.values())


@dataclass(frozen=True, slots=True)
class StaticFile:
    path: Path
    size: int
    mtime: float
    etag: str
    last_modified: str
    content_type: str


@dataclass(frozen=True, slots=True)
class Lookup:
    """The outcome of resolving one URL path: a file or None, plus the rule headers."""

    file: StaticFile | None
    headers: list[tuple[str, str]]


class Site:
    """A folder served read-only; `_headers.json` is re-read when its mtime changes."""

    def __init__(self, root: Path) -> None:
        try:
            self.root = root.resolve(strict=True)
        except OSError as exc:
            raise ConfigError(f"origin root {root}: {exc.strerror or exc}") from exc
        if not self.root.is_dir():
            raise ConfigError(f"origin root {root} is not a directory")
        self._lock = threading.Lock()
        self._rules_stamp: int | None = None
        self._rules: tuple[HeaderRule, ...] = ()
        self._reload_rules(strict=True)

    def lookup(self, url_path: str) -> Lookup:
        self._reload_rules(strict=False)
        return Lookup(self._find(url_path), rule_headers(self._rules, url_path))

    def _find(self, url_path: str) -> StaticFile | None:
        target = resolve_inside(self.root, url_path)
        if target is None or target == self.root / HEADERS_FILE:
            return None
        if target.is_dir():
            target = target / "index.html"
        try:
            st = target.stat()
        except OSError:
            return None
        if not os.path.isfile(target):
            return None
        return StaticFile(
            path=target,
            size=st.st_size,
            mtime=st.st_mtime,
            etag=strong_etag(st.st_size, st.st_mtime_ns),
            last_modified=format_http_date(st.st_mtime),
            content_type=content_type(target),
        )

    def _reload_rules(self, *, strict: bool) -> None:
        path = self.root / HEADERS_FILE
        try:
            stamp = path.stat().st_mtime_ns
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp == self._rules_stamp:
                return
            try:
                self._rules = () if stamp is None else parse_header_rules(path.read_text("utf-8"))
            except (ConfigError, OSError, UnicodeDecodeError):
                if strict:
                    raise
                # A half-edited file while the demo runs: keep serving with the last good rules.
                return
            self._rules_stamp = stamp


def resolve_inside(root: Path, url_path: str) -> Path | None:
    """Map a URL path onto a file under `root`; None for anything that would leave it."""
    try:
        decoded = unquote(url_path, errors="strict") if "%" in url_path else url_path
    except UnicodeDecodeError:
        return None
    if "\x00" in decoded or not decoded.startswith("/"):
        return None
    try:
        target = (root / decoded.lstrip("/")).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    return target if target.is_relative_to(root) else None


def not_modified(
    if_none_match: str | None, if_modified_since: str | None, etag: str, mtime: float
) -> bool:
    """RFC 9110 §13.2.2 steps 3-4 for GET/HEAD: If-None-Match (weak compare) wins over IMS."""
    if if_none_match is not None:
        return etag_in_list(if_none_match, etag, weak=True)
    since = parse_http_date(if_modified_since)
    return since is not None and int(mtime) <= since


def etag_in_list(header: str, etag: str, *, weak: bool) -> bool:
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    for item in header.split(","):
        candidate = item.strip()
        if weak:
            candidate = candidate.removeprefix("W/")
        elif candidate.startswith("W/"):
            continue
        if candidate == bare:
            return True
    return False


def if_range_allows(if_range: str | None, etag: str, last_modified: str) -> bool:
    """RFC 9110 §13.1.5: a strong ETag match or an exact Last-Modified date keeps the Range."""
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        return not value.startswith("W/") and value == etag
    return value == last_modified


class Unsatisfiable:
    """The Range named no byte of the representation (answer 416)."""


UNSATISFIABLE = Unsatisfiable()
_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", re.ASCII)


def parse_single_range(value: str, size: int) -> tuple[int, int] | Unsatisfiable | None:
    """One `bytes=` range as (first, last) inclusive; None means ignore the header (send 200).

    Several ranges are ignored too: a server may always answer a Range with the full 200
    (RFC 9110 §14.2), and the demo origin only needs single ranges.
    """
    match = _RANGE.fullmatch(value)
    if match is None:
        return None
    first_s, last_s = match.groups()
    if not first_s:
        if not last_s:
            return None
        suffix = int(last_s)
        if suffix == 0 or size == 0:
            return UNSATISFIABLE
        return (max(0, size - suffix), size - 1)
    first = int(first_s)
    last = int(last_s) if last_s else size - 1
    if last_s and last < first:
        return None
    if first >= size:
        return UNSATISFIABLE
    return (first, min(last, size - 1))
