"""`openfront s3`: ls, cp, presign, mb, rb against a region's S3 store.

The endpoint and credentials come from a running stack (`--data DIR`: stack.json names the
region's URL and credentials file), or from `--endpoint-url` with boto3's usual AWS_* variables.
Every failure is one readable line; boto3 is imported only when a subcommand runs.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from openfront.cli._console import EXIT_CONFIG, err, fail, out

F = TypeVar("F", bound=Callable[..., Any])
MAX_PRESIGN_SECONDS = 604_800  # SigV4's limit: 7 days
MULTIPART_BYTES = 8 * 1024 * 1024  # boto3's default threshold and part size


@dataclass(frozen=True)
class Target:
    endpoint: str | None
    credentials: Any  # S3Credentials, or None for boto3's own chain
    region: str
    label: str  # for messages: the region or the endpoint

    def client(self) -> Any:
        from openfront.storage.client import s3_client

        return s3_client(self.endpoint, self.credentials, self.region)


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/key` to (bucket, key); exits with a usage error when it is not one."""
    from openfront.config.storage import bucket_name_problem

    if not url.startswith("s3://"):
        fail(f"{url!r} is not an s3://bucket/key URL", EXIT_CONFIG)
    bucket, _, key = url[5:].partition("/")
    problem = bucket_name_problem(bucket)
    if problem:
        fail(f"{url!r}: {problem}", EXIT_CONFIG)
    return bucket, key


