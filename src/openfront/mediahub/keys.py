"""The key that signs access tokens: one file, made once, shared by every region.

Two servers starting together may both find the file missing: each writes its own candidate
to a temp file (mode 0600 from the first byte, fsynced) and hard-links it into place; a link
never replaces an existing file, so exactly one candidate wins and both read the winner.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
from pathlib import Path

KEY_BYTES = 32  # HMAC-SHA256: a key as long as the hash output (RFC 2104 §3)


class KeyFileError(OSError):
    pass


def load_or_create_key(path: Path) -> bytes:
    """The key in ``path``, creating the file with a new random key if it does not exist."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process won the race
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return _read(path)


def _read(path: Path) -> bytes:
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"{path}: not a base64 key (delete it to make a new one)") from None
    if len(key) < KEY_BYTES:
        raise KeyFileError(f"{path}: the key must be at least {KEY_BYTES} bytes")
    return key


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
