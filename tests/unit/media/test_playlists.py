"""Media playlists in, master playlist out (RFC 8216)."""

from __future__ import annotations

import pytest

from openfront.media.plan.playlists import (
    Bandwidth,
    Variant,
    avc_codec,
    codecs,
    master_playlist,
    measure_bandwidth,
    parse_media_playlist,
)

# As ffmpeg 9 writes it for one rendition.
MEDIA = """\
#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init_0.mp4"
#EXTINF:4.000000,
seg_00000.m4s
#EXTINF:4.000000,
seg_00001.m4s
#EXTINF:1.040000,
seg_00002.m4s
#EXT-X-ENDLIST
"""


def test_parse_media_playlist() -> None:
    playlist = parse_media_playlist(MEDIA)
    assert playlist.target_duration == 4
    assert playlist.init_uri == "init_0.mp4"
    assert playlist.ended
    assert [(s.uri, s.duration) for s in playlist.segments] == [
        ("seg_00000.m4s", 4.0),
        ("seg_00001.m4s", 4.0),
        ("seg_00002.m4s", 1.04),
    ]
    assert playlist.duration == pytest.approx(9.04)


def test_unfinished_playlist_has_no_endlist() -> None:
    assert not parse_media_playlist(MEDIA.replace("#EXT-X-ENDLIST\n", "")).ended


@pytest.mark.parametrize(
    "text", ["", "seg.ts\n", "#EXTM3U\nseg_00000.m4s\n", "#EXTM3U\n#EXTINF:x,\nseg.ts\n"]
)
def test_not_a_media_playlist(text: str) -> None:
    with pytest.raises(ValueError):
        parse_media_playlist(text)


def test_bandwidth_is_the_peak_segment_and_the_average() -> None:
    # 500 kB in 4 s = 1 Mb/s; 250 kB in 4 s = 500 kb/s; 100 kB in 1 s = 800 kb/s.
    bandwidth = measure_bandwidth([(500_000, 4.0), (250_000, 4.0), (100_000, 1.0)])
    assert bandwidth == Bandwidth(peak=1_000_000, average=round(850_000 * 8 / 9))
    with pytest.raises(ValueError):
        measure_bandwidth([(1000, 0.0)])


def test_master_playlist_lists_every_attribute() -> None:
    with_audio = "avc1.640015,mp4a.40.2"
    variants = [
        Variant("240p/index.m3u8", Bandwidth(500_000, 400_000), 426, 240, with_audio, 25.0),
        Variant("360p/index.m3u8", Bandwidth(900_000, 800_000), 640, 360, with_audio, 29.97),
        Variant("480p/index.m3u8", Bandwidth(1_500_000, 1_400_000), 854, 480, "avc1.64001f", None),
    ]
    assert master_playlist(variants) == (
        "#EXTM3U\n"
        "#EXT-X-VERSION:7\n"
        "#EXT-X-INDEPENDENT-SEGMENTS\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=500000,AVERAGE-BANDWIDTH=400000,RESOLUTION=426x240,"
        'CODECS="avc1.640015,mp4a.40.2",FRAME-RATE=25.000\n'
        "240p/index.m3u8\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=900000,AVERAGE-BANDWIDTH=800000,RESOLUTION=640x360,"
        'CODECS="avc1.640015,mp4a.40.2",FRAME-RATE=29.970\n'
        "360p/index.m3u8\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=1500000,AVERAGE-BANDWIDTH=1400000,RESOLUTION=854x480,"
        'CODECS="avc1.64001f"\n'
        "480p/index.m3u8\n"
    )


def _init_segment(profile: int, compat: int, level: int) -> bytes:
    avcc = bytes([1, profile, compat, level, 0xFF, 0xE1])
    return b"\x00\x00\x00\x18ftypiso5" + b"\x00" * 16 + b"\x00\x00\x00\x20avcC" + avcc


def test_codecs_from_the_init_segment() -> None:
    assert avc_codec(_init_segment(0x64, 0x00, 0x1F)) == "avc1.64001f"
    assert avc_codec(_init_segment(0x42, 0xC0, 0x1E)) == "avc1.42c01e"
    assert codecs(_init_segment(0x64, 0, 0x15), has_audio=True) == "avc1.640015,mp4a.40.2"
    assert codecs(_init_segment(0x64, 0, 0x15), has_audio=False) == "avc1.640015"


@pytest.mark.parametrize("data", [b"", b"ftypiso5", b"avcC", b"avcC\x02\x64\x00\x1f"])
def test_no_avc_configuration(data: bytes) -> None:
    with pytest.raises(ValueError):
        avc_codec(data)
