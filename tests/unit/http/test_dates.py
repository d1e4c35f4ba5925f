"""HTTP-date parsing and formatting (RFC 9110 §5.6.7)."""

from __future__ import annotations

import calendar
import email.utils

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openfront.http.dates import HttpDateCache, fixdate_seconds, format_http_date, parse_http_date

FUZZ = settings(deadline=None, max_examples=300)
RFC_EXAMPLE = 784111777.0  # Sun, 06 Nov 1994 08:49:37 GMT
YEAR_2025 = calendar.timegm((2025, 6, 1, 0, 0, 0))
# Years 1 to 9999, the range an IMF-fixdate's four digits can express.
FIRST_SECOND = calendar.timegm((1, 1, 1, 0, 0, 0))
LAST_SECOND = calendar.timegm((9999, 12, 31, 23, 59, 59))


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  # obsolete RFC 850
        "Sun Nov  6 08:49:37 1994",  # ANSI C asctime()
        "Sun Nov 06 08:49:37 1994",
        "  Sun, 06 Nov 1994 08:49:37 GMT  ",
        "sun, 06 nov 1994 08:49:37 gmt",  # caches match case-insensitively (RFC 9111 §4.2)
        "SUNDAY, 06-NOV-94 08:49:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun,  06  Nov  1994  08:49:37  GMT",
    ],
)
def test_rfc_9110_example_in_every_form(value: str) -> None:
    assert parse_http_date(value) == RFC_EXAMPLE


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
        ("Wed, 31 Dec 1969 23:59:59 GMT", -1.0),
        ("Tue, 29 Feb 2000 12:00:00 GMT", calendar.timegm((2000, 2, 29, 12, 0, 0))),
        ("Fri, 31 Dec 9999 23:59:59 GMT", LAST_SECOND),
        ("Mon, 01 Jan 0001 00:00:00 GMT", FIRST_SECOND),
        # Second 60 is a leap second: it lands on the next minute, as POSIX time does.
        ("Sat, 31 Dec 2016 23:59:60 GMT", calendar.timegm((2017, 1, 1, 0, 0, 0))),
        ("Thu Feb 29 00:00:00 2024", calendar.timegm((2024, 2, 29, 0, 0, 0))),
        ("Thursday, 29-Feb-24 00:00:00 GMT", calendar.timegm((2024, 2, 29, 0, 0, 0))),
        # The weekday is not checked against the date.
        ("Mon, 06 Nov 1994 08:49:37 GMT", RFC_EXAMPLE),
    ],
)
def test_valid_dates(value: str, expected: float) -> None:
    assert parse_http_date(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "garbage",
        "0",
        "-1",
        "Sun, 06 Nov 1994 08:49:37",  # no zone
        "Sun, 06 Nov 1994 08:49:37 UTC",  # only GMT counts for a cache (RFC 9111 §4.2)
        "Sun, 06 Nov 1994 08:49:37 +0000",
        "Sun, 06 Nov 1994 08:49:37 GMT extra",
        "Sun, 06 Nov 94 08:49:37 GMT",  # two-digit year in IMF-fixdate
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",  # November has 30 days
        "Sun, 29 Feb 1995 08:49:37 GMT",  # not a leap year
        "Sun, 29 Feb 1900 08:49:37 GMT",  # century, not a leap year
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 0000 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Nov 1994 8:49:37 GMT",
        "Sun, 06 Nov 1994 08:49 GMT",
        "Sun, 06 Nov １９９４ 08:49:37 GMT",  # non-ASCII digits
        "Sun, 06 Nov 19_4 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37",
        "Sunday, 06-Nov-94 08:49:37 PST",
        "Sun Nov  6 08:49:37 94",
        "Sun Nov  6 08:49:37 1994 GMT",
        "Sun Nov 31 08:49:37 1994",
        "Sun Nov  6 08:49:37",
        "Sun, 06 Nov 1994 08:49:37 GMT\r\nX-Evil: 1",
    ],
)
def test_invalid_dates_are_none(value: str | None) -> None:
    assert parse_http_date(value) is None


