"""Origin Access Control at the edge: S3 origin requests signed with SigV4 after forwarding rules.

The signature covers what is sent (method, path, query, Host and the x-amz-* fields) and is made
last, per origin-group member, so it never enters the cache key and each member is signed with
its own credentials and region.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from openfront.cache.policy import Distribution, Origin
from openfront.config.edge import S3OriginAccess
from openfront.errors import ConfigError, OriginConnectError, StorageError
from openfront.signing.sigv4 import (
    EMPTY_SHA256,
    UNSIGNED_PAYLOAD,
    Credentials,
    canonical_path,
    has_own_auth,
    sign_s3,
)
from openfront.storage.credentials import read_credentials_file

__all__ = ["S3Signer", "load_s3_credentials"]

_ENV_KEY, _ENV_SECRET, _ENV_TOKEN = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)
# A viewer's aws-chunked upload without chunk signatures stays decodable after re-signing.
_STREAMING_UNSIGNED = "STREAMING-UNSIGNED-PAYLOAD"


class S3Signer:
    """Signs S3 origin requests with the credentials of each origin's DomainName."""

    def __init__(
        self,
        credentials: Mapping[str, Credentials] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._credentials = dict(credentials or {})
        self._clock = clock

    def prepare(
        self,
        origin: Origin,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        viewer_headers: Sequence[tuple[str, str]],
        viewer_query: str,
        *,
        has_body: bool,
    ) -> tuple[str, list[tuple[str, str]]]:
        """The request target and headers to send to S3 origin ``origin``."""
        s3 = origin.s3
        assert s3 is not None
        path, sep, query = target.partition("?")
        # Sent exactly as signed: S3 compares against its own encoding of the key.
        path = canonical_path(path)
        target = path + sep + query
        if s3.signing == "never":
            return target, headers
        if s3.signing == "no-override" and has_own_auth(viewer_headers, viewer_query):
            # The viewer's signature reaches the bucket untouched. SeaweedFS counts every
            # x-amz-* field as signed, so the edge's own X-Amz-Cf-Id would break it.
            return target, [h for h in headers if h[0].lower() != "x-amz-cf-id"]
        creds = self._credentials.get(s3.credentials)
        if creds is None:
            raise OriginConnectError(f"origin {origin.id}: no credentials to sign for S3")
        return target, sign_s3(
            method,
            path,
            query,
            headers,
            creds,
            s3.region,
            self._clock(),
            payload_hash=_payload_hash(headers, has_body),
        )


def _payload_hash(headers: Sequence[tuple[str, str]], has_body: bool) -> str:
    if not has_body:
        return EMPTY_SHA256
    for name, value in headers:
        if name.lower() == "x-amz-content-sha256" and value.startswith(_STREAMING_UNSIGNED):
            return value
    return UNSIGNED_PAYLOAD  # the body streams through; it is never read twice


def load_s3_credentials(
    distributions: Iterable[Distribution],
    access: Iterable[S3OriginAccess],
    environ: Mapping[str, str] = os.environ,
) -> dict[str, Credentials]:
    """Credentials for every signed S3 origin, by DomainName; ConfigError names what is missing.

    Read once at start: from the origin's edge.s3_origins entry (region_dir's s3.json or
    credentials_file), else from the AWS_* environment variables.
    """
    entries = {a.domain_name.lower(): a for a in access}
    out: dict[str, Credentials] = {}
    for dist in distributions:
        for origin in dist.origins.values():
            s3 = origin.s3
            if s3 is None or s3.signing == "never" or s3.credentials in out:
                continue
            entry = entries.get(s3.credentials)
            path: Path | None = None
            if entry is not None:
                path = entry.credentials_file
                if entry.region_dir is not None:
                    path = entry.region_dir / "s3.json"
            out[s3.credentials] = _credentials(origin, path, environ)
    return out


def _credentials(origin: Origin, path: Path | None, env: Mapping[str, str]) -> Credentials:
    where = f"origin {origin.id} ({origin.s3.credentials if origin.s3 else origin.domain})"
    if path is not None:
        try:
            creds = read_credentials_file(path)
        except StorageError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        return Credentials(creds.access_key_id, creds.secret_access_key)
    key, secret = env.get(_ENV_KEY, ""), env.get(_ENV_SECRET, "")
    if not key or not secret:
        raise ConfigError(
            f"{where} signs with Origin Access Control: give edge.s3_origins credentials or set "
            f"${_ENV_KEY} and ${_ENV_SECRET}"
        )
    return Credentials(key, secret, env.get(_ENV_TOKEN) or None)
