"""S3 origins and Origin Access Control in the config: validation, references, compiled values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from openfront.cache.policy import S3Access
from openfront.config import compile_all, parse_config
from openfront.config.oac import parse_s3_domain
from openfront.edge.s3sign import load_s3_credentials
from openfront.errors import ConfigError

DOMAIN = "media.s3.ap-northeast-2.amazonaws.com"


def _cfg(origin: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    o = {"Id": "s3", "DomainName": DOMAIN, "S3OriginConfig": {}, "OriginAccessControlId": "E1"}
    o.update(origin or {})
    return {
        "OriginAccessControls": [{"Id": "E1", "OriginAccessControlConfig": {"Name": "m"}}],
        "distributions": [
            {
                "DistributionConfig": {
                    "Origins": [o],
                    "DefaultCacheBehavior": {"TargetOriginId": "s3"},
                }
            }
        ],
        **top,
    }


@pytest.mark.parametrize(
    ("domain", "parsed"),
    [
        ("media.s3.ap-northeast-2.amazonaws.com", ("media", "ap-northeast-2")),
        ("my.bucket.s3-sa-east-1.amazonaws.com", ("my.bucket", "sa-east-1")),
        ("logs.s3.amazonaws.com", ("logs", "us-east-1")),
        ("cnbucket.s3.cn-north-1.amazonaws.com.cn", ("cnbucket", "cn-north-1")),
        ("media.s3-website-us-east-1.amazonaws.com", None),
        ("example.com", None),
    ],
)
def test_s3_domain_names(domain: str, parsed: tuple[str, str] | None) -> None:
    assert parse_s3_domain(domain) == parsed


def test_aws_bucket_compiles_to_https_virtual_hosted() -> None:
    origin = compile_all(parse_config(_cfg(), "t"))[0].origins["s3"]
    assert (origin.domain, origin.port, origin.protocol, origin.path) == (
        DOMAIN,
        443,
        "https-only",
        "",
    )
    assert origin.s3 == S3Access("media", "ap-northeast-2", "always", DOMAIN)


def test_endpoint_makes_it_path_style() -> None:
    edge = {
        "s3_origins": [
            {
                "domain_name": DOMAIN,
                "endpoint": "http://127.0.0.1:8333",
                "signing_region": "us-east-1",
            }
        ]
    }
    cfg = _cfg({"OriginPath": "/public"}, edge=edge)
    origin = compile_all(parse_config(cfg, "t"))[0].origins["s3"]
    assert (origin.domain, origin.port, origin.protocol) == ("127.0.0.1", 8333, "http-only")
    assert origin.path == "/media/public"
    assert origin.s3 is not None and origin.s3.region == "us-east-1"


def test_no_oac_means_unsigned() -> None:
    cfg = _cfg({"OriginAccessControlId": ""})
    origin = compile_all(parse_config(cfg, "t"))[0].origins["s3"]
    assert origin.s3 is not None and origin.s3.signing == "never"


@pytest.mark.parametrize(
    ("origin", "message"),
    [
        ({"OriginAccessControlId": "E9"}, "OriginAccessControlId: NoSuchOriginAccessControl"),
        ({"DomainName": "bucket.example.com"}, "DomainName: an S3 origin's DomainName is"),
        ({"CustomOriginConfig": {}}, "S3OriginConfig: give S3OriginConfig or CustomOriginConfig"),
        (
            {"S3OriginConfig": {"OriginAccessIdentity": "origin-access-identity/cloudfront/E1"}},
            "OriginAccessIdentity: an origin uses Origin Access Control or",
        ),
    ],
)
def test_refused(origin: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(_cfg(origin), "t")


def test_oac_on_a_custom_origin_is_refused() -> None:
    cfg = _cfg({"DomainName": "app.example.com", "S3OriginConfig": None, "CustomOriginConfig": {}})
    del cfg["distributions"][0]["DistributionConfig"]["Origins"][0]["S3OriginConfig"]
    with pytest.raises(ConfigError, match="signs S3 origins only"):
        parse_config(cfg, "t")


@pytest.mark.parametrize(
    ("oac", "message"),
    [
        ({"SigningProtocol": "sigv2"}, "SigningProtocol"),
        ({"SigningBehavior": "sometimes"}, "SigningBehavior"),
        ({"OriginAccessControlOriginType": "lambda"}, "OriginAccessControlOriginType"),
    ],
)
def test_oac_values(oac: dict[str, Any], message: str) -> None:
    cfg = _cfg()
    cfg["OriginAccessControls"][0]["OriginAccessControlConfig"].update(oac)
    with pytest.raises(ConfigError, match=message):
        parse_config(cfg, "t")


def test_credentials_from_file_region_dir_or_environment(tmp_path: Path) -> None:
    creds = tmp_path / "c.json"
    creds.write_text('{"AccessKeyId": "AKIDFILE", "SecretAccessKey": "s3cr3t"}')
    region = tmp_path / "regions" / "ap-northeast-2"
    region.mkdir(parents=True)
    (region / "s3.json").write_text(
        '{"identities": [{"credentials": [{"accessKey": "AKIDWEED", "secretKey": "w"}]}]}'
    )
    for entry, expected in (
        ({"credentials_file": str(creds)}, "AKIDFILE"),
        ({"region_dir": str(region)}, "AKIDWEED"),
        ({}, "AKIDENV"),
    ):
        cfg = parse_config(_cfg(edge={"s3_origins": [{"domain_name": DOMAIN, **entry}]}), "t")
        env = {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "e"}
        got = load_s3_credentials(compile_all(cfg), cfg.edge.s3_origins, env)
        assert got[DOMAIN].access_key_id == expected


def test_missing_credentials_name_the_origin(tmp_path: Path) -> None:
    cfg = parse_config(_cfg(), "t")
    with pytest.raises(ConfigError, match=r"origin s3 .* \$AWS_ACCESS_KEY_ID"):
        load_s3_credentials(compile_all(cfg), (), {})
    bad = parse_config(
        _cfg(
            edge={"s3_origins": [{"domain_name": DOMAIN, "credentials_file": str(tmp_path / "no")}]}
        ),
        "t",
    )
    with pytest.raises(ConfigError, match="no such credentials file"):
        load_s3_credentials(compile_all(bad), bad.edge.s3_origins, {})


def test_edge_option_checks() -> None:
    with pytest.raises(ConfigError, match="endpoint"):
        parse_config(
            _cfg(edge={"s3_origins": [{"domain_name": DOMAIN, "endpoint": "ftp://x"}]}), "t"
        )
    twice = [{"domain_name": DOMAIN}, {"domain_name": DOMAIN.upper()}]
    with pytest.raises(ConfigError, match="listed twice"):
        parse_config(_cfg(edge={"s3_origins": twice}), "t")
