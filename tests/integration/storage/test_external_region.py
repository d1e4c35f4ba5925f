"""An external region on a second S3 implementation (moto's server): buckets, CORS and the
public-read policy are applied the same way, credentials come from named variables, and an
unreachable store is left out of the run with a warning."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from openfront.config.storage import StorageConfig
from openfront.storage.stack_regions import StackRegions

ENV = {"MOTO_KEY": "AKIAEXTERNAL", "MOTO_SECRET": "external-secret-value"}


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def external(endpoint: str) -> StorageConfig:
    return StorageConfig.model_validate(
        {
            "Regions": [
                {
                    "Name": "sa-east-1",
                    "DisplayName": "São Paulo",
                    "Managed": False,
                    "Endpoint": endpoint,
                    "Credentials": {
                        "AccessKeyIdEnv": "MOTO_KEY",
                        "SecretAccessKeyEnv": "MOTO_SECRET",
                    },
                    "Buckets": [
                        {
                            "Name": "media-sp",
                            "CORSRules": [
                                {
                                    "AllowedOrigins": ["https://app.example.com"],
                                    "AllowedMethods": ["GET", "PUT"],
                                    "ExposeHeaders": ["ETag"],
                                }
                            ],
                            "PublicReadPrefixes": ["public/"],
                        }
                    ],
                }
            ]
        }
    )


def test_an_external_store_is_configured_like_a_managed_one(
    moto_endpoint: str, tmp_path: Path
) -> None:
    regions = StackRegions(external(moto_endpoint), tmp_path / "regions")
    regions.prepare(ENV, free_ports=True)
    assert regions.managed == [] and not (tmp_path / "regions").exists()
    warnings: list[str] = []
    (region,) = regions.configure_external(warnings.append)
    assert warnings == ["s3-sa-east-1: media-sp: created"]

    assert region.provision() == []  # a second start changes nothing
    info = region.info()
    assert info["managed"] is False and "pid" not in info
    assert info["credentials_env"] == ["MOTO_KEY", "MOTO_SECRET"]
    assert ENV["MOTO_SECRET"] not in json.dumps(info)

    from openfront.storage.client import s3_client

    s3 = s3_client(moto_endpoint, region.credentials, "sa-east-1")
    (rule,) = s3.get_bucket_cors(Bucket="media-sp")["CORSRules"]
    assert rule["AllowedOrigins"] == ["https://app.example.com"]
    policy = json.loads(s3.get_bucket_policy(Bucket="media-sp")["Policy"])
    assert policy["Statement"][0]["Resource"] == ["arn:aws:s3:::media-sp/public/*"]
    location = s3.get_bucket_location(Bucket="media-sp")["LocationConstraint"]
    assert location == "sa-east-1"


def test_an_unreachable_external_store_is_left_out_with_a_warning(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    regions = StackRegions(external(closed), tmp_path / "regions")
    regions.prepare(ENV, free_ports=True)
    warnings: list[str] = []
    assert regions.configure_external(warnings.append) == []
    (warning,) = warnings
    assert warning.startswith(f"s3-sa-east-1: cannot connect to {closed}")
    assert warning.endswith("left out of this run")


def test_missing_credential_variables_are_named(tmp_path: Path) -> None:
    from openfront.errors import StorageError

    regions = StackRegions(external("http://127.0.0.1:9"), tmp_path / "regions")
    with pytest.raises(StorageError, match=r"s3-sa-east-1: credentials: set \$MOTO_SECRET"):
        regions.prepare({"MOTO_KEY": "x"}, free_ports=True)
