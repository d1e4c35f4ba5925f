"""Two S3 implementations behind one small shape, so edge S3-origin tests run against both:
a real SeaweedFS `weed mini` and a moto server (a separate process, with IAM auth on, so a
request without a valid signature is refused as by a private bucket)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.weed import WeedStore, start_store

READY_DEADLINE = 30.0
KINDS = ("weed", "moto")


@dataclass
class S3Store:
    kind: str
    region: str
    bucket: str
    endpoint: str
    access_key_id: str
    secret_access_key: str
    credentials_file: Path
    region_dir: Path | None = None  # a managed region's folder (weed only)
    _weed: WeedStore | None = None
    _process: subprocess.Popen[bytes] | None = None

    @property
    def domain(self) -> str:
        return f"{self.bucket}.s3.{self.region}.amazonaws.com"

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def edge_entry(self) -> dict[str, Any]:
        """This store's edge.s3_origins entry."""
        entry: dict[str, Any] = {"domain_name": self.domain, "endpoint": self.endpoint}
        if self.region_dir is not None:
            entry["region_dir"] = str(self.region_dir)
        else:
            entry["credentials_file"] = str(self.credentials_file)
        return entry

    def stop(self) -> None:
        if self._weed is not None:
            self._weed.stop()
        elif self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()


def start_s3(kind: str, root: Path, region: str, bucket: str) -> S3Store:
    root.mkdir(parents=True, exist_ok=True)
    store = _start_weed(root, region, bucket) if kind == "weed" else _start_moto(root, region)
    if kind == "moto":
        store.bucket = bucket
        store.client().create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
        )
    return store


def _start_weed(root: Path, region: str, bucket: str) -> S3Store:
    from tests.support.weed import region_config

    cfg = region_config(
        {"Name": region, "Store": {"MemoryLimit": "256MiB"}, "Buckets": [{"Name": bucket}]}
    )
    weed = start_store(root, cfg)
    creds = weed.region.credentials
    return S3Store(
        "weed",
        region,
        bucket,
        weed.endpoint,
        creds.access_key_id,
        creds.secret_access_key,
        weed.region.paths.s3_config,
        region_dir=weed.region.paths.root,
        _weed=weed,
    )


# IAM calls made before auth starts: create the user, give it s3:*, make its key.
_BOOTSTRAP_ACTIONS = 3


def _start_moto(root: Path, region: str) -> S3Store:
    import boto3

    log = root / "moto.log"
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(_BOOTSTRAP_ACTIONS)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p0"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    endpoint = _wait_for_url(process, log)
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bootstrap",
        aws_secret_access_key="bootstrap",
    )
    iam.create_user(UserName="edge")
    iam.put_user_policy(
        UserName="edge",
        PolicyName="s3",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName="edge")["AccessKey"]
    creds_file = root / "creds.json"
    creds_file.write_text(
        json.dumps({"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]})
    )
    creds_file.chmod(0o600)
    return S3Store(
        "moto",
        region,
        "",
        endpoint,
        key["AccessKeyId"],
        key["SecretAccessKey"],
        creds_file,
        _process=process,
    )


_URL = re.compile(rb"Running on (http://127\.0\.0\.1:\d+)")


def _wait_for_url(process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + READY_DEADLINE
    while time.monotonic() < deadline:
        m = _URL.search(log.read_bytes())
        if m:
            return m.group(1).decode()
        try:
            code = process.wait(timeout=0.05)  # the poll interval, cut short by an exit
        except subprocess.TimeoutExpired:
            continue
        raise RuntimeError(f"moto exited ({code}): {log.read_text()[-2000:]}")
    os.killpg(process.pid, signal.SIGKILL)
    raise TimeoutError(f"moto server not ready: {log.read_text()[-2000:]}")
