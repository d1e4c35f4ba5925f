"""A managed region as a supervised service: what the supervisor is asked to run and when it
counts as ready."""

from __future__ import annotations

from pathlib import Path

from openfront.config.storage import default_storage
from openfront.storage.credentials import generate_credentials
from openfront.storage.ports import find_free_block, random_search_start
from openfront.storage.region import ManagedRegion
from openfront.storage.service import WEED_STOP_GRACE, region_spec
from openfront.storage.weed import RegionPaths


def region(tmp_path: Path) -> ManagedRegion:
    config = default_storage(["http://localhost:8080"]).regions[1]
    block = find_free_block("127.0.0.1", random_search_start())
    return ManagedRegion(
        config, RegionPaths(tmp_path / "sa-east-1"), block, generate_credentials(), "/opt/weed"
    )


async def test_the_spec_runs_weed_directly_with_a_scrubbed_environment(tmp_path: Path) -> None:
    managed = region(tmp_path)
    env = {"PATH": "/usr/bin", "AWS_SECRET_ACCESS_KEY": "operator"}
    spec = region_spec(managed, tmp_path / "s3.log", env)
    assert spec.name == "s3-sa-east-1"
    assert spec.command == managed.command(env).argv and spec.command[0] == "/opt/weed"
    assert spec.env == {"PATH": "/usr/bin", "GOMEMLIMIT": "512MiB"}
    assert spec.grace == WEED_STOP_GRACE and spec.stop_together
    assert spec.probe is not None
    assert await spec.probe() is None  # nothing listens on the block yet: not ready, no error


def test_the_stack_entry_names_the_credentials_file_not_the_keys(tmp_path: Path) -> None:
    managed = region(tmp_path)
    info = managed.info()
    ports = managed.ports
    assert info["url"] == f"http://127.0.0.1:{ports.s3}" == managed.endpoint
    assert info["filer_address"] == f"127.0.0.1:{ports.filer}.{ports.filer_grpc}"
    assert info["master_address"] == f"127.0.0.1:{ports.master}.{ports.master_grpc}"
    assert info["credentials_file"] == str(tmp_path / "sa-east-1" / "s3.json")
    assert info["buckets"] == ["mediahub-sa-east-1"] and info["display_name"] == "São Paulo"
    text = repr(info)
    assert managed.credentials.secret_access_key not in text
    assert managed.credentials.access_key_id not in text
