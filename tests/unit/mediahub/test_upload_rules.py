"""Upload refusals (size, type, quotas) and listing cursors, without a server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openfront.config.mediahub import MediaHubConfig, mediahub_config
from openfront.errors import ConfigError
from openfront.mediahub.cleanup import cutoff
from openfront.mediahub.errors import ApiError
from openfront.mediahub.paging import BadPage, decode_cursor, encode_cursor, parse_limit
from openfront.mediahub.uploads import UploadRequest, check_quota, check_upload, guess_video_type

CFG = MediaHubConfig.model_validate(
    {"uploads": {"max_file_size": 1000, "quota_bytes": 2000, "quota_videos": 3}}
)


def _refusal(req: UploadRequest, used: tuple[int, int] = (0, 0)) -> tuple[int, str, object]:
    with pytest.raises(ApiError) as caught:
        check_upload(CFG, req, used)
    body = caught.value.body()
    return caught.value.status, str(body["error"]), body.get("field") or body.get("limit")


def test_accepts_a_video() -> None:
    assert check_upload(CFG, UploadRequest("a b.mp4", 10, "video/mp4", ""), (2, 1990)) == "a_b.mp4"


@pytest.mark.parametrize(
    ("req", "used", "refusal"),
    [
        (UploadRequest("", 10, "video/mp4", ""), (0, 0), (400, "missing_field", "filename")),
        (UploadRequest("a.mp4", 0, "video/mp4", ""), (0, 0), (400, "invalid_field", "size")),
        (UploadRequest("a.mp4", 1001, "video/mp4", ""), (0, 0), (413, "file_too_large", "size")),
        (
            UploadRequest("a.mp4", 9, "audio/mpeg", ""),
            (0, 0),
            (415, "unsupported_type", "content_type"),
        ),
        (
            UploadRequest("a.mp4", 9, "video/", ""),
            (0, 0),
            (415, "unsupported_type", "content_type"),
        ),
        (UploadRequest("a.pdf", 9, "video/mp4", ""), (0, 0), (415, "unsupported_type", "filename")),
        (UploadRequest("a.mp4", 9, "video/mp4", ""), (3, 0), (403, "quota_exceeded", "videos")),
        (UploadRequest("a.mp4", 11, "video/mp4", ""), (1, 1990), (413, "quota_exceeded", "bytes")),
        (
            UploadRequest("a.mp4", 9, "video/mp4", "t" * 201),
            (0, 0),
            (400, "invalid_field", "title"),
        ),
    ],
)
def test_refusals(
    req: UploadRequest, used: tuple[int, int], refusal: tuple[int, str, object]
) -> None:
    assert _refusal(req, used) == refusal


def test_zero_quotas_mean_no_limit() -> None:
    cfg = MediaHubConfig.model_validate({"uploads": {"quota_bytes": 0, "quota_videos": 0}})
    assert check_upload(cfg, UploadRequest("a.mp4", 10, "video/mp4", ""), (10**6, 10**15))


def test_guessed_types() -> None:
    assert guess_video_type("clip.MP4") == "video/mp4"
    assert guess_video_type("clip.webm") == "video/webm"
    assert guess_video_type("notes") == "application/octet-stream"


@given(
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)),
    st.uuids(),
)
def test_cursors_round_trip(at: datetime, item: uuid.UUID) -> None:
    at = at.replace(tzinfo=UTC)
    assert decode_cursor(encode_cursor(at, item)) == (at, item)


def test_bad_pages() -> None:
    for bad in ("", "!!", "bm90IGEgY3Vyc29y", encode_cursor(datetime.now(UTC), uuid.uuid4())[:-3]):
        with pytest.raises(BadPage):
            decode_cursor(bad)
    assert parse_limit(None) == 20 and parse_limit("100") == 100
    for bad in ("0", "101", "-1", "x"):
        with pytest.raises(BadPage):
            parse_limit(bad)


def test_cleanup_cutoff() -> None:
    now = datetime(2030, 1, 2, tzinfo=UTC)
    assert cutoff(now, 3600) == now - timedelta(hours=1)


def test_upload_settings_are_checked() -> None:
    for bad in (
        {"part_size": 1024},
        {"max_file_size": "6TiB"},
        {"allowed_extensions": [".MP4"]},
        {"single_put_max": "6GiB"},
        {"abandon_after": 600, "url_ttl": 3600},
    ):
        with pytest.raises(ConfigError):
            mediahub_config({"uploads": bad}, "test")
    with pytest.raises(ConfigError):
        mediahub_config(
            {"storage": {"endpoint": "ftp://x", "bucket": "b1b", "credentials_file": "f"}}, "t"
        )


def test_without_usage_only_the_file_is_checked() -> None:
    """The service checks the file first, then the quotas inside the inserting transaction."""
    req = UploadRequest("a.mp4", 10, "video/mp4", "")
    assert check_upload(CFG, req) == "a.mp4"
    assert _refusal(req, (10**6, 10**15))[1] == "quota_exceeded"
    with pytest.raises(ApiError) as err:
        check_quota(CFG, 10, (10**6, 0))
    assert (err.value.status, err.value.code) == (403, "quota_exceeded")
