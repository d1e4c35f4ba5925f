"""`openfront mediahub worker`: its refusals, and the server command still works as before."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from openfront.cli.main import main


def test_a_worker_without_a_bucket_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["mediahub", "worker", "--data", str(tmp_path)], prog_name="openfront"
    )
    assert result.exit_code == 2
    assert "a worker needs the region's media bucket: set storage" in result.output


def test_a_worker_with_unreadable_credentials_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "worker.json"
    storage = {
        "endpoint": "http://127.0.0.1:1",
        "bucket": "media",
        "credentials_file": str(tmp_path / "missing.json"),
    }
    config.write_text(json.dumps({"storage": storage, "data_dir": str(tmp_path)}))
    result = CliRunner().invoke(
        main, ["mediahub", "worker", "--config", str(config)], prog_name="openfront"
    )
    assert result.exit_code == 1
    assert "missing.json: no such credentials file" in result.output
    assert "Traceback" not in result.output


def test_bad_settings_exit_2_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "worker.json"
    config.write_text(json.dumps({"processing": {"lease": 0, "preset": "warp"}}))
    result = CliRunner().invoke(
        main, ["mediahub", "worker", "--config", str(config)], prog_name="openfront"
    )
    assert result.exit_code == 2
    assert "processing.lease" in result.output and "processing.preset" in result.output


def test_help_names_the_worker() -> None:
    result = CliRunner().invoke(main, ["mediahub", "--help"], prog_name="openfront")
    assert result.exit_code == 0 and "worker" in result.output and "--listen" in result.output
    result = CliRunner().invoke(main, ["mediahub", "worker", "--help"], prog_name="openfront")
    for option in ("--region", "--data", "--db", "--concurrency", "--ready-file", "--config"):
        assert option in result.output
