"""Region credentials: generated once per managed region, read from env or a file for external
ones. Secrets stay out of reprs, logs and stack.json; messages name the file or variable."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openfront.config.storage import CredentialsConfig
from openfront.errors import StorageError
from openfront.fileio import write_atomic

_KEY_ALPHABET = string.ascii_uppercase + string.digits
WEED_ACTIONS = ("Admin", "Read", "Write", "List", "Tagging")


@dataclass(frozen=True, slots=True)
class S3Credentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)


def generate_credentials() -> S3Credentials:
    # AWS-shaped: a 20-character upper-case key id and a 40-character secret.
    key_id = "OF" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(18))
    return S3Credentials(key_id, secrets.token_urlsafe(30))


def weed_identity_document(creds: S3Credentials) -> dict[str, Any]:
    """weed's -s3.config file: one identity with every action."""
    return {
        "identities": [
            {
                "name": "openfront",
                "credentials": [
                    {"accessKey": creds.access_key_id, "secretKey": creds.secret_access_key}
                ],
                "actions": list(WEED_ACTIONS),
            }
        ]
    }


def credentials_document(creds: S3Credentials) -> dict[str, str]:
    """The `{"AccessKeyId", "SecretAccessKey"}` file `read_credentials_file` reads back."""
    return {"AccessKeyId": creds.access_key_id, "SecretAccessKey": creds.secret_access_key}


def write_private_json(path: Path, data: object) -> None:
    """Mode 0600 from the first byte, fsynced, renamed over `path`, directory fsynced."""
    write_atomic(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"), 0o600)


def read_credentials_file(path: Path) -> S3Credentials:
    """A weed s3.json (first identity's first key) or `{"AccessKeyId", "SecretAccessKey"}`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StorageError(f"{path}: no such credentials file") from None
    except PermissionError:
        raise StorageError(f"{path}: not readable by this user") from None
    except (OSError, ValueError) as exc:
        raise StorageError(f"{path}: not a JSON credentials file ({type(exc).__name__})") from None
    creds = _from_document(data)
    if creds is None:
        raise StorageError(
            f'{path}: expected {{"AccessKeyId": ..., "SecretAccessKey": ...}} or a weed s3.json'
        )
    return creds


def _from_document(data: object) -> S3Credentials | None:
    if not isinstance(data, dict):
        return None
    key_id, secret = data.get("AccessKeyId"), data.get("SecretAccessKey")
    if isinstance(key_id, str) and isinstance(secret, str) and key_id and secret:
        return S3Credentials(key_id, secret)
    with contextlib.suppress(LookupError, TypeError, AttributeError):
        first = data["identities"][0]["credentials"][0]
        key_id, secret = first["accessKey"], first["secretKey"]
        if isinstance(key_id, str) and isinstance(secret, str) and key_id and secret:
            return S3Credentials(key_id, secret)
    return None


def ensure_managed_credentials(path: Path) -> S3Credentials:
    """The region's credentials: those in its s3.json, or new ones written there (0600)."""
    if path.exists():
        creds = read_credentials_file(path)
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return creds
    creds = generate_credentials()
    write_private_json(path, weed_identity_document(creds))
    return creds


def external_credentials(config: CredentialsConfig, environ: Mapping[str, str]) -> S3Credentials:
    """An external region's credentials from its file, or from its two environment variables."""
    if config.file is not None:
        return read_credentials_file(config.file)
    key_id = environ.get(config.access_key_id_env, "")
    secret = environ.get(config.secret_access_key_env, "")
    missing = [
        name
        for name, value in (
            (config.access_key_id_env, key_id),
            (config.secret_access_key_env, secret),
        )
        if not value
    ]
    if missing:
        raise StorageError(f"credentials: set {' and '.join('$' + m for m in missing)}")
    return S3Credentials(key_id, secret)
