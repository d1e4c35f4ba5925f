"""`openfront api` as a real process, `openfront api keys` and `openfront audit`."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner, Result
from tests.integration.control.helpers import client

from openfront.cli.main import main

STARTUP = 30.0


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="openfront")


@contextmanager
def serving(data: Path, env: dict[str, str] | None = None) -> Iterator[tuple[str, list[str]]]:
    """`openfront api` on a free port; yields its URL and the lines it printed before ready."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "openfront", "api", "--data", str(data), "--listen", "127.0.0.1:0"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )
    assert proc.stderr is not None
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + STARTUP
        while not seen or not seen[-1].startswith("api http://"):
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            if line is None:
                pytest.fail("openfront api exited before it was ready:\n" + "".join(seen))
            seen.append(line)
        yield seen[-1].split()[1], seen
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=STARTUP)
        reader.join(timeout=STARTUP)
        proc.stderr.close()
    assert code == 0, "".join(seen)


def printed_credentials(lines: list[str]) -> dict[str, str]:
    pairs = (line.strip().split("=", 1) for line in lines if "=" in line)
    return {k: v for k, v in pairs if k.startswith("AWS_")}


def test_first_start_prints_root_credentials_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serving(data) as (url, lines):
        creds = printed_credentials(lines)
        cf = client(url, creds["AWS_ACCESS_KEY_ID"], creds["AWS_SECRET_ACCESS_KEY"])
        assert cf.list_distributions()["DistributionList"]["Quantity"] == 0
    assert (data / "control.key").stat().st_mode & 0o777 == 0o600
    stored = (data / "control.db").read_bytes()
    assert creds["AWS_SECRET_ACCESS_KEY"].encode() not in stored  # encrypted at rest
    with serving(data) as (url, lines):
        assert printed_credentials(lines) == {}
        cf = client(url, creds["AWS_ACCESS_KEY_ID"], creds["AWS_SECRET_ACCESS_KEY"])
        assert cf.list_distributions()["DistributionList"]["Quantity"] == 0


def test_keys_and_audit_commands(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {
        "OPENFRONT_ROOT_ACCESS_KEY_ID": "AKOFENVROOT000000001",
        "OPENFRONT_ROOT_SECRET_ACCESS_KEY": "env-root-secret-0123456789",
    }
    created = run("api", "keys", "create", "--data", str(data), "--description", "ci")
    assert created.exit_code == 0, created.output
    new = printed_credentials(created.output.splitlines())
    with serving(data, env) as (url, lines):
        assert printed_credentials(lines) == {}  # keys exist and the root comes from env
        client(url, "AKOFENVROOT000000001", "env-root-secret-0123456789").list_distributions()
        ci = client(url, new["AWS_ACCESS_KEY_ID"], new["AWS_SECRET_ACCESS_KEY"])
        ci.list_distributions()
        listed = run("api", "keys", "list", "--data", str(data))
        assert new["AWS_ACCESS_KEY_ID"] in listed.output and "ci" in listed.output
        assert "AKOFENVROOT000000001  root" in listed.output
        assert new["AWS_SECRET_ACCESS_KEY"] not in listed.output
        deleted = run("api", "keys", "delete", "--data", str(data), new["AWS_ACCESS_KEY_ID"])
        assert deleted.exit_code == 0, deleted.output
        with pytest.raises(ClientError) as exc:
            ci.list_distributions()
        assert exc.value.response["Error"]["Code"] == "InvalidClientTokenId"
    missing = run("api", "keys", "delete", "--data", str(data), "AKOFNOSUCHKEY0000000")
    assert missing.exit_code == 1 and "no access key" in missing.output

    audit = run("audit", "--data", str(data), "--json")
    assert audit.exit_code == 0, audit.output
    records = [json.loads(line) for line in audit.output.splitlines()]
    actions = [(r["action"], r["resource"], r["principal"]) for r in records]
    assert ("CreateAccessKey", new["AWS_ACCESS_KEY_ID"], "local") in actions
    assert ("DeleteAccessKey", new["AWS_ACCESS_KEY_ID"], "local") in actions
    text = run("audit", "--data", str(data), "--action", "DeleteAccessKey")
    assert text.output.count("DeleteAccessKey") == 1
    bad = run("audit", "--data", str(data), "--since", "last week")
    assert bad.exit_code == 2 and "ISO 8601" in bad.output


def test_bad_database_url_is_one_line(tmp_path: Path) -> None:
    result = run("api", "--data", str(tmp_path), "--db", "oracle://x@y/z")
    assert result.exit_code == 2
    assert "use sqlite:///PATH, postgresql://" in result.output
    result = run(
        "api", "keys", "list", "--data", str(tmp_path), "--db", "postgresql://x@127.0.0.1:1/z"
    )
    assert result.exit_code == 1 and "cannot open the database" in result.output
