"""MediaHub settings: defaults, per-region language, database URLs, files and flags, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from openfront.config.mediahub import (
    MediaHubConfig,
    load_mediahub_config,
    mediahub_config,
    override_mediahub,
)
from openfront.errors import ConfigError
from openfront.mediahub.database import database_url, shown


def test_defaults() -> None:
    cfg = MediaHubConfig()
    assert cfg.region == "ap-northeast-2" and cfg.listen == "127.0.0.1:8200"
    assert cfg.tokens.access_ttl == 900 and cfg.passwords.min_length == 10
    assert cfg.home == Path("data/mediahub")
    assert cfg.token_key_file == Path("data/mediahub/token-key")


@pytest.mark.parametrize(
    ("data", "language"),
    [
        ({"region": "ap-northeast-2"}, "ko"),
        ({"region": "sa-east-1"}, "en"),
        ({"region": "eu-west-1"}, "en"),
        ({"region": "sa-east-1", "default_language": "pt-BR"}, "pt-BR"),
        ({"region": "ap-northeast-2", "default_language": "en"}, "en"),
    ],
)
def test_the_region_picks_the_default_language(data: dict[str, str], language: str) -> None:
    assert mediahub_config(data, "test").language == language


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"region": "Seoul!"}, "region: 'Seoul!' is not a region name"),
        ({"listen": "localhost"}, "listen: 'localhost' is not HOST:PORT"),
        ({"default_language": "fr"}, "default_language: Input should be 'ko', 'en' or 'pt-BR'"),
        ({"passwords": {"min_length": 4}}, "passwords.min_length: Input should be greater than"),
        ({"argon2": {"memory_kib": 8, "parallelism": 4}}, "argon2: argon2 needs memory_kib"),
        ({"signin_limits": {"trusted_proxies": ["nope"]}}, "'nope' is not a CIDR"),
        ({"tokens": {"access_ttl": 0}}, "tokens.access_ttl: Input should be greater than"),
        ({"tokens": {"ttl": 5}}, "tokens.ttl: Extra inputs are not permitted"),
        ({"database_url": "oracle://scott:tiger@db/x"}, "scheme 'oracle' is not supported"),
        ({"max_body_bytes": "64 KiB"}, None),
    ],
)
def test_errors_name_the_key(data: dict[str, object], message: str | None) -> None:
    if message is None:
        assert mediahub_config(data, "f.yaml").max_body_bytes == 65536
        return
    with pytest.raises(ConfigError) as info:
        mediahub_config(data, "f.yaml")
    assert f"f.yaml: {message}" in str(info.value) or message in str(info.value)


def test_a_database_password_never_appears_in_errors() -> None:
    with pytest.raises(ConfigError) as info:
        mediahub_config({"database_url": "oracle://scott:tiger@db/x", "region": "?"}, "f")
    assert "tiger" not in str(info.value)
    cfg = mediahub_config({"database_url": "postgresql://u:tiger@db/x"}, "f")
    assert "tiger" not in repr(cfg) and "tiger" not in str(cfg.model_dump())


def test_file_then_flags(tmp_path: Path) -> None:
    path = tmp_path / "mediahub.yaml"
    path.write_text(
        "region: sa-east-1\ndatabase_url: postgresql://u:pw@127.0.0.1/mh\nargon2: {time_cost: 1}\n"
    )
    cfg = load_mediahub_config(path)
    assert cfg.region == "sa-east-1" and cfg.argon2.time_cost == 1
    cfg = override_mediahub(cfg, {"listen": "127.0.0.1:0", "data_dir": tmp_path})
    assert cfg.listen == "127.0.0.1:0" and cfg.data_dir == tmp_path
    assert cfg.region == "sa-east-1" and cfg.argon2.time_cost == 1  # kept from the file
    assert cfg.database_url is not None
    assert cfg.database_url.get_secret_value() == "postgresql://u:pw@127.0.0.1/mh"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("m.yaml", "region: [\n", "m.yaml: line"),
        ("m.yaml", "- a\n", "top level must be a mapping"),
        ("m.json", '{"region": "x", "region": "y"}', "given twice"),
        ("m.toml", "", "use a .yaml, .yml or .json file"),
        ("m.yaml", "listen: nope\n", "m.yaml: listen:"),
    ],
)
def test_file_errors(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_mediahub_config(path)


def test_an_empty_file_means_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("")
    assert load_mediahub_config(path) == MediaHubConfig()


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://postgres@127.0.0.1:5432/test", "postgresql+psycopg"),
        ("postgres://postgres@127.0.0.1/test", "postgresql+psycopg"),
        ("mysql://root@127.0.0.1:3306/test", "mysql+pymysql"),
        ("mariadb://root@127.0.0.1/test", "mysql+pymysql"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg"),
        ("sqlite:////tmp/x.db", "sqlite"),
    ],
)
def test_database_urls_get_our_drivers(url: str, driver: str) -> None:
    assert database_url(url, Path("/data/mediahub")).drivername == driver


def test_the_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    url = database_url(None, tmp_path / "mediahub")
    assert url.drivername == "sqlite" and url.database == str(tmp_path / "mediahub/mediahub.db")


def test_unsupported_databases_are_refused_without_the_password() -> None:
    with pytest.raises(ConfigError) as info:
        database_url("mssql+pyodbc://sa:secret@host/db", Path("."))
    assert "secret" not in str(info.value) and "sa:***@host" in str(info.value)


def test_shown_masks_the_password() -> None:
    assert shown(database_url("postgresql://u:pw@h/d", Path("."))) == (
        "postgresql+psycopg://u:***@h/d"
    )
