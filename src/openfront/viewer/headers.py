"""The CloudFront-* viewer headers an edge adds for the origin or the cache key, and geo checks."""

from __future__ import annotations

from openfront.viewer.device import DeviceFlags

_BOOL = {True: "true", False: "false"}


def viewer_headers(
    *,
    country: str | None,
    flags: DeviceFlags,
    client_ip: str,
    client_port: int,
    scheme: str,
    http_version: str,
) -> list[tuple[str, str]]:
    """Every viewer header OpenFront can compute; the policy decides which ones travel."""
    out: list[tuple[str, str]] = []
    if country:
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
