"""A region's files: its port block (chosen once, kept), its credentials (generated once, 0600,
never in a repr), and where an external region's credentials come from."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from openfront.config.storage import CredentialsConfig
from openfront.errors import StorageError
from openfront.storage.credentials import (
    ensure_managed_credentials,
    external_credentials,
    read_credentials_file,
    write_private_json,
)
from openfront.storage.ports import (
    find_free_block,
    random_search_start,
    read_stored_block,
    resolve_block,
)
from openfront.storage.weed import PortBlock, RegionPaths

HOST = "127.0.0.1"


def test_a_chosen_block_is_stored_and_reused(tmp_path: Path) -> None:
    paths = RegionPaths(tmp_path)
    first = resolve_block(paths, HOST, configured=None, search_start=random_search_start())
    assert read_stored_block(paths) == first
    assert json.loads(paths.ports_file.read_text())["ports"]["s3"][0] == first.s3
    again = resolve_block(paths, HOST, configured=None, search_start=first.base + 1000)
    assert again == first


def _held_block(tmp_path: Path, holder: socket.socket) -> tuple[RegionPaths, PortBlock]:
    """A stored block whose S3 port ``holder`` listens on.

    Another process (any client's ephemeral port) may take a port between the check and our
    bind; such a block is skipped for a new one rather than failing the test.
    """
    for attempt in range(20):
        paths = RegionPaths(tmp_path / str(attempt))
        block = resolve_block(paths, HOST, configured=None, search_start=random_search_start())
        try:
            holder.bind((HOST, block.s3))
        except OSError:
            continue
        return paths, block
    raise AssertionError("no port block could be held")


def test_a_busy_stored_block_is_an_error_not_a_move(tmp_path: Path) -> None:
    with socket.socket() as holder:
        paths, block = _held_block(tmp_path, holder)
        holder.listen()
        with pytest.raises(StorageError, match=f"ports {block.s3} of the store in .* are in use"):
            resolve_block(paths, HOST, configured=None)
    assert read_stored_block(paths) == block


def test_a_configured_base_port_must_match_the_stored_one(tmp_path: Path) -> None:
    paths = RegionPaths(tmp_path)
    block = resolve_block(paths, HOST, configured=None, search_start=random_search_start())
    with pytest.raises(
        StorageError, match=f"BasePort is {block.base + 20} but .* uses {block.base}"
    ):
        resolve_block(paths, HOST, configured=block.base + 20)
    assert resolve_block(paths, HOST, configured=block.base) == block


def test_the_search_skips_busy_and_taken_blocks() -> None:
    start = random_search_start()
    first = find_free_block(HOST, start)
    second = find_free_block(HOST, start, taken=first.all())
    assert not set(first.all()) & set(second.all())
    with socket.socket() as holder:
        holder.bind((HOST, first.admin_grpc))  # the one port outside BP..BP+8
        assert find_free_block(HOST, first.base) != first


def test_an_unreadable_ports_file_is_reported(tmp_path: Path) -> None:
    paths = RegionPaths(tmp_path)
    paths.ports_file.write_text("{oops")
    with pytest.raises(StorageError, match=r"unreadable .* fix or delete it"):
        resolve_block(paths, HOST, configured=None)
    paths.ports_file.write_text('{"base": 80}')
    with pytest.raises(StorageError, match="no valid 'base' port"):
        read_stored_block(paths)


def test_managed_credentials_are_generated_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "s3.json"
    creds = ensure_managed_credentials(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(creds.access_key_id) == 20 and len(creds.secret_access_key) == 40
    identity = json.loads(path.read_text())["identities"][0]
    assert identity["credentials"] == [
        {"accessKey": creds.access_key_id, "secretKey": creds.secret_access_key}
    ]
    assert {"Admin", "Read", "Write", "List"} <= set(identity["actions"])
    assert ensure_managed_credentials(path) == creds
    assert creds.secret_access_key not in repr(creds) and creds.access_key_id in repr(creds)
    assert [p.name for p in tmp_path.iterdir()] == ["s3.json"]  # no temp file left


def test_loose_permissions_are_tightened(tmp_path: Path) -> None:
    path = tmp_path / "s3.json"
    creds = ensure_managed_credentials(path)
    os.chmod(path, 0o644)
    assert ensure_managed_credentials(path) == creds
    assert path.stat().st_mode & 0o777 == 0o600


def test_both_credentials_file_shapes_are_read(tmp_path: Path) -> None:
    plain = tmp_path / "plain.json"
    write_private_json(plain, {"AccessKeyId": "AKID", "SecretAccessKey": "s3cr3t"})
    assert read_credentials_file(plain).access_key_id == "AKID"
    weird = tmp_path / "weird.json"
    weird.write_text('{"identities": []}')
    with pytest.raises(StorageError, match="expected"):
        read_credentials_file(weird)
    with pytest.raises(StorageError, match="no such credentials file"):
        read_credentials_file(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"AccessKeyId": "AKID", "SecretAccessKey": "half')
    with pytest.raises(StorageError) as info:
        read_credentials_file(broken)
    assert "half" not in str(info.value)


def test_external_credentials_from_named_variables() -> None:
    cfg = CredentialsConfig.model_validate(
        {"AccessKeyIdEnv": "MINIO_KEY", "SecretAccessKeyEnv": "MINIO_SECRET"}
    )
    creds = external_credentials(cfg, {"MINIO_KEY": "minio", "MINIO_SECRET": "hunter22"})
    assert (creds.access_key_id, creds.secret_access_key) == ("minio", "hunter22")
    with pytest.raises(StorageError, match=r"set \$MINIO_SECRET$"):
        external_credentials(cfg, {"MINIO_KEY": "minio"})


def test_external_credentials_from_a_file_ignore_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    write_private_json(path, {"AccessKeyId": "FROMFILE", "SecretAccessKey": "x"})
    cfg = CredentialsConfig.model_validate({"File": str(path)})
    creds = external_credentials(cfg, {"AWS_ACCESS_KEY_ID": "FROMENV"})
    assert creds.access_key_id == "FROMFILE"


def test_port_block_layout() -> None:
    block = PortBlock(20000)
    assert block.all() == (*range(20000, 20009), 30008)


def test_stale_weed_sockets_of_the_block_are_removed(tmp_path: Path) -> None:
    from openfront.storage.region import remove_stale_sockets

    block = PortBlock(20000)
    stale = tmp_path / f"seaweedfs-filer-grpc-{block.filer_grpc}.sock"
    other = tmp_path / "seaweedfs-filer-grpc-40000.sock"
    for path in (stale, other):
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(path))
    not_a_socket = tmp_path / f"seaweedfs-master-grpc-{block.master_grpc}.sock"
    not_a_socket.write_text("a file someone made")
    assert remove_stale_sockets(block, tmp_path) == [stale]
    assert not stale.exists() and other.exists() and not_a_socket.exists()
