"""The weed mini command line: every port explicit, loopback only, state in the region dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from openfront.config.storage import MAX_BASE_PORT
from openfront.storage.weed import (
    NO_CORS_FALLBACK,
    PortBlock,
    RegionPaths,
    gomemlimit,
    weed_command,
    weed_env,
)

MiB = 1 << 20
PORT_FLAGS = {
    "master.port": "master",
    "master.port.grpc": "master_grpc",
    "volume.port": "volume",
    "volume.port.grpc": "volume_grpc",
    "filer.port": "filer",
    "filer.port.grpc": "filer_grpc",
    "s3.port": "s3",
    "s3.port.grpc": "s3_grpc",
    "admin.port": "admin",
    "admin.port.grpc": "admin_grpc",
}


def flags(argv: tuple[str, ...]) -> dict[str, str]:
    """`-name=value` arguments after `mini` (the subcommand's own flags)."""
    out: dict[str, str] = {}
    for arg in argv[argv.index("mini") + 1 :]:
        name, _, value = arg.lstrip("-").partition("=")
        assert name not in out, f"{name} given twice"
        out[name] = value
    return out


def build(root: Path, base: int = 20000, **env: str) -> tuple[tuple[str, ...], dict[str, str]]:
    command = weed_command(
        "/opt/weed", RegionPaths(root), PortBlock(base), memory_limit=256 * MiB, base_env=env
    )
    return command.argv, command.env


def test_every_port_is_explicit_and_distinct(tmp_path: Path) -> None:
    argv, _ = build(tmp_path)
    given = flags(argv)
    block = PortBlock(20000)
    for flag, attr in PORT_FLAGS.items():
        assert given[flag] == str(getattr(block, attr)), flag
    ports = [int(given[f]) for f in PORT_FLAGS]
    assert sorted(ports) == sorted(block.all()) and len(set(ports)) == 10
    # weed's maintenance worker dials admin + 10000 whatever -admin.port.grpc says.
    assert block.admin_grpc == block.admin + 10000
    # Iceberg and Lance would open two more ports; WebDAV a third.
    assert given["s3.port.iceberg"] == given["s3.port.lance"] == "0"
    assert given["webdav"] == "false"


def test_everything_binds_to_loopback_and_stays_in_the_region_dir(tmp_path: Path) -> None:
    argv, _ = build(tmp_path)
    given = flags(argv)
    assert given["ip"] == given["ip.bind"] == "127.0.0.1"
    assert given["dir"] == str(tmp_path / "store")
    assert f"-logdir={tmp_path / 'logs'}" in argv[: argv.index("mini")]
    assert given["filer.localSocket"] == str(tmp_path / "run" / "filer.sock")
    assert given["s3.localSocket"] == str(tmp_path / "run" / "s3.sock")
    assert given["s3.config"] == str(tmp_path / "s3.json")
    assert argv[0] == "/opt/weed"


def test_buckets_without_cors_rules_refuse_every_origin(tmp_path: Path) -> None:
    given = flags(build(tmp_path)[0])
    assert given["s3.allowedOrigins"] == given["filer.allowedOrigins"] == NO_CORS_FALLBACK
    assert NO_CORS_FALLBACK not in ("", "*", "null") and "://" not in NO_CORS_FALLBACK


def test_s3_semantics_for_missing_and_non_empty_buckets(tmp_path: Path) -> None:
    given = flags(build(tmp_path)[0])
    assert given["s3.autoCreateBucket"] == "false"
    assert given["s3.allowDeleteBucketNotEmpty"] == "false"
    assert given["master.telemetry"] == "false" and given["admin.ui"] == "false"


def test_a_socket_path_too_long_for_sun_path_keeps_weeds_default(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 120)
    given = flags(build(deep)[0])
    assert "filer.localSocket" not in given and "s3.localSocket" not in given
    assert given["dir"] == str(deep / "store")


def test_the_environment_is_scrubbed_and_memory_limited(tmp_path: Path) -> None:
    _, env = build(
        tmp_path,
        PATH="/usr/bin",
        HOME="/root",
        AWS_ACCESS_KEY_ID="AKIAOPERATOR",
        AWS_SECRET_ACCESS_KEY="operator-secret",
        AWS_PROFILE="prod",
        S3_BUCKET="surprise",
        WEED_CORS_ALLOWED_ORIGINS_VALUES="*",
        GOMEMLIMIT="8GiB",
    )
    assert env == {"PATH": "/usr/bin", "HOME": "/root", "GOMEMLIMIT": "256MiB"}


@pytest.mark.parametrize(
    ("limit", "text"), [(256 * MiB, "256MiB"), (3 * 1024 * MiB, "3072MiB"), (MiB + 1, "1048577")]
)
def test_gomemlimit_format(limit: int, text: str) -> None:
    assert gomemlimit(limit) == text
    assert weed_env({}, limit) == {"GOMEMLIMIT": text}


def test_the_highest_base_port_fits() -> None:
    assert max(PortBlock(MAX_BASE_PORT).all()) == 65535