def _region_options(func: F) -> F:
    options = [
        click.option(
            "--data",
            "data_dir",
            type=click.Path(path_type=Path, file_okay=False),
            default=Path("data"),
            show_default=True,
            help="Data dir of a running `openfront up`: its stack.json gives the endpoint and "
            "credentials file of each region.",
        ),
        click.option(
            "--region",
            metavar="NAME",
            help="Storage region, e.g. sa-east-1 (default: the first in stack.json, or "
            "$AWS_REGION with --endpoint-url).",
        ),
        click.option(
            "--endpoint-url",
            metavar="URL",
            help="Any S3 endpoint instead of the stack's; credentials from AWS_ACCESS_KEY_ID "
            "and AWS_SECRET_ACCESS_KEY (or boto3's other sources).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def resolve_target(data_dir: Path, region: str | None, endpoint_url: str | None) -> Target:
    """Where to send requests: --endpoint-url, else the region's entry in DATA/stack.json."""
    if endpoint_url is not None:
        if not endpoint_url.startswith(("http://", "https://")):
            fail(f"--endpoint-url: expected an http:// or https:// URL (got {endpoint_url!r})", 2)
        name = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        return Target(endpoint_url, None, name or "us-east-1", endpoint_url)
    regions = _stack_regions(data_dir)
    if not regions:
        fail(
            f"no storage region is listed in {data_dir / 'stack.json'}: start `openfront up`, "
            "point --data at its data dir, or give --endpoint-url"
        )
    name = region or sorted(regions)[0]
    if name not in regions:
        listed = ", ".join(sorted(regions))
        fail(f"--region {name}: not in {data_dir / 'stack.json'} (it lists {listed})", EXIT_CONFIG)
    return _stack_target(name, regions[name])


def _stack_regions(data_dir: Path) -> dict[str, dict[str, Any]]:
    from openfront.stack.stackfile import read_stack

    try:
        services = read_stack(data_dir / "stack.json")["services"]
    except (OSError, ValueError) as exc:
        fail(f"cannot read {data_dir / 'stack.json'}: {exc}")
    return {
        str(info["region"]): info
        for info in services.values()
        # A store's entry lists its buckets; MediaHub's entries name a region too.
        if isinstance(info, dict) and info.get("region") and info.get("url") and "buckets" in info
    }


def _stack_target(name: str, info: dict[str, Any]) -> Target:
    from openfront.errors import StorageError
    from openfront.storage.credentials import S3Credentials, read_credentials_file

    try:
        if info.get("credentials_file"):
            credentials = read_credentials_file(Path(info["credentials_file"]))
        else:
            key_env, secret_env = info.get("credentials_env") or ("", "")
            key, secret = os.environ.get(key_env, ""), os.environ.get(secret_env, "")
            if not key or not secret:
                fail(f"region {name}: set ${key_env} and ${secret_env} (its credentials)")
            credentials = S3Credentials(key, secret)
    except StorageError as exc:
        fail(f"region {name}: {exc}")
    signing = str(info.get("signing_region") or name)
    return Target(str(info["url"]), credentials, signing, f"region {name}")


@contextlib.contextmanager
def readable_errors(target: Target, what: str = "") -> Iterator[None]:
    """S3, connection and local file errors as one red line (exit 1), never a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError

    from openfront.storage.client import describe_error

    prefix = f"{what}: " if what else ""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        fail(f"{prefix}{describe_error(exc, target.endpoint or target.label)}")
    except OSError as exc:
        name = exc.filename or ""
        fail(f"{prefix}{name + ': ' if name else ''}{exc.strerror or exc}")


@click.group("s3")
def s3() -> None:
    """Work with the buckets of a storage region: ls, cp, presign, mb, rb.

    \b
    Examples (with `openfront up` running on ./data):
      openfront s3 ls
      openfront s3 ls --region sa-east-1 s3://mediahub-sa-east-1/public/
      openfront s3 cp video.mp4 s3://mediahub-ap-northeast-2/public/video.mp4
      openfront s3 cp s3://mediahub-ap-northeast-2/public/video.mp4 ./copy.mp4
      openfront s3 presign --put --expires 600 s3://mediahub-ap-northeast-2/uploads/a.mp4
    Any S3 store: openfront s3 ls --endpoint-url https://s3.sa-east-1.amazonaws.com (with
    AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set).
    """


@s3.command("ls")
@_region_options
@click.option("--recursive", "-r", is_flag=True, help="Every key under the prefix, no PRE lines.")
@click.argument("url", required=False, metavar="[s3://BUCKET[/PREFIX]]")
def ls_cmd(
    data_dir: Path, region: str | None, endpoint_url: str | None, recursive: bool, url: str | None
) -> None:
    """List buckets, or the keys and common prefixes under s3://BUCKET/PREFIX."""
    target = resolve_target(data_dir, region, endpoint_url)
    if url is None:
        with readable_errors(target):
            buckets = target.client().list_buckets().get("Buckets", [])
        for bucket in buckets:
            out.print(f"{_when(bucket.get('CreationDate'))}  {bucket['Name']}")
        return
    bucket, prefix = parse_s3_url(url)
    params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    if not recursive:
        params["Delimiter"] = "/"
    with readable_errors(target, f"s3://{bucket}"):
        pages = target.client().get_paginator("list_objects_v2").paginate(**params)
        for page in pages:
            for common in page.get("CommonPrefixes", []):
                out.print(f"{'PRE':>30} {common['Prefix'][len(_dir(prefix)) :]}")
            for item in page.get("Contents", []):
                key = item["Key"] if recursive else item["Key"][len(_dir(prefix)) :]
                out.print(f"{_when(item.get('LastModified'))} {item['Size']:>10} {key}")


def _dir(prefix: str) -> str:
    """The part of a listing prefix shown as a folder: `a/b/c` lists names relative to `a/b/`."""
    return prefix[: prefix.rfind("/") + 1]


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else " " * 19


@s3.command("cp")
@_region_options
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar (default: when stderr is a terminal).",
)
@click.option(
    "--content-type", metavar="TYPE", help="Content-Type of an upload (default: guessed)."
)
@click.argument("src")
@click.argument("dst")
def cp_cmd(
    data_dir: Path,
    region: str | None,
    endpoint_url: str | None,
    progress: bool | None,
    content_type: str | None,
    src: str,
    dst: str,
) -> None:
    """Copy a file to or from a bucket (multipart above 8 MiB), or between buckets.

    \b
      openfront s3 cp FILE s3://BUCKET/KEY     upload (a KEY ending in / takes FILE's name)
      openfront s3 cp s3://BUCKET/KEY PATH     download (PATH may be a directory)
      openfront s3 cp s3://B/K s3://B2/K2      copy inside the store
    """
    target = resolve_target(data_dir, region, endpoint_url)
    show = err.is_terminal if progress is None else progress
    if src.startswith("s3://") and dst.startswith("s3://"):
        _copy(target, src, dst)
    elif dst.startswith("s3://"):
        _upload(target, Path(src), dst, content_type, show)
    elif src.startswith("s3://"):
        _download(target, src, Path(dst), show)
    else:
        fail("one of SRC and DST must be an s3:// URL", EXIT_CONFIG)


def _transfer_config() -> Any:
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(multipart_threshold=MULTIPART_BYTES, multipart_chunksize=MULTIPART_BYTES)


@contextlib.contextmanager
def _progress(label: str, total: int, show: bool) -> Iterator[Callable[[int], None]]:
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    if not show:
        yield lambda _n: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err) as bar:
        task = bar.add_task(label, total=total)
        # boto3 calls back from its worker threads; Progress.advance takes its own lock.
        yield lambda n: bar.advance(task, n)


def _upload(target: Target, src: Path, dst: str, content_type: str | None, show: bool) -> None:
    bucket, key = parse_s3_url(dst)
    if not key or key.endswith("/"):
        key += src.name
    if not src.is_file():
        fail(f"{src}: no such file", EXIT_CONFIG)
    extra = {
        "ContentType": content_type or mimetypes.guess_type(src.name)[0] or "binary/octet-stream"
    }
    url = f"s3://{bucket}/{key}"
    size = src.stat().st_size
    with readable_errors(target, url), _progress(f"upload {src.name}", size, show) as advance:
        target.client().upload_file(
            str(src), bucket, key, ExtraArgs=extra, Callback=advance, Config=_transfer_config()
        )
    out.print(f"upload: {src} to {url} ({size} bytes)")


