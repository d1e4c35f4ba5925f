"""CloudFront-* viewer headers and geo restriction decisions."""

from __future__ import annotations

import pytest

from openfront.viewer.device import DeviceFlags, device_flags
from openfront.viewer.headers import geo_allowed, viewer_headers, viewer_http_version

PHONE = DeviceFlags(False, True, False, False, False, True)


def test_all_headers_for_a_known_country() -> None:
    headers = viewer_headers(
        country="US",
        flags=PHONE,
        client_ip="203.0.113.7",
        client_port=51234,
        scheme="HTTPS",
        http_version="HTTP/1.1",
    )
    assert headers == [
        ("CloudFront-Viewer-Country", "US"),
        ("CloudFront-Is-Desktop-Viewer", "false"),
        ("CloudFront-Is-Mobile-Viewer", "true"),
        ("CloudFront-Is-Tablet-Viewer", "false"),
        ("CloudFront-Is-SmartTV-Viewer", "false"),
        ("CloudFront-Is-Android-Viewer", "false"),
        ("CloudFront-Is-IOS-Viewer", "true"),
        ("CloudFront-Forwarded-Proto", "https"),
        ("CloudFront-Viewer-Address", "203.0.113.7:51234"),
        ("CloudFront-Viewer-Http-Version", "1.1"),
    ]


def test_unknown_country_is_left_out_and_ipv6_is_unbracketed() -> None:
    headers = dict(
        viewer_headers(
            country=None,
            flags=device_flags(None),
            client_ip="2001:db8::1",
            client_port=443,
            scheme="http",
            http_version="1.1",
        )
    )
    assert "CloudFront-Viewer-Country" not in headers
    assert headers["CloudFront-Viewer-Address"] == "2001:db8::1:443"
    assert headers["CloudFront-Is-Desktop-Viewer"] == "true"
    assert headers["CloudFront-Forwarded-Proto"] == "http"


@pytest.mark.parametrize(
    ("given", "expected"),
    [("HTTP/1.1", "1.1"), ("HTTP/1.0", "1.0"), ("1.1", "1.1"), ("2", "2.0"), ("HTTP/2", "2.0")],
)
def test_http_version_spelling(given: str, expected: str) -> None:
    assert viewer_http_version(given) == expected


NONE: frozenset[str] = frozenset()


@pytest.mark.parametrize(
    ("country", "kind", "countries", "allowed"),
    [
        ("US", "none", NONE, True),
        ("US", "whitelist", frozenset({"US", "CA"}), True),
        ("DE", "whitelist", frozenset({"US", "CA"}), False),
        ("DE", "blacklist", frozenset({"DE"}), False),
        ("FR", "blacklist", frozenset({"DE"}), True),
        (None, "whitelist", frozenset({"US"}), True),  # unknown location is served
        (None, "blacklist", frozenset({"US"}), True),
    ],
)
def test_geo_allowed(
    country: str | None, kind: str, countries: frozenset[str], allowed: bool
) -> None:
    assert geo_allowed(country, kind, countries) is allowed


def test_geo_allowed_refuses_an_unknown_type() -> None:
    with pytest.raises(ValueError, match="allowlist"):
        geo_allowed("US", "allowlist", frozenset({"US"}))
