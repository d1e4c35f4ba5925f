"""`openfront storage` refuses bad usage and a stack without replication with one line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from openfront.cli.main import main


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["storage", *args])
    return result.exit_code, result.output


def test_audit_without_a_plan_says_how_to_get_one(tmp_path: Path) -> None:
    code, output = _run("audit", "--data", str(tmp_path))
    assert code == 1
    assert "plan.json does not exist" in output and "openfront up" in output


def test_audit_rejects_bad_options(tmp_path: Path) -> None:
    assert _run("audit", "--data", str(tmp_path), "--grace", "-1")[0] == 2
    assert _run("audit", "--data", str(tmp_path), "--metrics-listen", "127.0.0.1:0")[0] == 2


def test_a_plan_of_another_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / "replication").mkdir()
    (tmp_path / "replication" / "plan.json").write_text('{"version": 99}')
    code, output = _run("audit", "--data", str(tmp_path))
    assert code == 1 and "not a replication plan" in output


def test_fsck_and_events_need_a_managed_store(tmp_path: Path) -> None:
    for command in ("fsck", "events"):
        code, output = _run(command, "--data", str(tmp_path))
        assert code == 1 and "no managed store" in output
