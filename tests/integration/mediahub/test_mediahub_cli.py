"""`openfront mediahub` as a real process: ready file, serving, clean stop, one-line errors."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from tests.integration.mediahub.conftest import CHEAP_ARGON2, new_user

from openfront.cli.main import main

STARTUP = 60.0


def _lines(stream: object) -> queue.Queue[str | None]:
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in stream:  # type: ignore[attr-defined]
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _wait_for(lines: queue.Queue[str | None], marker: str) -> str:
    deadline, seen = time.monotonic() + STARTUP, []
    while True:
        line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        if line is None:
            pytest.fail("openfront mediahub exited before it was ready:\n" + "".join(seen))
        seen.append(line)
        if marker in line:
            return line


def test_mediahub_serves_until_sigterm(tmp_path: Path) -> None:
    config = tmp_path / "mediahub.json"
    config.write_text(json.dumps({"argon2": CHEAP_ARGON2}))
    ready = tmp_path / "ready.json"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "openfront", "mediahub",
            "--config", str(config),
            "--region", "sa-east-1",
            "--listen", "127.0.0.1:0",
            "--data", str(tmp_path / "data"),
            "--ready-file", str(ready),
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    try:
        line = _wait_for(_lines(proc.stderr), "mediahub sa-east-1 http://127.0.0.1:")
        info = json.loads(ready.read_text())
        assert info["url"] in line and "language en" in line
        assert info == {
            "url": info["url"],
            "region": "sa-east-1",
            "language": "en",
            "pid": proc.pid,
        }
        user = new_user()
        with httpx.Client(base_url=info["url"]) as client:
            assert client.post("/auth/signup", json=user).status_code == 201
            r = client.post(
                "/auth/signin", json={"email": user["email"], "password": user["password"]}
            )
            assert r.status_code == 200
        key = tmp_path / "data" / "mediahub" / "token-key"
        assert key.stat().st_mode & 0o777 == 0o600
        assert key.parent.stat().st_mode & 0o777 == 0o700  # the database lives there too
        assert (tmp_path / "data" / "mediahub" / "mediahub.db").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        proc.stderr.close()
    assert code == 0


def test_a_bad_setting_exits_2_without_showing_the_password(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["mediahub", "--data", str(tmp_path), "--region", "Seoul!"],
        env={"OPENFRONT_MEDIAHUB_DB": "oracle://scott:tiger@db/x"},
    )
    assert result.exit_code == 2
    assert "region: 'Seoul!' is not a region name" in result.stderr
    assert "scheme 'oracle' is not supported" in result.stderr
    assert "tiger" not in result.output + result.stderr


def test_an_unreachable_database_exits_1_without_showing_the_password(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable, "-m", "openfront", "mediahub",
            "--listen", "127.0.0.1:0",
            "--data", str(tmp_path),
            "--db", "postgresql://mh:hunter2@127.0.0.1:1/mediahub",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert result.returncode == 1
    assert "error: database postgresql+psycopg://mh:***@127.0.0.1:1/mediahub:" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(main, ["mediahub", "--help"], prog_name="openfront")
    assert result.exit_code == 0
    for text in ("--region", "--listen", "--data", "--db", "--ready-file", "--config"):
        assert text in result.output
    assert "OPENFRONT_MEDIAHUB_DB" in result.output
    top = CliRunner().invoke(main, ["--help"], prog_name="openfront")
    assert "openfront mediahub" in top.output
