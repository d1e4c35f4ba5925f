"""Viewer location from the IP address: geoip2fast's bundled database (countries), or a MaxMind
.mmdb file (a Country database, or a City database for region, city, postal code, time zone and
coordinates)."""

from __future__ import annotations

import importlib
import re
import time
from pathlib import Path
from typing import Any

from openfront.errors import ConfigError
from openfront.viewer.headers import ViewerLocation

# The IPv6 file also holds every IPv4 network, so one database answers both families.
BUNDLED_DATABASE = "geoip2fast-ipv6.dat.gz"
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_V4_MAPPED = "::ffff:"


class GeoLookup:
    """Country lookups from a database loaded once, at construction (about 0.2 s)."""

    __slots__ = ("_fast", "_mmdb", "load_seconds", "source")

    def __init__(self, mmdb_path: Path | str | None = None) -> None:
        started = time.perf_counter()
        self._fast: Any = None
        self._mmdb: Any = None
        if mmdb_path is None:
            self._fast = _load_geoip2fast()
            self.source = f"geoip2fast ({BUNDLED_DATABASE})"
        else:
            self._mmdb = _open_mmdb(Path(mmdb_path))
            self.source = str(mmdb_path)
        self.load_seconds = time.perf_counter() - started

    def country(self, ip: str) -> str | None:
        """ISO 3166-1 alpha-2 code, or None for private, reserved, unknown or malformed input."""
        if not isinstance(ip, str) or not ip:
            return None
        if ip[:7].lower() == _V4_MAPPED and "." in ip:
            ip = ip[7:]
        try:
            code = self._mmdb_country(ip) if self._mmdb is not None else self._fast_country(ip)
        except Exception:  # a lookup library must never take a request down
            return None
        return code if isinstance(code, str) and _COUNTRY.match(code) else None

    def location(self, ip: str) -> ViewerLocation | None:
        """Everything the database knows about ``ip``; None where it knows nothing."""
        if not isinstance(ip, str) or not ip:
            return None
        if ip[:7].lower() == _V4_MAPPED and "." in ip:
            ip = ip[7:]
        try:
            if self._mmdb is not None:
                return _mmdb_location(self._mmdb.get(ip))
            result = self._fast.lookup(ip)
            code = result.country_code
            if not (isinstance(code, str) and _COUNTRY.match(code)):
                return None
            name = getattr(result, "country_name", None)
            return ViewerLocation(country=code, country_name=name if name else None)
        except Exception:  # a lookup library must never take a request down
            return None

    def _fast_country(self, ip: str) -> object:
        return self._fast.lookup(ip).country_code

    def _mmdb_country(self, ip: str) -> object:
        record = self._mmdb.get(ip)
        if not isinstance(record, dict):
            return None
        for key in ("country", "registered_country"):
            entry = record.get(key)
            if isinstance(entry, dict) and entry.get("iso_code"):
                return entry["iso_code"]
        return None

    def close(self) -> None:
        if self._mmdb is not None:
            self._mmdb.close()
            self._mmdb = None


def _name(entry: object) -> str | None:
    if isinstance(entry, dict):
        names = entry.get("names")
        if isinstance(names, dict) and isinstance(names.get("en"), str):
            return str(names["en"])
    return None


def _mmdb_location(record: object) -> ViewerLocation | None:
    """A GeoIP2/GeoLite2 Country or City record as a ViewerLocation."""
    if not isinstance(record, dict):
        return None
    country = record.get("country") or record.get("registered_country")
    code = country.get("iso_code") if isinstance(country, dict) else None
    if not (isinstance(code, str) and _COUNTRY.match(code)):
        return None
    subdivisions = record.get("subdivisions")
    first = subdivisions[0] if isinstance(subdivisions, list) and subdivisions else {}
    region = first.get("iso_code") if isinstance(first, dict) else None
    where = record.get("location")
    where = where if isinstance(where, dict) else {}
    postal = record.get("postal")
    postal_code = postal.get("code") if isinstance(postal, dict) else None

    def number(key: str) -> float | None:
        value = where.get(key)
        return float(value) if isinstance(value, int | float) else None

    metro = where.get("metro_code")
    zone = where.get("time_zone")
    return ViewerLocation(
        country=code,
        country_name=_name(country),
        region=region if isinstance(region, str) and len(region) <= 3 else None,
        region_name=_name(first),
        city=_name(record.get("city")),
        postal_code=postal_code if isinstance(postal_code, str) else None,
        time_zone=zone if isinstance(zone, str) else None,
        latitude=number("latitude"),
        longitude=number("longitude"),
        metro_code=metro if isinstance(metro, int) else None,
    )


def _load_geoip2fast() -> Any:
    try:
        module = importlib.import_module("geoip2fast")
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ConfigError("the geoip2fast package is not installed") from exc
    return module.GeoIP2Fast(verbose=False, geoip2fast_data_file=BUNDLED_DATABASE)


def _open_mmdb(path: Path) -> Any:
    try:
        maxminddb = importlib.import_module("maxminddb")
    except ImportError:
        raise ConfigError(
            f"viewer.geoip_database is {path}, but reading .mmdb files needs the maxminddb "
            "package (pip install maxminddb)"
        ) from None
    if not path.is_file():
        raise ConfigError(f"viewer.geoip_database: {path} is not a file")
    try:
        return maxminddb.open_database(str(path))
    except Exception as exc:  # maxminddb raises InvalidDatabaseError, OSError, ValueError
        raise ConfigError(
            f"viewer.geoip_database: {path} is not a MaxMind database: {exc}"
        ) from exc
