"""Where outputs go, their headers, the upload order, and playback URLs and signatures."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from openfront.mediahub.jobs.outputs import (
    IMMUTABLE,
    PLAYLIST,
    cache_control,
    content_type,
    output_keys,
    upload_order,
)
from openfront.mediahub.playback import playback_urls, set_cookie_line, sign_playback
from openfront.signing import Allowed, Denied, check_request, load_public_key

KEY = "videos/4f0c6b1e-8d0a-4c52-9a51-2a8f6f0f3c11/1764000000000_trip.mp4"


def test_outputs_sit_under_the_source_key() -> None:
    keys = output_keys(KEY)
    assert keys.prefix == KEY + "/"
    assert keys.hls == KEY + "/hls/master.m3u8"
    assert keys.poster == KEY + "/poster.jpg"
    assert keys.thumbnails == KEY + "/thumbs/thumbnails.vtt"


@pytest.mark.parametrize(
    ("name", "ctype", "cache"),
    [
        ("hls/master.m3u8", "application/vnd.apple.mpegurl", PLAYLIST),
        ("hls/360p/index.m3u8", "application/vnd.apple.mpegurl", PLAYLIST),
        ("hls/360p/init_1.mp4", "video/mp4", IMMUTABLE),
        ("hls/360p/seg_00003.m4s", "video/iso.segment", IMMUTABLE),
        ("poster.jpg", "image/jpeg", IMMUTABLE),
        ("thumbs/sprite.jpg", "image/jpeg", IMMUTABLE),
        ("thumbs/thumbnails.vtt", "text/vtt; charset=utf-8", IMMUTABLE),
        ("odd.bin", "application/octet-stream", IMMUTABLE),
    ],
)
def test_headers(name: str, ctype: str, cache: str) -> None:
    assert content_type(name) == ctype
    assert cache_control(name) == cache


def test_the_master_playlist_goes_last_after_what_it_names() -> None:
    files = (
        "hls/master.m3u8",
        "hls/240p/index.m3u8",
        "poster.jpg",
        "hls/240p/seg_00000.m4s",
        "hls/240p/init_0.mp4",
    )
    assert upload_order(files) == [
        ["hls/240p/init_0.mp4", "hls/240p/seg_00000.m4s", "poster.jpg"],
        ["hls/240p/index.m3u8"],
        ["hls/master.m3u8"],
    ]
    assert upload_order(()) == []


def test_playback_urls_keep_a_base_path() -> None:
    urls = playback_urls("https://cdn.example/media", KEY)
    assert urls.base == f"https://cdn.example/media/{KEY}/"
    assert urls.as_json() == {
        "hls_url": f"https://cdn.example/media/{KEY}/hls/master.m3u8",
        "poster_url": f"https://cdn.example/media/{KEY}/poster.jpg",
        "thumbnails_url": f"https://cdn.example/media/{KEY}/thumbs/thumbnails.vtt",
    }


def _keys() -> tuple[rsa.RSAPrivateKey, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()


def test_one_signature_opens_every_file_of_the_video_and_nothing_else() -> None:
    private, public = _keys()
    trusted = {"K2JCJMDEHXQW5F": load_public_key(public)}
    urls = playback_urls("https://localhost:8443", KEY)
    signed = sign_playback(
        urls, "K2JCJMDEHXQW5F", private, now=1_800_000_000, ttl=600, cookie_domain=None
    )
    assert signed.expires == 1_800_000_600
    assert set(signed.cookies) == {
        "CloudFront-Policy",
        "CloudFront-Signature",
        "CloudFront-Key-Pair-Id",
    }
    segment = f"https://localhost:8443/{KEY}/hls/360p/seg_00001.m4s"

    def check(url: str, query: list[tuple[str, str]], cookies: dict[str, str], now: float) -> bool:
        result = check_request(
            url, query, cookies, key_groups=trusted, now=now, client_ip="127.0.0.1"
        )
        assert isinstance(result, Allowed | Denied)
        return isinstance(result, Allowed)

    assert check(segment, [], signed.cookies, 1_800_000_100)
    assert check(urls.hls, [], signed.cookies, 1_800_000_599)
    assert not check(urls.hls, [], signed.cookies, 1_800_000_600)  # expired
    other = "https://localhost:8443/videos/someone-else/1_a.mp4/hls/master.m3u8"
    assert not check(other, [], signed.cookies, 1_800_000_100)
    # The same fields as a query on any URL under the prefix (the signed-URL fallback).
    query = parse_qsl(signed.signed_url(segment).partition("?")[2])
    assert check(segment, query, {}, 1_800_000_100)


@pytest.mark.parametrize(
    ("secure", "domain", "line"),
    [
        (
            True,
            "example.com",
            "CloudFront-Policy=abc; Path=/v/; Max-Age=60; Domain=example.com; HttpOnly; "
            "SameSite=None; Secure",
        ),
        (False, None, "CloudFront-Policy=abc; Path=/v/; Max-Age=60; HttpOnly; SameSite=Lax"),
    ],
)
def test_set_cookie_lines(secure: bool, domain: str | None, line: str) -> None:
    assert (
        set_cookie_line(
            "CloudFront-Policy", "abc", path="/v/", domain=domain, max_age=60, secure=secure
        )
        == line
    )
