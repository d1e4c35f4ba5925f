"""HS256 access tokens: round trip, every refusal with an explicit `now`, and tampering."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openfront.mediahub.jwt import (
    TokenError,
    access_claims,
    b64url_decode,
    b64url_encode,
    key_id,
    sign,
    verify,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
NOW = 1_800_000_000.0
ISS, AUD = "openfront-mediahub", "mediahub"


def claims(**changes: Any) -> dict[str, Any]:
    base = access_claims(
        subject="5d2c1f6e-0000-4000-8000-000000000001",
        issuer=ISS,
        audience=AUD,
        now=NOW,
        ttl=900,
        token_id="jti-1",
        region="ap-northeast-2",
    )
    return {k: v for k, v in (base | changes).items() if v is not None}


def check(token: str, now: float = NOW, *, key: bytes = KEY, leeway: float = 0) -> dict[str, Any]:
    return verify(token, key, now=now, issuer=ISS, audience=AUD, leeway=leeway)


def forge(header: dict[str, Any], payload: dict[str, Any], key: bytes = KEY) -> str:
    """A token signed correctly over arbitrary header and payload (for refusal tests)."""
    h = b64url_encode(json.dumps(header).encode())
    p = b64url_encode(json.dumps(payload).encode())
    sig = hmac.new(key, f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64url_encode(sig)}"


def test_round_trip() -> None:
    token = sign(claims(), KEY)
    assert check(token) == claims()
    header = json.loads(b64url_decode(token.split(".")[0]))
    assert header == {"alg": "HS256", "typ": "JWT", "kid": key_id(KEY)}


def test_access_claims() -> None:
    c = claims()
    assert c["iat"] == c["nbf"] == int(NOW) and c["exp"] == int(NOW) + 900
    assert c["iss"] == ISS and c["aud"] == AUD and c["region"] == "ap-northeast-2"


def test_the_signature_matches_an_independent_hs256() -> None:
    token = sign(claims(), KEY)
    signing_input, _, sig = token.rpartition(".")
    expected = hmac.new(KEY, signing_input.encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(sig + "=") == expected


@pytest.mark.parametrize(
    ("now", "leeway", "reason"),
    [
        (NOW + 899, 0, None),
        (NOW + 900, 0, "token has expired"),  # exp itself is already too late (RFC 7519 4.1.4)
        (NOW + 929, 30, None),
        (NOW + 930, 30, "token has expired"),
        (NOW - 1, 0, "token is not valid yet"),
        (NOW - 30, 30, None),
        (NOW - 31, 30, "token is not valid yet"),
    ],
)
def test_time_claims_with_explicit_now(now: float, leeway: float, reason: str | None) -> None:
    token = sign(claims(), KEY)
    if reason is None:
        assert check(token, now, leeway=leeway)["sub"]
    else:
        with pytest.raises(TokenError, match=reason):
            check(token, now, leeway=leeway)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"iss": "someone-else"}, "another issuer"),
        ({"iss": None}, "another issuer"),
        ({"aud": "other"}, "another audience"),
        ({"aud": None}, "another audience"),
        ({"exp": None}, "no expiry"),
        ({"exp": "1800000900"}, "malformed exp claim"),
        ({"exp": True}, "malformed exp claim"),
        ({"nbf": [1]}, "malformed nbf claim"),
    ],
)
def test_claim_refusals(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(TokenError, match=reason):
        check(sign(claims(**change), KEY))


def test_audience_may_be_a_list() -> None:
    assert check(sign(claims(aud=["other", AUD]), KEY))
    with pytest.raises(TokenError, match="another audience"):
        check(sign(claims(aud=["other"]), KEY))


def test_another_key_is_named_as_such() -> None:
    with pytest.raises(TokenError, match="signed with another key"):
        check(sign(claims(), OTHER_KEY))


def test_a_forged_kid_does_not_help() -> None:
    token = forge({"alg": "HS256", "kid": key_id(KEY)}, claims(), key=OTHER_KEY)
    with pytest.raises(TokenError, match="bad signature"):
        check(token)


@pytest.mark.parametrize("alg", ["none", "HS384", "RS256", "hs256", None])
def test_only_hs256_is_accepted(alg: str | None) -> None:
    token = forge({"alg": alg} if alg else {}, claims())
    with pytest.raises(TokenError, match="unsupported signing algorithm"):
        check(token)


def test_alg_none_without_a_signature_is_refused() -> None:
    h = b64url_encode(b'{"alg":"none"}')
    p = b64url_encode(json.dumps(claims()).encode())
    with pytest.raises(TokenError):
        check(f"{h}.{p}.")


def _flip(text: str, index: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    c = text[index]
    return text[:index] + alphabet[(alphabet.index(c) + 1) % 64] + text[index + 1 :]


def test_tampering_with_any_character_is_refused() -> None:
    token = sign(claims(), KEY)
    for i, ch in enumerate(token):
        if ch == ".":
            continue
        with pytest.raises(TokenError):
            check(_flip(token, i))


def test_a_changed_payload_is_refused() -> None:
    header, _, sig = sign(claims(), KEY).split(".")
    evil = b64url_encode(json.dumps(claims(sub="someone-else")).encode())
    with pytest.raises(TokenError, match="bad signature"):
        check(f"{header}.{evil}.{sig}")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "..",
        "!!!.e30.",
        "e30.e30.e30=",  # padding is not base64url as JWTs use it
        b64url_encode(b"[1]") + ".e30.AAAA",
        "x" * 5000,
        b64url_encode(b"\xff\xfe") + ".e30.AAAA",
    ],
)
def test_malformed_tokens(token: str) -> None:
    with pytest.raises(TokenError):
        check(token)


def test_non_canonical_base64_is_refused() -> None:
    # "AB" and "AA" both decode to b"\x00" when trailing bits are ignored.
    assert b64url_decode("AA") == b"\x00"
    with pytest.raises(TokenError):
        b64url_decode("AB")


@given(st.binary(max_size=64))
def test_b64url_round_trip(data: bytes) -> None:
    assert b64url_decode(b64url_encode(data)) == data
