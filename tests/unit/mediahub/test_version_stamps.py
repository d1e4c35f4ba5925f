"""MediaHub's keys and version stamps: the stamp a key carries and the metadata a write sends."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from openfront.mediahub.keys_layout import KEY_PREFIX, safe_filename
from openfront.storage.versioning import (
    VERSION_META,
    VersionStamp,
    key_region,
    key_stamp,
    stamp_metadata,
    upload_key,
)

USER = uuid.UUID("4f0c6b1e-8d0a-4c52-9a51-2a8f6f0f3c11")
NS = 1_764_086_400_123_456_789


def test_a_key_keeps_the_seed_layout_and_carries_its_stamp() -> None:
    stamp = VersionStamp(NS, "sa-east-1")
    key = upload_key(str(USER), safe_filename("../My Trip/café (1).MP4"), stamp, KEY_PREFIX)
    assert key == f"videos/{USER}/1764086400123456789-sa-east-1_caf_1.MP4"
    assert key_stamp(key) == stamp and key_region(key) == "sa-east-1"
    # Outputs live under the key: their names never hide the upload's stamp.
    assert key_stamp(key + "/hls/master.m3u8") is None
    assert key_stamp(f"videos/{USER}/1764086400123_clip.mp4") is None  # a key from before stamps


def test_same_instant_same_name_in_two_regions_gives_two_keys() -> None:
    name = safe_filename("clip.mp4")
    seoul = upload_key(str(USER), name, VersionStamp(NS, "ap-northeast-2"), KEY_PREFIX)
    sao_paulo = upload_key(str(USER), name, VersionStamp(NS, "sa-east-1"), KEY_PREFIX)
    assert seoul != sao_paulo


@given(st.text(max_size=300))
def test_a_safe_file_name_goes_into_the_key_unchanged(name: str) -> None:
    safe = safe_filename(name)
    key = upload_key(str(USER), safe, VersionStamp(NS, "ap-northeast-2"), KEY_PREFIX)
    assert key.endswith("_" + safe)
    assert key_stamp(key) == VersionStamp(NS, "ap-northeast-2")


def test_stamp_metadata_is_botos_metadata_for_the_header() -> None:
    stamp = VersionStamp(NS, "ap-northeast-2")
    assert stamp_metadata(stamp) == {VERSION_META: "1764086400123456789-ap-northeast-2"}
