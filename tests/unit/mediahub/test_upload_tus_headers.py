"""tus header parsing: lengths, metadata, checksums, method override."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openfront.mediahub.tus_protocol import (
    TusHeaderError,
    encode_metadata,
    method_of,
    parse_checksum,
    parse_length,
    parse_metadata,
)


def test_lengths() -> None:
    assert parse_length("0", "Upload-Length") == 0
    assert parse_length(" 1024 ", "Upload-Offset") == 1024
    for bad in (None, "", "-1", "1.5", "1e3", "0x10", "1" * 21):
        with pytest.raises(TusHeaderError):
            parse_length(bad, "Upload-Length")


def test_metadata() -> None:
    assert parse_metadata(None) == {}
    assert parse_metadata("filename aGVsbG8udHh0,is_confidential") == {
        "filename": "hello.txt",
        "is_confidential": "",
    }
    assert parse_metadata("title c8WCb8WEY2U=") == {"title": "słońce"}
    for bad in ("a b c", "a !!", "a YQ==,a Yg==", " , ", "a /w=="):
        with pytest.raises(TusHeaderError):
            parse_metadata(bad)


@given(
    st.dictionaries(
        st.text(
            alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=","),
            min_size=1,
            max_size=20,
        ),
        st.text(max_size=50),
        max_size=5,
    )
)
def test_metadata_round_trips(values: dict[str, str]) -> None:
    assert parse_metadata(encode_metadata(values)) == values


def test_checksums() -> None:
    digest = base64.b64encode(hashlib.sha1(b"abc").digest()).decode()
    parsed = parse_checksum(f"sha1 {digest}")
    assert parsed is not None and parsed.algorithm == "sha1"
    assert parsed.digest == hashlib.sha1(b"abc").digest()
    assert parse_checksum(None) is None
    md5 = base64.b64encode(hashlib.md5(b"").digest()).decode()
    assert parse_checksum(f"MD5 {md5}") is not None
    for bad in ("crc32 AAAA", f"sha1 {md5}", "sha1 ***", "sha256"):
        with pytest.raises(TusHeaderError):
            parse_checksum(bad)


def test_method_override() -> None:
    assert method_of("POST", "patch") == "PATCH"
    assert method_of("post", None) == "POST"
    assert method_of("POST", " ") == "POST"
