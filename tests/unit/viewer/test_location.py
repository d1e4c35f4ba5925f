"""Location headers from a City database (guide §1.13): region, city, postal code, coordinates."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.geodb import SAO_PAULO_IP, SEATTLE_IP, write_city_db

from openfront.viewer import ViewerLocation, location_headers
from openfront.viewer.geo import GeoLookup


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> GeoLookup:
    return GeoLookup(write_city_db(tmp_path_factory.mktemp("geo") / "city.mmdb"))


def test_city_database_fills_every_location_header(city: GeoLookup) -> None:
    loc = city.location(SAO_PAULO_IP)
    assert loc is not None
    assert dict(location_headers(loc)) == {
        "CloudFront-Viewer-Country": "BR",
        "CloudFront-Viewer-Country-Name": "Brazil",
        "CloudFront-Viewer-Country-Region": "SP",
        "CloudFront-Viewer-Country-Region-Name": "S%C3%A3o Paulo",  # non-ASCII percent-encoded
        "CloudFront-Viewer-City": "S%C3%A3o Paulo",
        "CloudFront-Viewer-Postal-Code": "01000",
        "CloudFront-Viewer-Time-Zone": "America/Sao_Paulo",
        "CloudFront-Viewer-Latitude": "-23.54750",
        "CloudFront-Viewer-Longitude": "-46.63611",
    }
    assert city.country(SAO_PAULO_IP) == "BR"


def test_metro_code_and_ipv4_mapped_addresses(city: GeoLookup) -> None:
    loc = city.location("::ffff:" + SEATTLE_IP)
    assert loc is not None and loc.metro_code == 819 and loc.region == "WA"
    assert ("CloudFront-Viewer-Metro-Code", "819") in location_headers(loc)


@pytest.mark.parametrize("ip", ["10.0.0.1", "192.0.2.1", "", "not-an-ip", "::1"])
def test_unknown_addresses_have_no_location(city: GeoLookup, ip: str) -> None:
    assert city.location(ip) is None


def test_bundled_database_knows_countries_only() -> None:
    loc = GeoLookup().location("8.8.8.8")
    assert loc is not None and loc.country == "US" and loc.city is None
    assert [name for name, _ in location_headers(loc)][:1] == ["CloudFront-Viewer-Country"]


def test_empty_fields_are_left_out() -> None:
    assert location_headers(ViewerLocation(country="KR", city="")) == [
        ("CloudFront-Viewer-Country", "KR")
    ]


def test_a_percent_in_a_value_is_encoded_too(tmp_path: Path) -> None:
    assert location_headers(ViewerLocation(country="FR", city="100%"))[1] == (
        "CloudFront-Viewer-City",
        "100%25",
    )
