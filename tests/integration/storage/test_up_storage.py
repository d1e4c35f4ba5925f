"""`openfront up` with its storage regions: a store per region, listed in stack.json with what
replication will need, buckets configured for the edge's origins, a clean stop, no leaked secret."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from tests.integration.test_up import SHUTDOWN, gone, lines_of, port_closed, wait_for_line

from openfront.storage.client import s3_client
from openfront.storage.credentials import S3Credentials, read_credentials_file

REGIONS = {"ap-northeast-2": "Seoul", "sa-east-1": "São Paulo"}
OPERATOR = ("AKIAOPERATORKEY00000", "operator-secret-key-from-the-shell-0000")


@pytest.mark.slow  # ~6 s: two stores, the origin and the edge start and stop
def test_up_runs_a_store_per_region_and_stops_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "openfront", "up", "--data", str(data), "--free-ports"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={
            **os.environ,
            "COLUMNS": "200",
            "AWS_ACCESS_KEY_ID": OPERATOR[0],
            "AWS_SECRET_ACCESS_KEY": OPERATOR[1],
        },
    )
    assert proc.stdout is not None
    seen: list[str] = []
    lines, pump = lines_of(proc.stdout)
    try:
        wait_for_line(lines, "Press Ctrl-C to stop", seen)
        stack_text = (data / "stack.json").read_text()
        services: dict[str, Any] = json.loads(stack_text)["services"]
        assert {"edge", "origin", "s3-ap-northeast-2", "s3-sa-east-1"} <= set(services)
        edge_port = services["edge"]["url"].rpartition(":")[2]
        secrets: list[str] = []
        for region, display in REGIONS.items():
            info = services[f"s3-{region}"]
            assert (info["region"], info["display_name"], info["managed"]) == (
                region,
                display,
                True,
            )
            ports = info["ports"]
            assert len(set(ports.values())) == 10
            assert info["filer_address"] == f"127.0.0.1:{ports['filer']}.{ports['filer_grpc']}"
            assert info["url"] in "".join(seen)
            stored = json.loads((data / "regions" / region / "ports.json").read_text())
            assert stored["base"] == ports["master"]  # reused at the next start

            creds_file = Path(info["credentials_file"])
            assert creds_file == data / "regions" / region / "s3.json"
            assert creds_file.stat().st_mode & 0o777 == 0o600
            creds = read_credentials_file(creds_file)
            secrets += [creds.access_key_id, creds.secret_access_key]
            client = s3_client(info["url"], creds, region)
            bucket = f"mediahub-{region}"
            assert [b["Name"] for b in client.list_buckets()["Buckets"]] == [bucket]
            (rule,) = client.get_bucket_cors(Bucket=bucket)["CORSRules"]
            assert f"http://127.0.0.1:{edge_port}" in rule["AllowedOrigins"]
            # Keys name their region: the buckets replicate, one key per writer (storage.md).
            client.put_object(Bucket=bucket, Key=f"public/{region}.txt", Body=region.encode())
            client.put_object(Bucket=bucket, Key=f"private/{region}.txt", Body=b"no")
            public = httpx.get(f"{info['url']}/{bucket}/public/{region}.txt")
            assert public.status_code == 200 and public.text == region
            assert httpx.get(f"{info['url']}/{bucket}/private/{region}.txt").status_code == 403
        # weed mini would turn the caller's AWS_* variables into a second identity.
        operator = S3Credentials(*OPERATOR)
        with pytest.raises(ClientError) as refused:
            s3_client(services["s3-sa-east-1"]["url"], operator, "sa-east-1").list_buckets()
        assert refused.value.response["Error"]["Code"] == "InvalidAccessKeyId"
        for secret in secrets:
            assert secret not in stack_text
            assert secret not in "".join(seen)
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=SHUTDOWN)
        pump.join(timeout=SHUTDOWN)
        proc.stdout.close()
    assert code == 0, "".join(seen)
    for name, service in services.items():
        assert gone(service["pid"]), name
        assert port_closed(service["url"].replace("https://", "http://")), name
    assert json.loads((data / "stack.json").read_text()) == {"services": {}}
    for path in data.rglob("*"):
        if path.is_file() and path.name != "s3.json" and path.suffix not in (".dat", ".idx"):
            content = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in content, path
