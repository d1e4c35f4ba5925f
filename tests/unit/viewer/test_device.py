"""CloudFront-Is-*-Viewer flags from real User-Agent strings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openfront.viewer.device import DeviceFlags, device_flags

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
)
ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/119.0.6045.163 Mobile Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36"
)
SAMSUNG_TV = (
    "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 "
    "(KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36"
)
APPLE_TV = "AppleTV11,1/11.1"
LG_WEBOS = (
    "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/79.0.3945.79 Safari/537.36 WebAppManager"
)
CHROME_DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
MAC_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Safari/605.1.15"
)
KINDLE = (
    "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Silk/119.3.1 like Chrome/119.0.6045.193 Safari/537.36"
)
CURL = "curl/8.4.0"
FIRE_TV = (
    "Mozilla/5.0 (Linux; Android 9; AFTMM Build/PS7633) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/117.0.0.0 Mobile Safari/537.36"
)
IE_TABLET_PC = "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Tablet PC 2.0)"

#        desktop mobile tablet smarttv android ios
CASES = [
    (IPHONE, DeviceFlags(False, True, False, False, False, True)),
    (IPAD, DeviceFlags(False, False, True, False, False, True)),
    (ANDROID_PHONE, DeviceFlags(False, True, False, False, True, False)),
    (ANDROID_TABLET, DeviceFlags(False, False, True, False, True, False)),
    (KINDLE, DeviceFlags(False, False, True, False, True, False)),
    (SAMSUNG_TV, DeviceFlags(False, False, False, True, False, False)),
    (LG_WEBOS, DeviceFlags(False, False, False, True, False, False)),
    (APPLE_TV, DeviceFlags(False, False, False, True, False, False)),
    (CHROME_DESKTOP, DeviceFlags(True, False, False, False, False, False)),
    (MAC_SAFARI, DeviceFlags(True, False, False, False, False, False)),
    (FIRE_TV, DeviceFlags(False, False, False, True, True, False)),
    (IE_TABLET_PC, DeviceFlags(True, False, False, False, False, False)),
    (CURL, DeviceFlags(True, False, False, False, False, False)),
    ("", DeviceFlags(True, False, False, False, False, False)),
    (None, DeviceFlags(True, False, False, False, False, False)),
]


@pytest.mark.parametrize(("ua", "expected"), CASES)
def test_device_flags(ua: str | None, expected: DeviceFlags) -> None:
    assert device_flags(ua) == expected


def test_a_long_user_agent_is_classified_the_same() -> None:
    padded = IPHONE + " x" * 1000
    assert device_flags(padded) == device_flags(IPHONE)


def test_an_android_tablet_advertising_mobile_is_both() -> None:
    # CloudFront: "for some tablet devices, ... both Mobile and Tablet" can be true.
    ua = ANDROID_PHONE.replace("Pixel 8", "SM-T870")
    flags = device_flags(ua)
    assert flags.is_tablet and flags.is_mobile and flags.is_android and not flags.is_desktop


@given(st.text(max_size=300))
def test_any_text_gives_consistent_flags(ua: str) -> None:
    flags = device_flags(ua)
    assert flags.is_desktop == (not (flags.is_mobile or flags.is_tablet or flags.is_smarttv))
