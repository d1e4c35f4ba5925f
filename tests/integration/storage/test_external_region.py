"""An external region on a second S3 implementation (moto's server): buckets, CORS and the
public-read policy are applied the same way, credentials come from named variables, and an
unreachable store is left out of the run with a warning."""

from __future__ import annotations

import json
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from moto.server import ThreadedMotoServer
from tests.integration.mediahub.processing_helpers import upload
from tests.integration.mediahub.uploads_helpers import sign_in

from openfront.config import parse_config
from openfront.config.mediahub import mediahub_config
from openfront.config.storage import StorageConfig
from openfront.mediahub.server import RunningMediaHub
from openfront.stack import mediahub_stack
from openfront.stack.demo_secure import ensure_secrets
from openfront.storage.client import s3_client
from openfront.storage.credentials import read_credentials_file
from openfront.storage.stack_regions import StackRegions, region_names

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


def test_region_names_include_external_regions(moto_endpoint: str, tmp_path: Path) -> None:
    path = tmp_path / "storage.json"
    path.write_text(json.dumps(external(moto_endpoint).model_dump(by_alias=True, mode="json")))
    assert region_names(path) == ["sa-east-1"]


async def test_an_external_region_gets_a_mediahub_that_uploads_to_it(
    moto_endpoint: str, tmp_path: Path
) -> None:
    """Keys from environment variables are written to a private file the MediaHub and its
    media edge read; the generated settings load, and the MediaHub presigns uploads to the
    external store that land in its bucket."""
    regions = StackRegions(external(moto_endpoint), tmp_path / "regions")
    regions.prepare(ENV, free_ports=True)
    reached = regions.configure_external(lambda _: None)
    assert regions.media_regions() == []  # without reached externals: managed ones only
    (media,) = regions.media_regions(reached)
    assert (media.name, media.endpoint, media.bucket) == ("sa-east-1", moto_endpoint, "media-sp")
    assert media.credentials_file == tmp_path / "regions" / "sa-east-1" / "credentials.json"
    assert stat.S_IMODE(os.stat(media.credentials_file).st_mode) == 0o600
    creds = read_credentials_file(media.credentials_file)
    assert (creds.access_key_id, creds.secret_access_key) == (ENV["MOTO_KEY"], ENV["MOTO_SECRET"])

    written: dict[Path, str] = {}
    plan = mediahub_stack.prepare(
        [media],
        mediahub_stack.usual_ports(["sa-east-1"]),
        host="127.0.0.1",
        data_dir=tmp_path / "data",
        token="admin-token",
        secrets=ensure_secrets(tmp_path / "data"),
        database_url=None,
        write=written.__setitem__,
    )
    assert not any(ENV["MOTO_SECRET"] in text for text in written.values())
    parse_config(yaml.safe_load(written[plan.edge_configs["sa-east-1"]]), "media edge")
    document = yaml.safe_load(written[plan.hub_configs["sa-east-1"]])
    document["listen"] = "127.0.0.1:0"
    document["processing"] = {"worker": False}
    hub = RunningMediaHub(mediahub_config(document, "mediahub"))
    await hub.start()
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            auth = await sign_in(client, hub)
            body = b"\x00\x00\x00\x18ftypmp42" + bytes(1000)
            video = await upload(client, hub.url, auth, body, "praia.mp4")  # PUT to moto
            assert video["status"] == "queued"
    finally:
        await hub.close()
    s3 = s3_client(moto_endpoint, creds, "sa-east-1")
    head = s3.head_object(Bucket="media-sp", Key=video["key"])
    assert head["ContentLength"] == len(body)
