"""`openfront s3` against a real store, found through a stack.json as `openfront up` writes it."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from tests.support.weed import MEDIA_BUCKET, PLAIN_BUCKET, WeedStore

from openfront.cli.main import main
from openfront.stack.stackfile import StackFile

MiB = 1 << 20


@pytest.fixture
def data(store: WeedStore, tmp_path: Path) -> Path:
    """A data dir whose stack.json lists the store as region ap-northeast-2."""
    info = store.region.info()
    StackFile(tmp_path / "stack.json").set(
        store.region.service, url=info.pop("url"), pid=os.getpid(), **info
    )
    return tmp_path


def s3(data: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(
        main, ["s3", args[0], "--data", str(data), *args[1:]], env=env, prog_name="openfront"
    )


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.stderr)
    return result


def test_cp_up_and_down_with_a_progress_bar_ls_and_presign(data: Path) -> None:
    body = os.urandom(9 * MiB + 123)  # over the 8 MiB multipart threshold
    src = data / "clip.mp4"
    src.write_bytes(body)
    up = ok(s3(data, "cp", "--progress", str(src), f"s3://{MEDIA_BUCKET}/cli/"))
    assert f"upload: {src} to s3://{MEDIA_BUCKET}/cli/clip.mp4 ({len(body)} bytes)" in up.stdout
    assert "upload clip.mp4" in up.stderr and "9.4/9.4 MB" in up.stderr
    listing = ok(s3(data, "ls", f"s3://{MEDIA_BUCKET}/cli/")).stdout
    assert f"{len(body):>10} clip.mp4" in listing
    assert "PRE cli/" in ok(s3(data, "ls", f"s3://{MEDIA_BUCKET}")).stdout
    assert MEDIA_BUCKET in ok(s3(data, "ls")).stdout

    (data / "down").mkdir()
    down = ok(s3(data, "cp", "--no-progress", f"s3://{MEDIA_BUCKET}/cli/clip.mp4", f"{data}/down"))
    assert (data / "down" / "clip.mp4").read_bytes() == body
    assert down.stderr == ""

    url = ok(s3(data, "presign", "--expires", "120", f"s3://{MEDIA_BUCKET}/cli/clip.mp4")).stdout
    assert "X-Amz-Expires=120" in url
    got = httpx.get(url.strip())
    assert got.status_code == 200 and got.content == body
    assert got.headers["content-type"] == "video/mp4"


def test_presigned_put_from_the_cli(data: Path) -> None:
    put = ok(
        s3(
            data,
            "presign",
            "--put",
            "--content-type",
            "text/plain",
            f"s3://{MEDIA_BUCKET}/cli/note.txt",
        )
    ).stdout.strip()
    assert httpx.put(put, content=b"hi", headers={"Content-Type": "text/plain"}).status_code == 200
    copied = ok(s3(data, "cp", f"s3://{MEDIA_BUCKET}/cli/note.txt", f"s3://{PLAIN_BUCKET}/n.txt"))
    assert f"to s3://{PLAIN_BUCKET}/n.txt (2 bytes)" in copied.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("cp", f"s3://{MEDIA_BUCKET}/cli/missing.bin", "."), 1, "no such key (NoSuchKey)"),
        (("cp", "s3://no-such-bucket-here/a", "."), 1, "the bucket does not exist (NoSuchBucket)"),
        (("ls", "s3://no-such-bucket-here/"), 1, "the bucket does not exist (NoSuchBucket"),
        (("rb", f"s3://{MEDIA_BUCKET}"), 1, "not empty: delete its objects first (BucketNotEmpty"),
        (("cp", "missing-file.bin", f"s3://{MEDIA_BUCKET}/x"), 2, "missing-file.bin: no such file"),
        (("ls", "s3://Bad_Bucket"), 2, "a bucket name uses lowercase letters"),
        (("ls", "--region", "eu-west-1"), 2, "--region eu-west-1: not in"),
        (("presign", "--expires", "604801", f"s3://{MEDIA_BUCKET}/k"), 2, "604801 is not in"),
        (("cp", "a", "b"), 2, "one of SRC and DST must be an s3:// URL"),
    ],
)
def test_errors_are_one_readable_line(
    data: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    result = s3(data, *args)
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_mb_and_rb(data: Path) -> None:
    assert "make_bucket: cli-made" in ok(s3(data, "mb", "s3://cli-made")).stdout
    assert "cli-made" in ok(s3(data, "ls")).stdout
    assert "remove_bucket: cli-made" in ok(s3(data, "rb", "s3://cli-made")).stdout


def test_no_stack_and_an_endpoint_nobody_listens_on(tmp_path: Path) -> None:
    result = s3(tmp_path, "ls")
    assert result.exit_code == 1
    assert "no storage region is listed in" in result.stderr
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    env = {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"}
    result = s3(tmp_path, "ls", "--endpoint-url", closed, env=env)
    assert result.exit_code == 1
    assert f"cannot connect to {closed}" in result.stderr


def test_endpoint_url_with_credentials_from_the_environment(
    store: WeedStore, tmp_path: Path
) -> None:
    creds = store.region.credentials
    env = {"AWS_ACCESS_KEY_ID": creds.access_key_id, "AWS_SECRET_ACCESS_KEY": "wrong"}
    result = s3(tmp_path, "ls", "--endpoint-url", store.endpoint, env=env)
    assert result.exit_code == 1 and "SignatureDoesNotMatch" in result.stderr
    env["AWS_SECRET_ACCESS_KEY"] = creds.secret_access_key
    assert MEDIA_BUCKET in ok(s3(tmp_path, "ls", "--endpoint-url", store.endpoint, env=env)).stdout
