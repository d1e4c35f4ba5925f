"""Playback URLs on the CDN and the signed cookies (or URLs) that open a private video.

Pure: URLs from the CDN base and the video's key, a CloudFront custom policy whose resource is
the video's output prefix with a wildcard, and the ``Set-Cookie`` lines scoped to that prefix.
``now`` is an argument. One policy covers the master playlist, every rendition's playlist and
segment, the poster and the thumbnails, which is why cookies (sent by the browser with every
request under the path) suit HLS better than a signed URL per file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from openfront.mediahub.jobs.outputs import output_keys
from openfront.signing import PrivateKey, build_policy, sign_cookies

COOKIE_NAMES = ("CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id")


@dataclass(frozen=True, slots=True)
class PlaybackUrls:
    base: str  # the video's output prefix on the CDN, ending in "/"
    hls: str
    poster: str
    thumbnails: str

    def as_json(self) -> dict[str, str]:
        return {"hls_url": self.hls, "poster_url": self.poster, "thumbnails_url": self.thumbnails}


def playback_urls(cdn_url: str, key: str) -> PlaybackUrls:
    """The CDN URLs of a processed video (``cdn_url`` has no trailing slash)."""
    keys = output_keys(key)

    def url(object_key: str) -> str:
        return f"{cdn_url}/{quote(object_key, safe='/')}"

    return PlaybackUrls(url(keys.prefix), url(keys.hls), url(keys.poster), url(keys.thumbnails))


@dataclass(frozen=True, slots=True)
class SignedPlayback:
    expires: int  # Unix time
    cookies: dict[str, str]  # name -> value
    set_cookie: tuple[str, ...]  # Set-Cookie header values
    cookie_path: str
    query: str  # Policy=…&Signature=…&Key-Pair-Id=…: append to any URL under the prefix

    def signed_url(self, url: str) -> str:
        return f"{url}{'&' if '?' in url else '?'}{self.query}"


def sign_playback(
    urls: PlaybackUrls,
    key_pair_id: str,
    private_key: PrivateKey,
    *,
    now: float,
    ttl: int,
    cookie_domain: str | None,
) -> SignedPlayback:
    """Cookies and a query for every URL under the video's prefix, valid ``ttl`` seconds."""
    expires = int(now) + ttl
    policy = build_policy(urls.base + "*", expires)
    cookies = sign_cookies(urls.base + "*", key_pair_id, private_key, policy=policy)
    path = urlsplit(urls.base).path
    secure = urls.base.startswith("https://")
    lines = tuple(
        set_cookie_line(name, value, path=path, domain=cookie_domain, max_age=ttl, secure=secure)
        for name, value in cookies.items()
    )
    query = "&".join(
        f"{name.removeprefix('CloudFront-')}={value}" for name, value in cookies.items()
    )
    return SignedPlayback(expires, cookies, lines, path, query)


def set_cookie_line(
    name: str, value: str, *, path: str, domain: str | None, max_age: int, secure: bool
) -> str:
    """A ``Set-Cookie`` value: HttpOnly (scripts never need it), scoped to the video's path.

    Over HTTPS, ``SameSite=None; Secure`` so the player's cross-site requests to the CDN carry
    it; over plain HTTP browsers refuse ``SameSite=None``, so ``Lax`` (same-site only).
    """
    parts = [f"{name}={value}", f"Path={path}", f"Max-Age={max_age}"]
    if domain:
        parts.append(f"Domain={domain}")
    parts += ["HttpOnly", "SameSite=None", "Secure"] if secure else ["HttpOnly", "SameSite=Lax"]
    return "; ".join(parts)


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
