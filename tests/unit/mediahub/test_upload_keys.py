"""Key layout, file name sanitising and multipart part plans."""

from __future__ import annotations

import re
import unicodedata
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openfront.mediahub.keys_layout import (
    MAX_FILENAME,
    S3_MAX_PARTS,
    S3_MIN_PART,
    MiB,
    derived_prefix,
    extension,
    plan_parts,
    safe_filename,
    video_key,
)

SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@given(st.text(max_size=400))
def test_any_name_becomes_a_safe_single_key_part(name: str) -> None:
    safe = safe_filename(name)
    assert SAFE.match(safe), safe
    assert 1 <= len(safe) <= MAX_FILENAME
    assert ".." not in safe.split(".")[0] and "/" not in safe
    assert safe_filename(safe) == safe  # idempotent


@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    st.sampled_from(["mp4", "MOV", "webm", "mkv"]),
)
def test_the_extension_survives(stem: str, ext: str) -> None:
    assert safe_filename(f"{stem}.{ext}").endswith(f".{ext}")
    assert extension(safe_filename(f"{stem}.{ext}")) == ext.lower()


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("holiday.mp4", "holiday.mp4"),
        ("../../etc/passwd.mp4", "passwd.mp4"),
        ("C:\\Users\\me\\clip.mov", "clip.mov"),
        ("서울 밤.mp4", "video.mp4"),
        ("my  trip (1).MP4", "my_trip_1.MP4"),
        ("a\x00b\u200b\nc.webm", "abc.webm"),
        ("..", "video"),
        ("./My Trip/café (1).MP4", "caf_1.MP4"),
        (".mp4", "video.mp4"),
        ("noext", "noext"),
        ("a.b c", "a.b_c"),
    ],
)
def test_examples(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def test_nfc_first() -> None:
    decomposed = unicodedata.normalize("NFD", "café.mp4")
    assert safe_filename(decomposed) == safe_filename("café.mp4") == "caf.mp4"


def test_long_names_are_capped_keeping_the_extension() -> None:
    safe = safe_filename("x" * 500 + ".mp4")
    assert len(safe) == MAX_FILENAME and safe.endswith("x.mp4")


def test_key_layout() -> None:
    user = uuid.UUID("4f0c6b1e-8d0a-4c52-9a51-2a8f6f0f3c11")
    key = video_key(user, 1_764_000_000_123, "clip.mp4")
    assert key == "videos/4f0c6b1e-8d0a-4c52-9a51-2a8f6f0f3c11/1764000000123_clip.mp4"
    assert derived_prefix(key) == key + "/"


@given(
    st.integers(min_value=1, max_value=5 * 1024**4), st.integers(min_value=0, max_value=512 * MiB)
)
def test_part_plans_fit_s3(size: int, preferred: int) -> None:
    plan = plan_parts(size, preferred)
    assert plan.part_size >= S3_MIN_PART and plan.part_size % MiB == 0
    assert plan.count <= S3_MAX_PARTS
    assert (plan.count - 1) * plan.part_size < size <= plan.count * plan.part_size
    last = plan.size_of(plan.count, size)
    assert 0 < last <= plan.part_size


def test_part_plan_examples() -> None:
    assert plan_parts(12 * MiB, 5 * MiB).count == 3
    assert plan_parts(1024 * MiB, 16 * MiB).part_size == 16 * MiB
    assert plan_parts(200 * 1024 * MiB, 16 * MiB).part_size == 21 * MiB  # 10,000 parts cap
    with pytest.raises(ValueError):
        plan_parts(0, 5 * MiB)
