"""boto3 clients for a region, and one readable line for any S3 or connection failure.

Path-style addressing (a store on 127.0.0.1 has no per-bucket DNS names), SigV4 everywhere
(boto3 presigns SigV2 against non-AWS endpoints otherwise), and checksums only where an operation
requires them (MinIO and Ceph releases before 2025 refuse boto3's default CRC trailers).
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from openfront.storage.credentials import S3Credentials

# Missing-thing codes S3 answers with, and what to say instead of the bare code.
_EXPLAINED = {
    "NoSuchBucket": "the bucket does not exist",
    "NoSuchKey": "no such key",
    "404": "not found",
    "NotFound": "not found",
    "AccessDenied": "access denied: check the credentials and the bucket policy",
    "403": "access denied: check the credentials and the bucket policy",
    "InvalidAccessKeyId": "the access key id is not known to this store",
    "SignatureDoesNotMatch": "the secret key does not match the access key id",
    "BucketNotEmpty": "the bucket is not empty: delete its objects first",
    "BucketAlreadyOwnedByYou": "the bucket already exists",
    "BucketAlreadyExists": "the bucket name is taken",
    "InvalidBucketName": "not a valid bucket name",
}


def s3_client(
    endpoint: str | None,
    credentials: S3Credentials | None,
    region: str,
    *,
    connect_timeout: float = 5.0,
    read_timeout: float = 60.0,
    attempts: int = 3,
) -> Any:
    """A boto3 S3 client; `credentials` None = boto3's own chain (AWS_* env, profiles)."""
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"max_attempts": attempts, "mode": "standard"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    keys: dict[str, str] = {}
    if credentials is not None:
        keys = {
            "aws_access_key_id": credentials.access_key_id,
            "aws_secret_access_key": credentials.secret_access_key,
        }
    session = boto3.session.Session()
    return session.client("s3", endpoint_url=endpoint, region_name=region, config=config, **keys)


def error_code(exc: BaseException) -> str | None:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


def is_unreachable(exc: BaseException) -> bool:
    return isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError)


def describe_error(exc: BaseException, endpoint: str | None = None) -> str:
    """One line for an S3 failure: the code, what it means, never a secret or a traceback."""
    where = endpoint or "the S3 endpoint"
    if isinstance(exc, ClientError):
        code = error_code(exc) or "error"
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = _EXPLAINED.get(code) or exc.response.get("Error", {}).get("Message") or code
        label = code if not code.isdigit() else f"HTTP {code}"
        return f"{message} ({label}{f', {status}' if status and str(status) != code else ''})"
    if isinstance(exc, EndpointConnectionError):
        return f"cannot connect to {where} (connection refused or no route)"
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return f"{where} did not answer in time"
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return (
            "no credentials: give --data DIR of a running stack, or set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(exc, BotoCoreError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
