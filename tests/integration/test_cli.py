"""The `openfront` CLI: help for every command, config errors, flags onto settings, invalidate."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from openfront.cli.edge_cmd import build_config
from openfront.cli.main import main

GOOD_CONFIG = """\
edge:
  listen: 127.0.0.1:8080
distributions:
  - Id: ETEST
    DistributionConfig:
      Origins:
        - Id: app
          DomainName: 127.0.0.1
          CustomOriginConfig: {HTTPPort: 8000}
      DefaultCacheBehavior:
        TargetOriginId: app
"""


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, prog_name="openfront")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], ["openfront up", "openfront edge", "openfront invalidate", "Commands:"]),
        (["up"], ["--data", "--host", "--free-ports", "stack.json", "Ctrl-C"]),
        (
            ["edge"],
            [
                "--config",
                "--origin",
                "--listen",
                "--workers",
                "--admin",
                "--disk",
                "--log-dir",
                "--ready-file",
                "edge.admin.listen",
                "varnishd",
            ],
        ),
        (
            ["invalidate"],
            [
                "--admin",
                "--token",
                "--token-file",
                "--distribution",
                "OPENFRONT_ADMIN_TOKEN",
                "'/static/*'",
            ],
        ),
        (["origin"], ["--root", "--listen", "--ready-file", "/_echo", "/_slow", "/_status/NNN"]),
    ],
)
def test_help_explains_every_command(args: list[str], expected: list[str]) -> None:
    result = run(*args, "--help")
    assert result.exit_code == 0, result.output
    for text in expected:
        assert text in result.output


def test_version() -> None:
    from openfront import __version__

    result = run("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_unknown_command_is_a_usage_error() -> None:
    result = run("frobnicate")
    assert result.exit_code == 2 and "No such command" in result.output


@pytest.mark.parametrize(
    "args", [[], ["--config", "x.yaml", "--origin", "http://127.0.0.1:1"]], ids=["none", "both"]
)
def test_edge_needs_exactly_one_source(args: list[str]) -> None:
    result = run("edge", *args)
    assert result.exit_code == 2
    assert "give --config FILE or --origin URL" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            GOOD_CONFIG.replace(
                "DomainName: 127.0.0.1", "DomainName: 127.0.0.1\n          Protocol: http"
            ),
            "distributions[0].DistributionConfig.Origins[0].Protocol: unknown key",
        ),
        (
            GOOD_CONFIG.replace("TargetOriginId: app", "TargetOriginId: nope"),
            "DefaultCacheBehavior.TargetOriginId: no origin or origin group with Id 'nope'",
        ),
        ("edge: {workers: 0}\n", "edge.workers"),
        ("edge: [\n", "line"),
    ],
)
def test_config_errors_name_the_key_and_exit_2(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "edge.yaml"
    path.write_text(content)
    result = run("edge", "--config", str(path))
    assert result.exit_code == 2
    assert message in result.stderr
    assert "error:" in result.stderr and "Traceback" not in result.output


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    result = run("edge", "--config", str(tmp_path / "absent.yaml"))
    assert result.exit_code == 2 and "cannot read" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--origin", "ftp://x"], "--origin"),
        (["--origin", "http://127.0.0.1:8000", "--listen", "nonsense"], "listen"),
        (["--origin", "http://127.0.0.1:8000", "--admin", "127.0.0.1:99999"], "edge: admin.listen"),
    ],
)
def test_bad_quick_mode_values_exit_2(args: list[str], message: str) -> None:
    result = run("edge", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_flag_over_a_config_value_names_it(tmp_path: Path) -> None:
    path = tmp_path / "edge.yaml"
    path.write_text(GOOD_CONFIG)
    result = run("edge", "--config", str(path), "--listen", "no-port")
    assert result.exit_code == 2
    assert "command line: edge: listen" in result.stderr


def test_flags_map_onto_edge_settings(tmp_path: Path) -> None:
    path = tmp_path / "edge.yaml"
    path.write_text(GOOD_CONFIG)
    flags: dict[str, object] = {
        "listen": "127.0.0.1:1234",
        "workers": 3,
        "admin": "127.0.0.1:9999",
        "disk": tmp_path / "cache",
        "log_dir": tmp_path / "logs",
    }
    cfg = build_config(path, None, flags)
    assert cfg.edge.listen == "127.0.0.1:1234"
    assert cfg.edge.workers == 3
    assert cfg.edge.admin.listen == "127.0.0.1:9999"
    assert cfg.edge.cache.disk_path == tmp_path / "cache"
    assert cfg.edge.logs.path == tmp_path / "logs"
    assert cfg.distributions[0].id == "ETEST"


def test_unset_flags_keep_the_file_and_model_values(tmp_path: Path) -> None:
    from openfront.config import EdgeConfig, load_config

    path = tmp_path / "edge.yaml"
    path.write_text(GOOD_CONFIG)
    cfg = build_config(path, None, {"workers": None, "listen": None})
    assert cfg == load_config(path)
    quick = build_config(None, "http://127.0.0.1:8000", {})
    assert quick.edge.listen == EdgeConfig().listen


def test_origin_with_a_missing_root_exits_2(tmp_path: Path) -> None:
    result = run("origin", "--root", str(tmp_path / "nope"))
    assert result.exit_code == 2 and "does not exist" in result.output


# --- invalidate -------------------------------------------------------------------------------


class AdminStub:
    """A stand-in admin endpoint: records requests, answers with a chosen status and body."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.answer: object = {"Status": "Completed", "Removed": 2}
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                stub.requests.append(
                    {
                        "path": self.path,
                        "auth": self.headers.get("Authorization"),
                        "type": self.headers.get("Content-Type"),
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                body = json.dumps(stub.answer).encode()
                self.send_response(stub.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def admin() -> Iterator[AdminStub]:
    stub = AdminStub()
    thread = threading.Thread(target=stub.server.serve_forever)
    thread.start()
    yield stub
    stub.server.shutdown()
    thread.join()
    stub.server.server_close()


def test_invalidate_posts_paths_with_the_token(admin: AdminStub) -> None:
    result = run(
        "invalidate", "--admin", admin.url, "--token", "t0k", "--distribution", "E1", "/a", "/b/*"
    )
    assert result.exit_code == 0, result.output
    assert admin.requests == [
        {
            "path": "/invalidate",
            "auth": "Bearer t0k",
            "type": "application/json",
            "body": {"DistributionId": "E1", "Paths": ["/a", "/b/*"]},
        }
    ]
    assert "Completed" in result.stdout


def test_invalidate_token_from_env_or_file(admin: AdminStub, tmp_path: Path) -> None:
    result = run("invalidate", "--admin", admin.url, "/x", env={"OPENFRONT_ADMIN_TOKEN": "envtok"})
    assert result.exit_code == 0, result.output
    token_file = tmp_path / "admin-token"
    token_file.write_text("filetok\n")
    result = run("invalidate", "--admin", admin.url + "/", "--token-file", str(token_file), "/y")
    assert result.exit_code == 0, result.output
    assert [r["auth"] for r in admin.requests] == ["Bearer envtok", "Bearer filetok"]
    assert admin.requests[0]["body"] == {"Paths": ["/x"]}


def test_invalidate_http_error_is_readable(admin: AdminStub) -> None:
    admin.status, admin.answer = 401, {"error": "missing Authorization: Bearer <token>"}
    result = run("invalidate", "--admin", admin.url, "--token", "bad", "/x")
    assert result.exit_code == 1
    assert "answered 401 Unauthorized: missing Authorization" in result.stderr
    assert "Traceback" not in result.output


def test_invalidate_shows_a_nested_error_message(admin: AdminStub) -> None:
    admin.status, admin.answer = 400, {"Error": {"Code": "BatchTooLarge", "Message": "too many"}}
    result = run("invalidate", "--admin", admin.url, "--token", "t", "/x")
    assert result.exit_code == 1
    assert "answered 400 Bad Request: too many" in result.stderr


def test_invalidate_unreachable_admin_exits_1(admin: AdminStub) -> None:
    url = admin.url
    admin.server.shutdown()
    admin.server.server_close()
    result = run("invalidate", "--admin", url, "--token", "t", "/x")
    assert result.exit_code == 1
    assert "cannot reach the admin endpoint" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--admin", "http://127.0.0.1:1", "/x"], "an admin token is needed"),
        (["--admin", "127.0.0.1:9090", "--token", "t", "/x"], "expected an http:// URL"),
        (["--admin", "http://127.0.0.1:1", "--token", "t"], "Missing argument"),
    ],
)
def test_invalidate_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = run("invalidate", *args, env={"OPENFRONT_ADMIN_TOKEN": ""})
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize("path", ["/a*b", "no-slash"])
def test_invalidate_refuses_bad_paths_before_sending(path: str) -> None:
    # Port 1 is never an admin endpoint: a send would fail with exit 1, not 2.
    result = run("invalidate", "--admin", "http://127.0.0.1:1", "--token", "t", path)
    assert result.exit_code == 2
    assert path in result.output
