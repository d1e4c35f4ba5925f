"""The files the demo needs under its data dir: the sample site and the admin token.

Samples are copied only when missing, so edits made while trying the demo (change index.html,
then invalidate it) survive a restart. Large or binary samples are generated here rather than
kept in git.
"""

from __future__ import annotations

import os
import random
import secrets
import struct
import zlib
from collections.abc import Callable
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

SAMPLE_BIN = Path("video/sample.bin")
SAMPLE_BIN_SIZE = 2 * 1024 * 1024
SAMPLE_BIN_SEED = 3  # fixed, so the bytes (and so the ETag's size) are the same on every machine
LOGO = Path("static/logo.png")
LOGO_SIZE = 48


def prepare_site(origin_dir: Path) -> None:
    """Fill `origin_dir` with the sample site; existing files are left as they are."""
    origin_dir.mkdir(parents=True, exist_ok=True)
    _copy_missing(resources.files("openfront.stack") / "samples", origin_dir)
    _write_missing(origin_dir / SAMPLE_BIN, _sample_bytes)
    _write_missing(origin_dir / LOGO, lambda: logo_png(LOGO_SIZE))


def _copy_missing(source: Traversable, target: Path) -> None:
    for item in source.iterdir():
        if item.name.startswith((".", "__")):
            continue
        destination = target / item.name
        if item.is_dir():
            destination.mkdir(exist_ok=True)
            _copy_missing(item, destination)
        elif not destination.exists():
            destination.write_bytes(item.read_bytes())


def _write_missing(path: Path, produce: Callable[[], bytes]) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(produce())
    os.replace(tmp, path)


def _sample_bytes() -> bytes:
    return random.Random(SAMPLE_BIN_SEED).randbytes(SAMPLE_BIN_SIZE)


def logo_png(size: int) -> bytes:
    """A small orange ring on transparency, as an RGBA PNG (RFC 2083)."""
    centre, outer, inner = (size - 1) / 2, size / 2 - 1, size / 2 - 9
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")  # filter type 0 (None) for each scanline
        for x in range(size):
            distance = ((x - centre) ** 2 + (y - centre) ** 2) ** 0.5
            on = inner <= distance <= outer
            row += bytes((0xE8, 0x59, 0x0C, 0xFF)) if on else bytes(4)
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(b"".join(rows), 9)),
            _chunk(b"IEND", b""),
        ]
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def ensure_admin_token(path: Path) -> str:
    """The admin token in `path` (mode 0600), created on first use."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token
