"""HTTP-date parsing and formatting (RFC 9110 §5.6.7)."""

from __future__ import annotations

import datetime
import math
import re

_SHORT_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_LONG_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {m.lower(): i for i, m in enumerate(_MONTH_NAMES, 1)}

_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
_DAY = 86_400

# Caches match HTTP-dates case-insensitively (RFC 9111 §4.2) and only the GMT zone counts. The
# weekday is checked for shape but not against the date: a wrong weekday says nothing useful.
_WDAY = "(?:" + "|".join(_LONG_DAYS + _SHORT_DAYS) + ")"
_MON = "(" + "|".join(_MONTH_NAMES) + ")"
_TIME = r"([0-9]{2}):([0-9]{2}):([0-9]{2})"
_IMF_FIXDATE = re.compile(
    rf"{_WDAY}, +([0-9]{{1,2}}) +{_MON} +([0-9]{{4}}) +{_TIME} +GMT", re.IGNORECASE | re.ASCII
)
_RFC850 = re.compile(
    rf"{_WDAY}, +([0-9]{{1,2}})-{_MON}-([0-9]{{2}}) +{_TIME} +GMT", re.IGNORECASE | re.ASCII
)
_ASCTIME = re.compile(
    rf"{_WDAY} +{_MON} +([0-9]{{1,2}}) +{_TIME} +([0-9]{{4}})", re.IGNORECASE | re.ASCII
)


def format_http_date(ts: float) -> str:
    """IMF-fixdate of the second containing ``ts``, the only form a sender may generate."""
    if not math.isfinite(ts):
        raise ValueError(f"cannot format a non-finite timestamp: {ts!r}")
    seconds = math.floor(ts)
    days, rem = divmod(seconds, _DAY)
    try:
        date = datetime.date.fromordinal(days + _EPOCH_ORDINAL)
    except (ValueError, OverflowError):
        raise ValueError(f"timestamp outside years 1-9999: {ts!r}") from None
    hour, rem = divmod(rem, 3600)
    minute, second = divmod(rem, 60)
    return (
        f"{_SHORT_DAYS[date.weekday()]}, {date.day:02d} {_MONTH_NAMES[date.month - 1]} "
        f"{date.year:04d} {hour:02d}:{minute:02d}:{second:02d} GMT"
    )


def parse_http_date(value: str | None, *, now: float | None = None) -> float | None:
    """Parse IMF-fixdate, RFC 850 and asctime forms; None when invalid (RFC 9110 §5.6.7).

    ``now`` only matters for the two-digit years of RFC 850 dates, read as the year within
    (now - 50, now + 50]: more than 50 years ahead is the previous century. Without ``now``
    two-digit years map onto 1970-2069, since no HTTP date predates 1970.
    """
    if not value:
        return None
    value = value.strip()
    m = _IMF_FIXDATE.fullmatch(value)
    if m is not None:
        day, mon, year, hh, mm, ss = m.groups()
        return _timestamp(int(year), mon, int(day), int(hh), int(mm), int(ss))
    m = _RFC850.fullmatch(value)
    if m is not None:
        day, mon, yy, hh, mm, ss = m.groups()
        year = _four_digit_year(int(yy), now)
        return _timestamp(year, mon, int(day), int(hh), int(mm), int(ss))
    m = _ASCTIME.fullmatch(value)
    if m is not None:
        mon, day, hh, mm, ss, year = m.groups()
        return _timestamp(int(year), mon, int(day), int(hh), int(mm), int(ss))
    return None


def _four_digit_year(yy: int, now: float | None) -> int:
    """RFC 9110 §5.6.7: more than 50 years in the future means the previous century."""
    now_year = _year_of(now)
    if now_year is None:
        return yy + (1900 if yy >= 70 else 2000)
    year = now_year - now_year % 100 + yy
    if year > now_year + 50:
        return year - 100
    # The same window read the other way: a year 50 or more behind is the next century's.
    return year + 100 if year <= now_year - 50 else year


def _year_of(ts: float | None) -> int | None:
    if ts is None or not math.isfinite(ts):
        return None
    try:
        return datetime.date.fromordinal(int(ts // _DAY) + _EPOCH_ORDINAL).year
    except (ValueError, OverflowError):
        return None


def _timestamp(year: int, mon: str, day: int, hh: int, mm: int, ss: int) -> float | None:
    # Second 60 is a leap second; like POSIX time it lands on the next minute's second 0.
    if year < 1 or hh > 23 or mm > 59 or ss > 60:
        return None
    try:
        date = datetime.date(year, _MONTHS[mon.lower()], day)
    except ValueError:
        return None
    days = date.toordinal() - _EPOCH_ORDINAL
    return float(days * _DAY + hh * 3600 + mm * 60 + ss)


def fixdate_seconds(value: bytes) -> int:
    """The seconds since the epoch of an IMF-fixdate that :func:`format_http_date` gives back
    byte for byte, else 0 (another form, other spacing or case, before 1970 or after 2105)."""
    if len(value) != 29 or not value.endswith(b" GMT"):
        return 0
    try:
        t = parse_http_date(value.decode("ascii"))
    except UnicodeDecodeError:
        return 0
    if t is None or not 0 < t < 1 << 32:
        return 0
    seconds = int(t)
    return seconds if format_http_date(seconds).encode("ascii") == value else 0


class HttpDateCache:
    """The ``Date`` header value for the current second, formatted once per second."""

    __slots__ = ("_second", "_value")

    def __init__(self) -> None:
        self._second: int | None = None
        self._value = b""

    def __call__(self, now: float) -> bytes:
        second = int(now)
        if second != self._second:
            self._value = format_http_date(second).encode("ascii")
            self._second = second
        return self._value