@pytest.mark.parametrize(
    ("yy", "now", "year"),
    [
        # Without "now", two-digit years map onto 1970-2069.
        ("70", None, 1970),
        ("99", None, 1999),
        ("00", None, 2000),
        ("69", None, 2069),
        # With "now", more than 50 years ahead means the previous century (RFC 9110 §5.6.7).
        ("75", YEAR_2025, 2075),
        ("76", YEAR_2025, 1976),
        ("25", YEAR_2025, 2025),
        ("99", YEAR_2025, 1999),
        # The window slides: late in a century, small years are the next century's.
        ("10", calendar.timegm((2090, 1, 1, 0, 0, 0)), 2110),
        ("40", calendar.timegm((2090, 1, 1, 0, 0, 0)), 2140),
        ("41", calendar.timegm((2090, 1, 1, 0, 0, 0)), 2041),
        ("49", calendar.timegm((2099, 12, 31, 0, 0, 0)), 2149),
        ("50", calendar.timegm((2099, 12, 31, 0, 0, 0)), 2050),
        ("00", float("nan"), 2000),  # an unusable now falls back to the fixed window
    ],
)
def test_rfc850_two_digit_year(yy: str, now: float | None, year: int) -> None:
    ts = parse_http_date(f"Thursday, 01-Jan-{yy} 00:00:00 GMT", now=now)
    assert ts == calendar.timegm((year, 1, 1, 0, 0, 0))


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        (RFC_EXAMPLE, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (RFC_EXAMPLE + 0.999, "Sun, 06 Nov 1994 08:49:37 GMT"),  # the second it falls in
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (-0.5, "Wed, 31 Dec 1969 23:59:59 GMT"),
        (FIRST_SECOND, "Mon, 01 Jan 0001 00:00:00 GMT"),
        (LAST_SECOND, "Fri, 31 Dec 9999 23:59:59 GMT"),
    ],
)
def test_format(ts: float, expected: str) -> None:
    assert format_http_date(ts) == expected


@pytest.mark.parametrize(
    "ts", [float("nan"), float("inf"), -float("inf"), LAST_SECOND + 1, FIRST_SECOND - 1, 1e300]
)
def test_format_out_of_range_is_a_value_error(ts: float) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        format_http_date(ts)


@FUZZ
@given(st.integers(min_value=FIRST_SECOND, max_value=LAST_SECOND))
def test_parse_format_round_trip(ts: int) -> None:
    assert parse_http_date(format_http_date(ts)) == ts


@FUZZ
@given(st.integers(min_value=0, max_value=LAST_SECOND))
def test_format_matches_stdlib(ts: int) -> None:
    assert format_http_date(ts) == email.utils.formatdate(ts, usegmt=True)


@FUZZ
@given(st.text())
def test_parse_never_raises_on_text(value: str) -> None:
    result = parse_http_date(value)
    assert result is None or isinstance(result, float)


@FUZZ
@given(
    st.from_regex(
        r"[A-Za-z]{3,9},? [0-9 ]{1,3}[ -][A-Za-z]{3}[ -][0-9]{2,5} [0-9]{1,3}:[0-9]{1,3}:[0-9]{1,3}"
        r"( GMT| [0-9]{4})?",
        fullmatch=True,
    ),
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
)
def test_parse_never_raises_on_near_dates(value: str, now: float | None) -> None:
    result = parse_http_date(value, now=now)
    assert result is None or (FIRST_SECOND <= result <= LAST_SECOND + 1)


def test_date_cache_formats_each_second_once() -> None:
    cache = HttpDateCache()
    first = cache(RFC_EXAMPLE + 0.1)
    assert first == b"Sun, 06 Nov 1994 08:49:37 GMT"
    assert cache(RFC_EXAMPLE + 0.9) is first  # same second: the same object, not recomputed
    assert cache(RFC_EXAMPLE + 1.0) == b"Sun, 06 Nov 1994 08:49:38 GMT"
    assert cache(RFC_EXAMPLE) == b"Sun, 06 Nov 1994 08:49:37 GMT"  # a clock step back too


@FUZZ
@given(st.lists(st.floats(min_value=0, max_value=2**33), min_size=1, max_size=20))
def test_date_cache_agrees_with_format(times: list[float]) -> None:
    cache = HttpDateCache()
    for now in times:
        assert cache(now) == format_http_date(int(now)).encode()


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (b"Thu, 26 Nov 2026 03:30:02 GMT", 1795663802),
        (b"Sun, 06 Nov 1994 08:49:37 GMT", 784111777),
        (b"Sunday, 06-Nov-94 08:49:37 GMT", 0),  # RFC 850 does not format back
        (b"Sun Nov  6 08:49:37 1994", 0),  # asctime neither
        (b"Sun, 06 Nov 1994 08:49:37 gmt", 0),
        (b"Mon, 06 Nov 1994 08:49:37 GMT", 0),  # wrong weekday
        (b"Sun, 6 Nov 1994 08:49:37 GMT", 0),  # not two-digit day
        (b"Thu, 01 Jan 1970 00:00:00 GMT", 0),  # 0 is "none"
        (b"Sun, 07 Feb 2106 06:28:16 GMT", 0),  # past 32 bits
        (b"Sun, 06 Nov 1994 08:49:37 G\xffT", 0),
        (b"", 0),
    ],
)
def test_fixdate_seconds_only_for_dates_that_format_back(value: bytes, seconds: int) -> None:
    assert fixdate_seconds(value) == seconds
    if seconds:
        assert format_http_date(seconds).encode() == value


@given(st.integers(min_value=1, max_value=(1 << 32) - 1))
@settings(max_examples=200)
def test_fixdate_seconds_round_trips_every_32_bit_second(seconds: int) -> None:
    assert fixdate_seconds(format_http_date(seconds).encode()) == seconds
