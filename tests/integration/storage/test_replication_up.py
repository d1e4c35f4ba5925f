"""`openfront up` replicates the demo's two media buckets: filer.sync and the auditor are listed in
stack.json, an object put in Seoul shows up in São Paulo, a filer.sync killed with -9 is restarted
and replicates again, the auditor's metrics answer, and `openfront storage audit` reports from
the same plan."""

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
from click.testing import CliRunner
from tests.integration.test_up import SHUTDOWN, gone, lines_of, port_closed, wait_for_line
from tests.support.weed import wait_for

from openfront.cli.main import main
from openfront.storage.client import s3_client
from openfront.storage.credentials import read_credentials_file

SEOUL, SAO_PAULO = "ap-northeast-2", "sa-east-1"
SYNC = f"replication-{SEOUL}-{SAO_PAULO}"


def _client(info: dict[str, Any], region: str) -> Any:
    return s3_client(info["url"], read_credentials_file(Path(info["credentials_file"])), region)


@pytest.mark.slow  # ~8 s: two stores, filer.sync, the auditor, origin and edge
def test_up_replicates_the_media_buckets_and_audits_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "openfront", "up", "--data", str(data), "--free-ports"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    lines, pump = lines_of(proc.stdout)
    try:
        wait_for_line(lines, "Press Ctrl-C to stop", seen)
        services: dict[str, Any] = json.loads((data / "stack.json").read_text())["services"]
        assert {SYNC, "replication-audit"} <= set(services)
        sync = services[SYNC]
        assert (sync["a"], sync["b"]) == (
            {"region": SEOUL, "bucket": f"mediahub-{SEOUL}"},
            {"region": SAO_PAULO, "bucket": f"mediahub-{SAO_PAULO}"},
        )
        assert sync["gomemlimit"] == "256MiB"
        seoul = _client(services[f"s3-{SEOUL}"], SEOUL)
        sao_paulo = _client(services[f"s3-{SAO_PAULO}"], SAO_PAULO)
        seoul.put_object(Bucket=f"mediahub-{SEOUL}", Key="public/hello.txt", Body=b"annyeong")

        def arrived() -> bytes | None:
            try:
                got = sao_paulo.get_object(Bucket=f"mediahub-{SAO_PAULO}", Key="public/hello.txt")
            except sao_paulo.exceptions.NoSuchKey:
                return None
            body: bytes = got["Body"].read()
            return body

        assert wait_for(arrived, "Seoul's object in São Paulo") == b"annyeong"

        # kill -9 filer.sync: the supervisor starts it again, and replication goes on.
        os.kill(sync["pid"], signal.SIGKILL)

        def restarted() -> dict[str, Any] | None:
            now = json.loads((data / "stack.json").read_text())["services"].get(SYNC)
            return now if now and now["pid"] != sync["pid"] else None

        restarted_sync = wait_for(restarted, "filer.sync restarted by the supervisor")
        sao_paulo.put_object(Bucket=f"mediahub-{SAO_PAULO}", Key="public/ola.txt", Body=b"ola")

        def back() -> bool:
            try:
                seoul.head_object(Bucket=f"mediahub-{SEOUL}", Key="public/ola.txt")
            except seoul.exceptions.ClientError:
                return False
            return True

        wait_for(back, "São Paulo's object in Seoul after the restart")
        metrics = httpx.get(services["replication-audit"]["metrics_url"]).text
        assert "openfront_replication_last_audit_timestamp_seconds" in metrics
        result = CliRunner().invoke(main, ["storage", "audit", "--data", str(data), "--json"])
        assert result.exit_code == 0, result.output
        (pair,) = json.loads(result.output)["pairs"]
        assert pair["rule"] == "mediahub" and pair["errors"] == []
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=SHUTDOWN)
        pump.join(timeout=SHUTDOWN)
        proc.stdout.close()
    assert code == 0, "".join(seen)
    services = {**services, SYNC: restarted_sync}
    for name in (SYNC, "replication-audit"):
        assert gone(services[name]["pid"]), name
        assert port_closed(services[name]["url"]), name