def _download(target: Target, src: str, dst: Path, show: bool) -> None:
    bucket, key = parse_s3_url(src)
    if not key or key.endswith("/"):
        fail(f"{src}: give a key, not a prefix", EXIT_CONFIG)
    if dst.is_dir():
        dst = dst / key.rsplit("/", 1)[-1]
    client = target.client()
    with readable_errors(target, src):
        size = _object_size(client, bucket, key, src)
        with _progress(f"download {dst.name}", size, show) as advance:
            client.download_file(bucket, key, str(dst), Callback=advance, Config=_transfer_config())
    out.print(f"download: {src} to {dst} ({size} bytes)")


def _object_size(client: Any, bucket: str, key: str, url: str) -> int:
    """The object's size; a missing bucket or key gets its own message (HEAD has no body)."""
    from botocore.exceptions import ClientError

    from openfront.storage.client import error_code

    try:
        return int(client.head_object(Bucket=bucket, Key=key)["ContentLength"])
    except ClientError as exc:
        if error_code(exc) not in ("404", "NoSuchKey", "NotFound"):
            raise
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
            fail(f"s3://{bucket}: the bucket does not exist (NoSuchBucket)")
        raise
    fail(f"{url}: no such key (NoSuchKey)")


def _copy(target: Target, src: str, dst: str) -> None:
    bucket, key = parse_s3_url(src)
    to_bucket, to_key = parse_s3_url(dst)
    if not to_key or to_key.endswith("/"):
        to_key += key.rsplit("/", 1)[-1]
    client = target.client()
    with readable_errors(target, src):
        size = _object_size(client, bucket, key, src)
        client.copy({"Bucket": bucket, "Key": key}, to_bucket, to_key, Config=_transfer_config())
    out.print(f"copy: {src} to s3://{to_bucket}/{to_key} ({size} bytes)")


@s3.command("presign")
@_region_options
@click.option(
    "--expires",
    type=click.IntRange(1, MAX_PRESIGN_SECONDS),
    default=3600,
    show_default=True,
    help="Seconds the URL stays valid (SigV4 allows up to 604800, 7 days).",
)
@click.option("--put", is_flag=True, help="A URL for uploading (PUT) instead of downloading.")
@click.option(
    "--content-type", metavar="TYPE", help="With --put: the Content-Type the upload must send."
)
@click.argument("url", metavar="s3://BUCKET/KEY")
def presign_cmd(
    data_dir: Path,
    region: str | None,
    endpoint_url: str | None,
    expires: int,
    put: bool,
    content_type: str | None,
    url: str,
) -> None:
    """Print a presigned (SigV4) URL for a GET, or with --put for an upload.

    \b
      curl -o copy.mp4 "$(openfront s3 presign s3://mediahub-ap-northeast-2/public/a.mp4)"
      curl -T a.mp4 "$(openfront s3 presign --put s3://mediahub-ap-northeast-2/uploads/a.mp4)"
    """
    bucket, key = parse_s3_url(url)
    if not key:
        fail(f"{url}: give a key", EXIT_CONFIG)
    if content_type is not None and not put:
        fail("--content-type goes with --put", EXIT_CONFIG)
    target = resolve_target(data_dir, region, endpoint_url)
    params = {"Bucket": bucket, "Key": key}
    if content_type is not None:
        params["ContentType"] = content_type
    with readable_errors(target, url):
        signed = target.client().generate_presigned_url(
            "put_object" if put else "get_object", Params=params, ExpiresIn=expires
        )
    out.print(signed, soft_wrap=True)


@s3.command("mb")
@_region_options
@click.argument("url", metavar="s3://BUCKET")
def mb_cmd(data_dir: Path, region: str | None, endpoint_url: str | None, url: str) -> None:
    """Make a bucket (private, no CORS; configured buckets belong in the storage config)."""
    bucket, key = parse_s3_url(url)
    if key:
        fail(f"{url}: a bucket URL has no key", EXIT_CONFIG)
    target = resolve_target(data_dir, region, endpoint_url)
    params: dict[str, Any] = {"Bucket": bucket}
    if target.region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": target.region}
    with readable_errors(target, f"s3://{bucket}"):
        target.client().create_bucket(**params)
    out.print(f"make_bucket: {bucket}")


@s3.command("rb")
@_region_options
@click.argument("url", metavar="s3://BUCKET")
def rb_cmd(data_dir: Path, region: str | None, endpoint_url: str | None, url: str) -> None:
    """Remove an empty bucket."""
    bucket, key = parse_s3_url(url)
    if key:
        fail(f"{url}: a bucket URL has no key", EXIT_CONFIG)
    target = resolve_target(data_dir, region, endpoint_url)
    with readable_errors(target, f"s3://{bucket}"):
        target.client().delete_bucket(Bucket=bucket)
    out.print(f"remove_bucket: {bucket}")
