"""Loading files, quick mode, compiling into runtime values, TTL defaults, edge settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openfront.cache import policy as rt
from openfront.config import (
    CachePolicyConfig,
    compile_all,
    load_config,
    override_edge,
    parse_listen,
    parse_size,
    quick_config,
)
from openfront.config.edge import ADMIN_TOKEN_ENV
from openfront.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.mark.parametrize("name", ["edge.yaml", "edge.json"])
def test_examples_load(name: str) -> None:
    cfg = load_config(EXAMPLES / name)
    [dist] = compile_all(cfg)
    assert dist.aliases == ("www.example.com", "example.com")
    assert dist.origin_groups["app"] == rt.OriginGroup(
        "app", ("app-primary", "app-secondary"), frozenset({500, 502, 503, 504})
    )
    static, api = dist.behaviors
    assert static.ttl == rt.TtlPolicy(60, 86400, 31536000)
    assert static.key.query_strings == "whitelist" and static.key.query_string_names == {"v"}
    assert api.ttl == rt.TtlPolicy(0, 0, 0) and api.origin_request.headers == "allViewer"
    assert dist.default_behavior.origin_request.header_names == {"host"}
    assert dist.origins["assets-shield"].is_parent_edge
    assert dist.origins["app-primary"].custom_headers == (("X-Origin-Verify", "change-me"),)
    assert dist.custom_error_responses[503].response_code == 503
    assert cfg.edge.cache.memory_bytes == 512 * 2**20


def test_yaml_and_json_examples_say_the_same() -> None:
    yaml_cfg, json_cfg = load_config(EXAMPLES / "edge.yaml"), load_config(EXAMPLES / "edge.json")
    assert compile_all(yaml_cfg) == compile_all(json_cfg)
    assert yaml_cfg.edge == json_cfg.edge


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("a.yaml", "edge:\n  listen: [\n", "a.yaml: line 3, column 1:"),
        ("a.yaml", "edge: {}\nedge: {}\n", "a.yaml: line 2, column 1: key 'edge' is given twice"),
        ("a.json", '{"edge": {}\n,}', "a.json: line 2, column 2:"),
        ("a.json", '{"edge": {}, "edge": {}}', "a.json: key 'edge' is given twice"),
        ("a.yaml", "", "a.yaml: the file is empty"),
        ("a.yaml", "- 1\n", "a.yaml: the top level must be a mapping"),
        ("a.toml", "x = 1", "a.toml: use a .yaml, .yml or .json file"),
        ("a.yml", "distributions: []\n", "a.yml: distributions: at least one entry is needed"),
    ],
)
def test_file_errors(tmp_path: Path, name: str, text: str, expected: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(str(tmp_path / expected)), str(info.value)


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.yaml")
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(tmp_path / "bin.yaml")


def test_quick_config_is_a_transparent_proxy() -> None:
    cfg = quick_config("https://Origin.example:8443/base/", "127.0.0.1:0")
    [dist] = compile_all(cfg)
    origin = dist.origins["origin"]
    assert (origin.domain, origin.port, origin.protocol, origin.path) == (
        "origin.example",
        8443,
        "https-only",
        "/base",
    )
    b = dist.default_behavior
    assert b.allowed_methods == {"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}
    assert b.cached_methods == {"GET", "HEAD"}
    assert b.ttl == rt.TtlPolicy(0, 0, 31_536_000)
    assert b.key.query_strings == "all"
    assert b.origin_request.headers == "allViewer"
    assert cfg.edge.listen == "127.0.0.1:0"
    assert compile_all(quick_config("http://h", "127.0.0.1:1"))[0].origins["origin"].port == 80


@pytest.mark.parametrize(
    "url", ["ftp://h/", "http://", "http://h:99999/", "http://h/?q=1", "http://u@h/", "h:80"]
)
def test_quick_config_refuses(url: str) -> None:
    with pytest.raises(ConfigError, match="--origin"):
        quick_config(url, "127.0.0.1:0")


def test_quick_config_bad_listen_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"--origin: edge.listen: 'nowhere' is not HOST:PORT"):
        quick_config("http://h", "nowhere")


def test_override_edge() -> None:
    cfg = quick_config("http://h", "127.0.0.1:0")
    new = override_edge(cfg, {"workers": 4, "admin.listen": "127.0.0.1:7000"})
    assert (new.edge.workers, new.edge.admin.listen) == (4, "127.0.0.1:7000")
    assert new.distributions == cfg.distributions
    with pytest.raises(ConfigError, match=r"command line: edge: workers: Input should be"):
        override_edge(cfg, {"workers": 0})
    with pytest.raises(ConfigError, match=r"edge\.nope\.x: unknown key"):
        override_edge(cfg, {"nope.x": 1})


@pytest.mark.parametrize(
    ("given_ttls", "resolved"),
    [
        ((0, None, None), (0, 86400, 31536000)),
        ((100_000, None, None), (100_000, 100_000, 31536000)),
        ((40_000_000, None, None), (40_000_000, 40_000_000, 40_000_000)),
        ((0, 40_000_000, None), (0, 40_000_000, 40_000_000)),
        ((0, 10, None), (0, 10, 31536000)),
        ((0, None, 100_000), (0, 86400, 100_000)),
    ],
)
def test_ttl_defaults(
    given_ttls: tuple[int, int | None, int | None], resolved: tuple[int, ...]
) -> None:
    lo, mid, hi = given_ttls
    data: dict[str, object] = {"Name": "p", "MinTTL": lo}
    if mid is not None:
        data["DefaultTTL"] = mid
    if hi is not None:
        data["MaxTTL"] = hi
    assert CachePolicyConfig.model_validate(data).ttls() == resolved


@given(st.lists(st.integers(0, 3_153_600_000), min_size=3, max_size=3))
def test_ttl_order_is_enforced(ttls: list[int]) -> None:
    data = {"Name": "p", "MinTTL": ttls[0], "DefaultTTL": ttls[1], "MaxTTL": ttls[2]}
    if ttls == sorted(ttls):
        assert CachePolicyConfig.model_validate(data).ttls() == tuple(ttls)
    else:
        with pytest.raises(ValueError, match="InvalidTTLOrder"):
            CachePolicyConfig.model_validate(data)


@pytest.mark.parametrize(
    ("value", "size"),
    [
        (0, 0),
        (1024, 1024),
        ("256MiB", 256 << 20),
        ("10GB", 10**10),
        ("4 KiB", 4096),
        ("1.5GiB", 3 << 29),
        ("512b", 512),
        ("7", 7),
    ],
)
def test_sizes(value: object, size: int) -> None:
    assert parse_size(value) == size


@pytest.mark.parametrize("value", [True, "10 parsecs", "-1MB", "MB", 1.5, None])
def test_bad_sizes(value: object) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(value)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("[::1]:0", ("::1", 0)),
        ("h.example:1", ("h.example", 1)),
    ],
)
def test_listen(value: str, parsed: tuple[str, int]) -> None:
    assert parse_listen(value) == parsed


@pytest.mark.parametrize("value", ["8080", ":80", "::1:80", "h:x", "h:70000", "[zz]:1"])
def test_bad_listen(value: str) -> None:
    with pytest.raises(ValueError):
        parse_listen(value)


def test_admin_token_from_environment_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ADMIN_TOKEN_ENV, "s3cret-env")
    cfg = quick_config("http://h", "127.0.0.1:0")
    token = cfg.edge.admin.token
    assert token is not None and token.get_secret_value() == "s3cret-env"
    for shown in (repr(cfg), str(cfg), cfg.model_dump_json()):
        assert "s3cret-env" not in shown
    explicit = quick_config("http://h", "127.0.0.1:0", {"admin": {"token": "from-file"}})
    assert explicit.edge.admin.token is not None
    assert explicit.edge.admin.token.get_secret_value() == "from-file"
    monkeypatch.delenv(ADMIN_TOKEN_ENV)
    assert quick_config("http://h", "127.0.0.1:0").edge.admin.token is None


@pytest.mark.parametrize(
    ("ref", "ttl"),
    [
        ("658327ea-f89d-4fab-a63d-7e88639e58f6", (1, 86400, 31536000)),
        ("CachingOptimized", (1, 86400, 31536000)),
        ("Managed-CachingDisabled", (0, 0, 0)),
        ("UseOriginCacheControlHeaders", (0, 0, 31536000)),
        ("2e54312d-136d-493c-8eb9-b001f22f67d2", (2, 2, 600)),
    ],
)
def test_managed_policies_by_id_and_name(ref: str, ttl: tuple[int, int, int]) -> None:
    cfg = quick_config("http://h", "127.0.0.1:0")
    dc = cfg.distributions[0].distribution_config
    behavior = dc.default_cache_behavior.model_copy(update={"cache_policy_id": ref})
    entry = cfg.distributions[0].model_copy(
        update={"distribution_config": dc.model_copy(update={"default_cache_behavior": behavior})}
    )
    from openfront.config import PolicyCatalog, compile_distribution

    dist = compile_distribution(entry, PolicyCatalog.managed_only())
    assert dist.default_behavior.ttl == rt.TtlPolicy(*ttl)


def test_compile_defaults_and_name_cases() -> None:
    from openfront.config import parse_config

    cfg = parse_config(
        {
            "distributions": [
                {
                    "DistributionConfig": {
                        "Aliases": ["WWW.Example.COM"],
                        "Origins": [
                            {
                                "Id": "o",
                                "DomainName": "o.example",
                                "CustomOriginConfig": {
                                    "OriginProtocolPolicy": "match-viewer",
                                    "HTTPPort": 81,
                                },
                            }
                        ],
                        "DefaultCacheBehavior": {"TargetOriginId": "o"},
                        "CacheBehaviors": [
                            {
                                "PathPattern": "x&amp;y/*",
                                "TargetOriginId": "o",
                                "CachePolicyConfig": {
                                    "Name": "k",
                                    "MinTTL": 0,
                                    "ParametersInCacheKeyAndForwardedToOrigin": {
                                        "HeadersConfig": {
                                            "HeaderBehavior": "whitelist",
                                            "Headers": ["X-Device", "Accept-Language"],
                                        },
                                        "QueryStringsConfig": {
                                            "QueryStringBehavior": "whitelist",
                                            "QueryStrings": ["Page", "page"],
                                        },
                                        "CookiesConfig": {
                                            "CookieBehavior": "allExcept",
                                            "Cookies": ["Session"],
                                        },
                                    },
                                },
                                "OriginRequestPolicyConfig": {
                                    "Name": "r",
                                    "HeadersConfig": {
                                        "HeaderBehavior": "allExcept",
                                        "Headers": ["Host"],
                                    },
                                },
                            }
                        ],
                    }
                }
            ]
        },
        "t",
    )
    [dist] = compile_all(cfg)
    assert dist.id == "EDEFAULT" and dist.aliases == ("www.example.com",)
    assert dist.origins["o"].port == 81
    d = dist.default_behavior
    assert d.path_pattern == "*" and d.ttl == rt.TtlPolicy(1, 86400, 31536000)
    assert d.key.accept_encoding_gzip and d.key.accept_encoding_brotli
    assert d.origin_request == rt.OriginRequestPolicy()
    [b] = dist.behaviors
    assert b.path_pattern == "x&y/*"
    assert b.key.header_names == ("accept-language", "x-device")
    assert b.key.query_string_names == {"Page", "page"}
    assert b.key.cookies == "allExcept" and b.key.cookie_names == {"Session"}
    assert b.origin_request.headers == "allExcept" and b.origin_request.header_names == {"host"}
