from __future__ import annotations

import pytest

from openfront.cache.compress import choose_encoding, compressible, weak_etag


@pytest.mark.parametrize(
    ("normalised", "coding"),
    [(None, None), ("", None), ("br,gzip", "br"), ("br", "br"), ("gzip", "gzip")],
)
def test_choose_encoding(normalised: str | None, coding: str | None) -> None:
    assert choose_encoding(normalised) == coding


@pytest.mark.parametrize(
    ("status", "ctype", "encoding", "length", "ok"),
    [
        (200, "text/css", None, 5000, True),
        (404, "text/html; charset=utf-8", None, 5000, True),
        (403, "application/json", "identity", 5000, True),
        (200, "TEXT/PLAIN", None, 1000, True),
        (200, "text/plain", None, 10_000_000, True),
        (200, "text/plain", None, 999, False),  # under 1,000 bytes
        (200, "text/plain", None, 10_000_001, False),  # over 10,000,000 bytes
        (200, "text/plain", None, None, False),  # no Content-Length
        (200, "image/png", None, 5000, False),
        (200, None, None, 5000, False),
        (200, "text/css", "gzip", 5000, False),  # already encoded
        (206, "text/css", None, 5000, False),
        (500, "text/css", None, 5000, False),
    ],
)
def test_compressible(status: int, ctype: str | None, encoding: str | None, length: int | None,
                      ok: bool) -> None:  # fmt: skip
    assert compressible(status, ctype, encoding, length) is ok


@pytest.mark.parametrize(
    ("etag", "weak"),
    [('"abc"', 'W/"abc"'), ('W/"abc"', 'W/"abc"'), ("abc", None), (None, None)],
)
def test_weak_etag(etag: str | None, weak: str | None) -> None:
    assert weak_etag(etag) == weak
