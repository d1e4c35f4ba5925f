"""Country lookups against the database bundled with geoip2fast (real lookups)."""

from __future__ import annotations

from pathlib import Path

import pytest

from openfront.errors import ConfigError
from openfront.viewer.geo import GeoLookup


@pytest.fixture(scope="module")
def geo() -> GeoLookup:
    return GeoLookup()


@pytest.mark.parametrize(
    ("ip", "country"),
    [
        ("8.8.8.8", "US"),
        ("2001:4860:4860::8888", "US"),
        ("::ffff:8.8.8.8", "US"),
        ("1.1.1.1", "AU"),
        ("127.0.0.1", None),
        ("10.1.2.3", None),
        ("192.168.0.1", None),
        ("169.254.1.1", None),
        ("0.0.0.0", None),
        ("::1", None),
        ("fe80::1", None),
        ("garbage", None),
        ("", None),
        ("256.1.1.1", None),
        ("8.8.8.8:53", None),
        ("\x00", None),
    ],
)
def test_country(geo: GeoLookup, ip: str, country: str | None) -> None:
    assert geo.country(ip) == country


def test_load_is_recorded(geo: GeoLookup) -> None:
    assert geo.load_seconds > 0
    assert "geoip2fast" in geo.source


def test_a_non_string_never_raises(geo: GeoLookup) -> None:
    assert geo.country(None) is None  # type: ignore[arg-type]


def test_mmdb_path_needs_maxminddb_or_a_real_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mmdb"
    with pytest.raises(ConfigError, match="geoip_database"):
        GeoLookup(missing)
