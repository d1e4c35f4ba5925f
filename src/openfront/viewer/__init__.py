"""What the edge knows about a viewer: device type, country, address (CloudFront-* headers)."""

from openfront.viewer.device import DeviceFlags, device_flags
from openfront.viewer.headers import geo_allowed, viewer_headers

__all__ = ["DeviceFlags", "device_flags", "geo_allowed", "viewer_headers"]
