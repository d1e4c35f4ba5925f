"""A small MaxMind City database written for tests (mmdb-writer), with two known networks."""

from __future__ import annotations

from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet

SAO_PAULO_IP = "200.147.3.9"
SEATTLE_IP = "198.51.100.20"

_SAO_PAULO = {
    "country": {"iso_code": "BR", "names": {"en": "Brazil"}},
    "subdivisions": [{"iso_code": "SP", "names": {"en": "São Paulo"}}],
    "city": {"names": {"en": "São Paulo"}},
    "postal": {"code": "01000"},
    "location": {"time_zone": "America/Sao_Paulo", "latitude": -23.5475, "longitude": -46.63611},
}
_SEATTLE = {
    "country": {"iso_code": "US", "names": {"en": "United States"}},
    "subdivisions": [{"iso_code": "WA", "names": {"en": "Washington"}}],
    "city": {"names": {"en": "Seattle"}},
    "postal": {"code": "98101"},
    "location": {
        "time_zone": "America/Los_Angeles",
        "latitude": 47.6062,
        "longitude": -122.3321,
        "metro_code": 819,
    },
}


def write_city_db(path: Path) -> Path:
    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-City", ipv4_compatible=True)
    writer.insert_network(IPSet(["200.147.0.0/16"]), _SAO_PAULO)
    writer.insert_network(IPSet(["198.51.100.0/24"]), _SEATTLE)
    writer.to_db_file(str(path))
    return path
