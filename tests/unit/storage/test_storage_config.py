"""Storage config: regions, buckets by S3's naming rules, CORS rules, the demo's defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from openfront.config.storage import (
    StorageConfig,
    bucket_name_problem,
    default_storage,
    load_storage,
    parse_storage,
)
from openfront.errors import ConfigError

APP = ["http://localhost:8080", "http://127.0.0.1:8080"]


def region(**over: Any) -> dict[str, Any]:
    return {"Name": "ap-northeast-2", "DisplayName": "Seoul", **over}


def problems(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        parse_storage(data, "storage.yaml")
    return str(info.value)


def test_the_demo_has_seoul_and_sao_paulo_each_with_its_media_bucket() -> None:
    cfg = default_storage(APP)
    assert [(r.name, r.display_name, r.managed) for r in cfg.regions] == [
        ("ap-northeast-2", "Seoul", True),
        ("sa-east-1", "São Paulo", True),
    ]
    for r in cfg.regions:
        (bucket,) = r.buckets
        assert bucket.name == f"mediahub-{r.name}"
        assert bucket.public_read_prefixes == ("public/",)
        (rule,) = bucket.cors_rules
        assert rule.to_s3() == {
            "AllowedOrigins": APP,
            "AllowedMethods": ["GET", "HEAD", "PUT", "POST"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 3600,
        }
        assert r.store.base_port is None and r.store.memory_limit == 512 << 20


def test_no_app_origins_means_no_cors_rule() -> None:
    assert all(not r.buckets[0].cors_rules for r in default_storage([]).regions)


@pytest.mark.parametrize(
    "name",
    ["abc", "my-bucket", "my.bucket.v2", "a" * 63, "0media", "mediahub-sa-east-1"],
)
def test_valid_bucket_names(name: str) -> None:
    assert bucket_name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("ab", "3 to 63"),
        ("a" * 64, "3 to 63"),
        ("My-Bucket", "lowercase"),
        ("bucket_1", "lowercase"),
        ("-bucket", "starts and ends"),
        ("bucket-", "starts and ends"),
        ("my..bucket", "'..'"),
        ("my.-bucket", "'..'"),
        ("192.168.5.4", "IP address"),
        ("xn--bucket", "'xn--'"),
        ("sthree-data", "'sthree-'"),
        ("data-s3alias", "'-s3alias'"),
        ("data--ol-s3", "'--ol-s3'"),
    ],
)
def test_invalid_bucket_names(name: str, why: str) -> None:
    problem = bucket_name_problem(name)
    assert problem is not None and why in problem


def test_errors_name_the_key_path() -> None:
    text = problems(
        {
            "Regions": [
                region(
                    Buckets=[
                        {"Name": "Bad_Name"},
                        {
                            "Name": "good-one",
                            "CORSRules": [
                                {"AllowedOrigins": ["*.*"], "AllowedMethods": ["PATCH"]},
                                {"AllowedOrigins": [], "AllowedMethods": ["GET"]},
                                {
                                    "AllowedOrigins": ["https://a"],
                                    "AllowedMethods": ["GET"],
                                    "MaxAgeSeconds": -1,
                                },
                            ],
                        },
                    ]
                )
            ]
        }
    )
    assert "storage.yaml: Regions[0].Buckets[0].Name: 'Bad_Name': a bucket name uses" in text
    assert "Regions[0].Buckets[1].CORSRules[0].AllowedMethods[0]:" in text
    assert "Regions[0].Buckets[1].CORSRules[1].AllowedOrigins:" in text
    assert "Regions[0].Buckets[1].CORSRules[2].MaxAgeSeconds:" in text


def test_cors_wildcards_and_prefix_shapes() -> None:
    cors = [{"AllowedOrigins": ["https://*.*.a"], "AllowedMethods": ["GET"]}]
    text = problems({"Regions": [region(Buckets=[{"Name": "good-one", "CORSRules": cors}])]})
    assert "CORSRules[0].AllowedOrigins[0]: 'https://*.*.a': at most one '*'" in text
    prefixes = ["", "/abs", "a*"]
    text = problems(
        {"Regions": [region(Buckets=[{"Name": "x1y", "PublicReadPrefixes": prefixes}])]}
    )
    assert "Buckets[0].PublicReadPrefixes[0]: empty: give a prefix such as 'public/'" in text
    assert "PublicReadPrefixes[1]: '/abs'" in text and "PublicReadPrefixes[2]: 'a*'" in text


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({"Name": "seoul"}, "Regions[0].Name: 'seoul' is not a region code"),
        ({"Endpoint": "http://x:9000"}, "Regions[0].Endpoint: a managed region has no Endpoint"),
        ({"Managed": False}, "Regions[0].Endpoint: an external region (Managed: false) needs one"),
        (
            {"Managed": False, "Endpoint": "ftp://x"},
            "Regions[0].Endpoint: 'ftp://x' is not an http:// or https:// URL",
        ),
        (
            {"Managed": False, "Endpoint": "http://x:9000/bucket"},
            "give only scheme, host and port",
        ),
        ({"Store": {"BasePort": 80}}, "Regions[0].Store.BasePort:"),
        ({"Store": {"BasePort": 60000}}, "Regions[0].Store.BasePort:"),
        ({"Store": {"MemoryLimit": "32MiB"}}, "Regions[0].Store.MemoryLimit: at least 64 MiB"),
        ({"Credentials": {"AccessKeyIdEnv": "1BAD"}}, "Credentials.AccessKeyIdEnv: '1BAD'"),
        ({"Bukets": []}, "Regions[0].Bukets:"),
    ],
)
def test_region_problems(over: dict[str, Any], expected: str) -> None:
    assert expected in problems({"Regions": [region(**over)]})


def test_names_are_unique_within_a_region_and_across_regions() -> None:
    twice = region(Buckets=[{"Name": "shared"}, {"Name": "shared"}])
    text = problems({"Regions": [twice]})
    assert "Regions[0].Buckets[1].Name: bucket 'shared' is listed twice" in text
    seoul = region(Buckets=[{"Name": "shared"}])
    sao_paulo = region(Name="sa-east-1", Buckets=[{"Name": "shared"}])
    text = problems({"Regions": [seoul, sao_paulo, region(Name="sa-east-1")]})
    assert "Regions[1].Buckets[0].Name: 'shared' is already a bucket of ap-northeast-2" in text
    assert "Regions[2].Name: region 'sa-east-1' is listed twice" in text


def test_an_external_region_with_a_credentials_file(tmp_path: Path) -> None:
    path = tmp_path / "storage.yaml"
    path.write_text(
        "Regions:\n"
        "  - Name: sa-east-1\n"
        "    DisplayName: São Paulo\n"
        "    Managed: false\n"
        "    Endpoint: http://minio.internal:9000\n"
        "    SigningRegion: us-east-1\n"
        "    Credentials: {File: /etc/openfront/minio.json}\n"
        "    Buckets:\n"
        "      - Name: media-sp\n"
        "        CORSRules:\n"
        "          Quantity: 1\n"
        "          Items: [{AllowedOrigins: ['https://app.example.com'], AllowedMethods: [GET]}]\n",
        encoding="utf-8",
    )
    cfg = load_storage(path)
    (r,) = cfg.regions
    assert (r.managed, r.endpoint, r.signing_region) == (
        False,
        "http://minio.internal:9000",
        "us-east-1",
    )
    assert r.credentials.file == Path("/etc/openfront/minio.json")
    assert r.buckets[0].cors_rules[0].allowed_origins == ("https://app.example.com",)
    assert cfg.region("sa-east-1") is r and r.label == "sa-east-1 (São Paulo)"


def test_loading_refuses_unknown_suffixes_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"use a \.yaml"):
        load_storage(tmp_path / "storage.txt")
    bad = tmp_path / "storage.yaml"
    bad.write_text("Regions: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"storage\.yaml: line"):
        load_storage(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_storage(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        parse_storage(["Regions"], "x")


def test_an_empty_config_has_no_regions() -> None:
    assert StorageConfig.model_validate({}).regions == ()
