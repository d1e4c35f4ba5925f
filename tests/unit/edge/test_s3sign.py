"""What the edge sends to an S3 origin: the signing decision, the path, the payload hash."""

from __future__ import annotations

import pytest

from openfront.cache.policy import Origin, S3Access, SigningBehavior
from openfront.edge.s3sign import S3Signer
from openfront.errors import OriginConnectError
from openfront.signing.sigv4 import EMPTY_SHA256, UNSIGNED_PAYLOAD, Credentials, sign_s3

DOMAIN = "media.s3.ap-northeast-2.amazonaws.com"
NOW = 1_764_000_000.0
SIGNER = S3Signer({DOMAIN: Credentials("AKIDEDGE", "edge-secret")}, clock=lambda: NOW)
BASE = [("Host", "127.0.0.1:8333"), ("X-Amz-Cf-Id", "cfid"), ("Via", "1.1 x")]


def _origin(signing: SigningBehavior) -> Origin:
    return Origin(
        "s3", "127.0.0.1", 8333, path="/media",
        s3=S3Access("media", "ap-northeast-2", signing, DOMAIN),
    )  # fmt: skip


def _names(headers: list[tuple[str, str]]) -> list[str]:
    return [n.lower() for n, _ in headers]


def test_always_signs_what_is_sent() -> None:
    target, headers = SIGNER.prepare(
        _origin("always"), "GET", "/media/a b/é.mp4?x=1", list(BASE), [], "x=1", has_body=False
    )
    assert target == "/media/a%20b/%C3%A9.mp4?x=1"  # S3's canonical encoding, sent as signed
    expected = sign_s3(
        "GET", "/media/a%20b/%C3%A9.mp4", "x=1", list(BASE),
        Credentials("AKIDEDGE", "edge-secret"), "ap-northeast-2", NOW, payload_hash=EMPTY_SHA256,
    )  # fmt: skip
    assert headers == expected
    assert (
        "Credential=AKIDEDGE/20251124/ap-northeast-2/s3/aws4_request"
        in dict(headers)["Authorization"]
    )


def test_always_replaces_the_viewers_authorization() -> None:
    viewer = [("authorization", "AWS4-HMAC-SHA256 Credential=VIEWER/...")]
    sent = [*BASE, ("Authorization", viewer[0][1])]
    _, headers = SIGNER.prepare(
        _origin("always"), "GET", "/media/k", sent, viewer, "", has_body=False
    )
    assert _names(headers).count("authorization") == 1
    assert "VIEWER" not in dict(headers)["Authorization"]


@pytest.mark.parametrize(
    ("viewer", "query"),
    [([("authorization", "AWS4-HMAC-SHA256 Credential=V/x")], ""), ([], "X-Amz-Signature=ab")],
)
def test_no_override_leaves_viewer_credentials_alone(
    viewer: list[tuple[str, str]], query: str
) -> None:
    _, headers = SIGNER.prepare(
        _origin("no-override"), "GET", "/media/k", list(BASE), viewer, query, has_body=False
    )
    assert "x-amz-date" not in _names(headers)
    assert "x-amz-cf-id" not in _names(headers)  # stores that sign every x-amz-* field


def test_no_override_signs_anonymous_viewers_and_never_signs_nothing() -> None:
    _, signed = SIGNER.prepare(
        _origin("no-override"), "GET", "/media/k", list(BASE), [], "", has_body=False
    )
    assert "authorization" in _names(signed)
    _, plain = SIGNER.prepare(
        _origin("never"), "GET", "/media/k", list(BASE), [], "", has_body=False
    )
    assert plain == BASE


def test_bodies_stream_unsigned() -> None:
    _, headers = SIGNER.prepare(
        _origin("always"), "PUT", "/media/k", list(BASE), [], "", has_body=True
    )
    assert ("X-Amz-Content-SHA256", UNSIGNED_PAYLOAD) in headers
    trailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    sent = [*BASE, ("x-amz-content-sha256", trailer)]
    _, headers = SIGNER.prepare(_origin("always"), "PUT", "/media/k", sent, [], "", has_body=True)
    assert ("X-Amz-Content-SHA256", trailer) in headers


def test_missing_credentials_fail_the_request_not_the_edge() -> None:
    with pytest.raises(OriginConnectError, match="no credentials"):
        S3Signer().prepare(_origin("always"), "GET", "/media/k", list(BASE), [], "", has_body=False)
