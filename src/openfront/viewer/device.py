"""Device type from User-Agent, with CloudFront-Is-*-Viewer semantics (several may be true).

CloudFront matches the User-Agent against a device list it does not publish; these patterns cover
the common families. A User-Agent that matches nothing (curl, bots, missing) is a desktop viewer.
iPadOS 13+ in its default "desktop site" mode sends a Macintosh User-Agent and counts as desktop,
as it does at CloudFront.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Case-sensitive on purpose: User-Agents spell these tokens one way, and IGNORECASE alternations
# cost several times more per request.
_SMARTTV = re.compile(
    r"SMART-?TV|Smart-?TV|SmartTv|Tizen[^;)]*TV|Web0S|webOS[^)]*TV|NetCast|HbbTV|BRAVIA|"
    r"AppleTV|Apple ?TV|tvOS|GoogleTV|Android ?TV|\bAFT[A-Z]|Roku|CrKey|"
    r"PlayStation|Xbox|Nintendo|Viera|AQUOS|PhilipsTV|Opera TV"
)
_ANDROID = re.compile(r"Android")
_IOS = re.compile(r"iPhone|iPad|iPod")
_TABLET = re.compile(
    r"iPad|Tablet(?! PC)|tablet|Kindle|Silk/|PlayBook|SM-[TXP]\d|GT-P\d|Nexus (?:7|9|10)\b|"
    r"KF[A-Z]{2,}\b|Lenovo TB|MediaPad|MatePad"
)
_PHONE = re.compile(
    r"iPhone|iPod|Windows Phone|IEMobile|BlackBerry|BB10|Opera Mini|Opera Mobi|"
    r"webOS|Symbian|KaiOS|Mobile"
)
# Android phones say "Mobile"; Android without it is a tablet.
_ANDROID_MOBILE = re.compile(r"\bMobile\b")

_CACHE_MAX_UA = 512  # longer User-Agents are classified but not memoised


@dataclass(frozen=True, slots=True)
class DeviceFlags:
    """The six CloudFront-Is-*-Viewer values."""

    is_desktop: bool
    is_mobile: bool
    is_tablet: bool
    is_smarttv: bool
    is_android: bool
    is_ios: bool


DESKTOP = DeviceFlags(True, False, False, False, False, False)


def device_flags(user_agent: str | None) -> DeviceFlags:
    """Classify a User-Agent; unknown or missing means desktop."""
    if not user_agent:
        return DESKTOP
    if len(user_agent) <= _CACHE_MAX_UA:
        return _classify_cached(user_agent)
    return _classify(user_agent)


def _classify(ua: str) -> DeviceFlags:
    android = bool(_ANDROID.search(ua))
    ios = bool(_IOS.search(ua))
    smarttv = bool(_SMARTTV.search(ua))
    if smarttv:  # checked first: TV browsers also say Mobile, webOS or Android
        return DeviceFlags(False, False, False, True, android, False)
    tablet = bool(_TABLET.search(ua)) or (android and not _ANDROID_MOBILE.search(ua))
    if android:
        mobile = bool(_ANDROID_MOBILE.search(ua))
    elif "iPad" in ua:
        # iPad Safari says "Mobile/15E148" but CloudFront reports iPads as tablets only.
        mobile = False
    else:
        mobile = bool(_PHONE.search(ua))
    return DeviceFlags(not (mobile or tablet), mobile, tablet, False, android, ios)


_classify_cached = lru_cache(maxsize=1024)(_classify)
