"""What the edge knows about a viewer: device type, location, address (CloudFront-* headers)."""

from openfront.viewer.device import DeviceFlags, device_flags
from openfront.viewer.headers import (
    LOCATION_HEADERS,
    ViewerLocation,
    geo_allowed,
    location_headers,
    viewer_headers,
)

__all__ = [
    "LOCATION_HEADERS",
    "DeviceFlags",
    "ViewerLocation",
    "device_flags",
    "geo_allowed",
    "location_headers",
    "viewer_headers",
]
