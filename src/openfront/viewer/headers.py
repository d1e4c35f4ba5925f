"""The CloudFront-* viewer headers an edge adds for the origin or the cache key, and geo checks."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from openfront.viewer.device import DeviceFlags

_BOOL = {True: "true", False: "false"}
# CloudFront percent-encodes non-ASCII characters in location values; printable ASCII stays.
_ASCII_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


@dataclass(frozen=True, slots=True)
class ViewerLocation:
    """What a geo database knows about an address; None where it knows nothing."""

    country: str | None = None  # ISO 3166-1 alpha-2
    country_name: str | None = None
    region: str | None = None  # ISO 3166-2 first-level subdivision code, without the country
    region_name: str | None = None
    city: str | None = None
    postal_code: str | None = None
    time_zone: str | None = None  # IANA
    latitude: float | None = None
    longitude: float | None = None
    metro_code: int | None = None  # US only


# The headers that need more than the country (a City database), lower-case.
LOCATION_HEADERS = frozenset(
    f"cloudfront-viewer-{n}"
    for n in (
        "country-name",
        "country-region",
        "country-region-name",
        "city",
        "postal-code",
        "time-zone",
        "latitude",
        "longitude",
        "metro-code",
    )
)


def location_headers(loc: ViewerLocation) -> list[tuple[str, str]]:
    """CloudFront-Viewer-Country and the location headers the database could fill."""
    fields: list[tuple[str, object]] = [
        ("Country", loc.country),
        ("Country-Name", loc.country_name),
        ("Country-Region", loc.region),
        ("Country-Region-Name", loc.region_name),
        ("City", loc.city),
        ("Postal-Code", loc.postal_code),
        ("Time-Zone", loc.time_zone),
        ("Latitude", None if loc.latitude is None else f"{loc.latitude:.5f}"),
        ("Longitude", None if loc.longitude is None else f"{loc.longitude:.5f}"),
        ("Metro-Code", loc.metro_code),
    ]
    return [
        (f"CloudFront-Viewer-{name}", quote(str(value), safe=_ASCII_SAFE))
        for name, value in fields
        if value is not None and value != ""
    ]


def viewer_headers(
    *,
    country: str | None,
    flags: DeviceFlags,
    client_ip: str,
    client_port: int,
    scheme: str,
    http_version: str,
    location: ViewerLocation | None = None,
) -> list[tuple[str, str]]:
    """Every viewer header OpenFront can compute; the policy decides which ones travel.

    ``location`` (from a City database) adds the region, city and coordinate headers; without
    it only the country is known."""
    out: list[tuple[str, str]] = []
    if location is not None:
        out += location_headers(location)
    elif country:
        out.append(("CloudFront-Viewer-Country", country))
    out += [
        ("CloudFront-Is-Desktop-Viewer", _BOOL[flags.is_desktop]),
        ("CloudFront-Is-Mobile-Viewer", _BOOL[flags.is_mobile]),
        ("CloudFront-Is-Tablet-Viewer", _BOOL[flags.is_tablet]),
        ("CloudFront-Is-SmartTV-Viewer", _BOOL[flags.is_smarttv]),
        ("CloudFront-Is-Android-Viewer", _BOOL[flags.is_android]),
        ("CloudFront-Is-IOS-Viewer", _BOOL[flags.is_ios]),
        ("CloudFront-Forwarded-Proto", scheme.lower()),
        # CloudFront writes IPv6 unbracketed too: "2001:db8::1:443"; split at the last colon.
        ("CloudFront-Viewer-Address", f"{client_ip}:{client_port}"),
        ("CloudFront-Viewer-Http-Version", viewer_http_version(http_version)),
    ]
    return out


def viewer_http_version(version: str) -> str:
    """CloudFront's spelling: ``1.0``, ``1.1``, ``2.0``, ``3.0`` (from ``HTTP/1.1``, ``2``...)."""
    v = version.strip()
    if v[:5].upper() == "HTTP/":
        v = v[5:]
    return f"{v}.0" if v.isdigit() else v


def geo_allowed(country: str | None, restriction_type: str, countries: frozenset[str]) -> bool:
    """Whether a viewer from ``country`` may get content; unknown locations are served."""
    if country is None or restriction_type == "none":
        return True
    if restriction_type == "whitelist":
        return country in countries
    if restriction_type == "blacklist":
        return country not in countries
    raise ValueError(f"unknown geo restriction type {restriction_type!r}")
