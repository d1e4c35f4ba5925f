"""API access keys: ids in the clear, secrets encrypted with a key file under the data folder.

SigV4 proves knowledge of the secret by an HMAC the server must recompute, so the server needs
the plaintext secret: a hash would not do. The database holds Fernet tokens (AES-128-CBC plus
HMAC-SHA256); the Fernet key lives in ``DATA/control.key`` (mode 0600), never in the database,
so a database dump alone reveals no secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from openfront.control import ids
from openfront.control.models import AccessKey
from openfront.errors import ConfigError

KEY_FILE = "control.key"
ROOT_KEY_ENV = "OPENFRONT_ROOT_ACCESS_KEY_ID"
ROOT_SECRET_ENV = "OPENFRONT_ROOT_SECRET_ACCESS_KEY"
_KEY_ID = re.compile(r"^[A-Z0-9]{16,32}$")
_SECRET = re.compile(r"^[\x21-\x7e]{16,128}$")


class SecretBox:
    """Encrypts and decrypts access key secrets with the data folder's key file."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def open(cls, data_dir: Path) -> SecretBox:
        """Load ``DATA/control.key``, creating it (atomically, 0600) on first use."""
        path = data_dir / KEY_FILE
        if not path.exists():
            _create_key_file(path)
        try:
            return cls(path.read_bytes().strip())
        except ValueError:
            raise ConfigError(f"{path}: not a key file written by openfront api") from None

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken:
            raise ConfigError(
                f"an access key secret does not decrypt with {KEY_FILE}: was the key file "
                "replaced, or does this data folder belong to another database?"
            ) from None


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, Fernet.generate_key() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # unlike rename, never replaces a key another process just made
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: str
    description: str
    is_root: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Credentials:
    access_key_id: str
    secret_access_key: str


def check_key_id(key_id: str) -> None:
    if not _KEY_ID.match(key_id):
        raise ConfigError(f"access key id {key_id!r}: use 16-32 upper-case letters and digits")


def check_secret(secret: str) -> None:
    if not _SECRET.match(secret):
        raise ConfigError("secret access key: use 16-128 printable ASCII characters, no spaces")


def create_key(
    session: Session,
    box: SecretBox,
    now: datetime,
    *,
    description: str = "",
    is_root: bool = False,
    given: Credentials | None = None,
) -> Credentials:
    creds = given or Credentials(ids.access_key_id(), ids.secret_access_key())
    check_key_id(creds.access_key_id)
    check_secret(creds.secret_access_key)
    if session.get(AccessKey, creds.access_key_id) is not None:
        raise ConfigError(f"access key {creds.access_key_id} already exists")
    session.add(
        AccessKey(
            id=creds.access_key_id,
            secret_ciphertext=box.encrypt(creds.secret_access_key),
            description=description[:255],
            is_root=is_root,
            created_at=now,
        )
    )
    return creds


def list_keys(session: Session) -> list[KeyInfo]:
    rows = session.scalars(select(AccessKey).order_by(AccessKey.created_at, AccessKey.id))
    return [KeyInfo(r.id, r.description, r.is_root, r.created_at) for r in rows]


def delete_key(session: Session, key_id: str) -> bool:
    result = session.execute(delete(AccessKey).where(AccessKey.id == key_id))
    return bool(getattr(result, "rowcount", 0))


def secret_for(session: Session, box: SecretBox, key_id: str) -> str | None:
    if not _KEY_ID.match(key_id):
        return None
    row = session.get(AccessKey, key_id)
    return None if row is None else box.decrypt(row.secret_ciphertext)


def root_from_env(env: Mapping[str, str]) -> Credentials | None:
    key_id, secret = env.get(ROOT_KEY_ENV), env.get(ROOT_SECRET_ENV)
    if not key_id and not secret:
        return None
    if not key_id or not secret:
        raise ConfigError(f"set both {ROOT_KEY_ENV} and {ROOT_SECRET_ENV}, or neither")
    creds = Credentials(key_id, secret)
    check_key_id(key_id)
    check_secret(secret)
    return creds


def ensure_root(
    session: Session, box: SecretBox, env: Mapping[str, str], now: datetime
) -> Credentials | None:
    """Make sure a root key exists. Returns generated credentials, which the caller shows once.

    With the environment variables set, that key is created if missing, or its secret
    replaced if it changed. Without them, a root key is generated only when no key exists.
    """
    given = root_from_env(env)
    if given is not None:
        row = session.get(AccessKey, given.access_key_id)
        if row is None:
            create_key(
                session, box, now, description="root (environment)", is_root=True, given=given
            )
        elif box.decrypt(row.secret_ciphertext) != given.secret_access_key:
            row.secret_ciphertext = box.encrypt(given.secret_access_key)
        return None
    if session.scalar(select(AccessKey.id).limit(1)) is not None:
        return None
    return create_key(session, box, now, description="root (generated)", is_root=True)
