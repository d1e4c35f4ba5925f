from __future__ import annotations

import base64
import datetime
import ipaddress
import json

import pytest
from botocore.signers import CloudFrontSigner
from hypothesis import given
from hypothesis import strategies as st

from openfront.signing.policy import (
    MAX_EPOCH,
    Policy,
    ResourcePattern,
    b64_decode,
    b64_encode,
    canned_policy,
    parse_epoch,
    parse_policy,
    policy_refusal,
    resource_url,
    strip_signing_params,
)


def _utc(epoch: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC)


# --- encoding --------------------------------------------------------------------------------


@given(st.binary(max_size=600))
def test_b64_round_trip_uses_cloudfront_alphabet(data: bytes) -> None:
    text = b64_encode(data)
    assert not set(text) & set("+=/")
    assert text == base64.b64encode(data).decode().translate(str.maketrans("+=/", "-_~"))
    assert b64_decode(text, 10_000) == data


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("aGk_", b"hi"),  # padding written as "_"
        ("aGk", b"hi"),  # padding dropped by some signers
        ("aGk=", b"hi"),  # standard alphabet still accepted
        ("", b""),
        ("a", None),
        ("aGk!", None),
        ("aG k", None),
        ("aGk___", None),
        ("\u00e9\u00e9\u00e9\u00e9", None),
    ],
)
def test_b64_decode_table(text: str, expected: bytes | None) -> None:
    assert b64_decode(text, 100) == expected


def test_b64_decode_refuses_over_the_limit() -> None:
    assert b64_decode("QUFB" * 10, 39) is None
    assert b64_decode("QUFB" * 10, 40) == b"AAA" * 10


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("1700000000", 1700000000),
        (str(MAX_EPOCH), MAX_EPOCH),
        (str(MAX_EPOCH + 1), None),
        ("99999999999", None),
        ("", None),
        ("-1", None),
        ("1.5", None),
        (" 12", None),
        ("\u00b2", None),  # a Unicode digit int() would choke on
        ("1" * 5000, None),
    ],
)
def test_parse_epoch_table(text: str, expected: int | None) -> None:
    assert parse_epoch(text) == expected


@pytest.mark.parametrize(
    "url",
    ["https://d.example/a.jpg", "http://d.example/a b/c.jpg?x=1&y", 'https://h/q"uote\\'],
)
def test_canned_policy_is_byte_identical_to_botocore(url: str) -> None:
    signer = CloudFrontSigner("K", lambda m: m)
    assert canned_policy(url, 1_800_000_000) == signer.build_policy(url, _utc(1_800_000_000))
    assert " " not in canned_policy("https://h/p", 5).replace("a b", "")


# --- query handling ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ""),
        ("a=1", "a=1"),
        ("a=1&Expires=5&Signature=x&Key-Pair-Id=K", "a=1"),
        ("Policy=p&b=2&Signature=s&Key-Pair-Id=K&Hash-Algorithm=SHA256&c", "b=2&c"),
        ("Expires=1&Signature=s&Key-Pair-Id=K", ""),
        ("expires=1&signature=s", "expires=1&signature=s"),  # names are case-sensitive
        ("a=1&&b=2", "a=1&&b=2"),
        ("Signature", ""),
        ("x=Expires", "x=Expires"),
    ],
)
def test_strip_signing_params(query: str, expected: str) -> None:
    assert strip_signing_params(query) == expected


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([], "https://h/p"),
        ([("a", "1"), ("b", None)], "https://h/p?a=1&b"),
        ([("a", "1"), ("Expires", "9"), ("Signature", "s"), ("z", "")], "https://h/p?a=1&z="),
        ([("Key-Pair-Id", "K")], "https://h/p"),
    ],
)
def test_resource_url(pairs: list[tuple[str, str | None]], expected: str) -> None:
    assert resource_url("https://h/p", pairs) == expected


# --- resource patterns -------------------------------------------------------------------------

H = "https://d111111abcdef8.cloudfront.net"


@pytest.mark.parametrize(
    ("pattern", "url", "expected"),
    [
        ("*", f"{H}/anything?at=all", True),
        (f"{H}/images/a.jpg", f"{H}/images/a.jpg", True),
        (f"{H}/images/a.jpg", f"{H}/images/b.jpg", False),
        (f"{H}/images/a.jpg", f"{H}/images/a.jpg?x=1", False),
        (f"{H}/images/*", f"{H}/images/a.jpg", True),
        (f"{H}/images/*", f"{H}/images/deep/er/a.jpg", True),
        (f"{H}/images/*", f"{H}/images/a.jpg?size=large", True),  # trailing * implies \?*
        (f"{H}/images/*", f"{H}/video/a.mp4", False),
        (f"{H}/*.jpg", f"{H}/a.jpg", True),
        (f"{H}/*.jpg", f"{H}/secret.mp4?x=.jpg", False),  # * stays inside the path
        (f"{H}/*.jpg", f"{H}/a.jpg?x=1", False),
        (f"{H}/*game_download.zip*", f"{H}/main/game_download.zip?v=2", True),
        (f"{H}/a?.jpg", f"{H}/ab.jpg", True),
        (f"{H}/a?.jpg", f"{H}/a.jpg", False),
        (f"{H}/a?.jpg", f"{H}/a/.jpg", True),
        (f"{H}/a.jpg\\?size=*", f"{H}/a.jpg?size=large", True),
        (f"{H}/a.jpg\\?size=*", f"{H}/a.jpg", False),
        (f"{H}/a.jpg\\?size=large", f"{H}/a.jpg?size=small", False),
        (f"{H}/image.jpg?color=red", f"{H}/image.jpg?color=red", True),  # exact, unescaped
        (f"{H}/image.jpg?color=red", f"{H}/image.jpg?color=blue", False),
        ("http*://d111111abcdef8.cloudfront.net/a", f"{H}/a", True),
        ("http*://d111111abcdef8.cloudfront.net/a", "http://d111111abcdef8.cloudfront.net/a", True),
        ("http*://h.example/a", "https://evil.example/x://h.example/a", False),
        ("https://*.example.com/a", "https://cdn.example.com/a", True),
        ("https://*.example.com/a", "https://evil.net/.example.com/a", False),
        ("https://d111111abcdef8.cloudfront.net*", f"{H}/any/path?and=query", True),
        ("https://d111*", f"{H}/x", True),
        ("https://d111111abcdef8.cloudfront.net", f"{H}/x", False),
        ("HTTPS://D111111ABCDEF8.cloudfront.NET/a", f"{H}/a", True),  # scheme and host fold
        (f"{H}/A", f"{H}/a", False),  # the path does not
        ("*.jpg", f"{H}/x.jpg", True),  # no scheme: one glob over the URL
        ("", f"{H}/x", False),
        (f"{H}/\\*", f"{H}/*", True),
        (f"{H}/\\*", f"{H}/x", False),
        (f"{H}/a\\", f"{H}/a\\", True),
        (f"{H}/a", "not a url", False),
    ],
)
def test_resource_pattern_table(pattern: str, url: str, expected: bool) -> None:
    assert ResourcePattern.compile(pattern).matches(url) is expected


def test_resource_pattern_many_stars_stays_fast() -> None:
    pattern = ResourcePattern.compile(f"{H}/" + "*a" * 50 + "b")
    assert not pattern.matches(f"{H}/" + "a" * 5000)


@given(st.text(max_size=60), st.text(max_size=80))
def test_resource_pattern_never_raises(pattern: str, url: str) -> None:
    assert isinstance(ResourcePattern.compile(pattern).matches(url), bool)


@given(st.text(alphabet="abc/?*\\:", max_size=30))
def test_pattern_without_wildcards_matches_itself(text: str) -> None:
    assert ResourcePattern.compile(text).matches(text)


# --- custom policies ---------------------------------------------------------------------------


def _doc(condition: object, resource: object = "https://h/*") -> bytes:
    stmt: dict[str, object] = {"Condition": condition}
    if resource is not None:
        stmt["Resource"] = resource
    return json.dumps({"Statement": [stmt]}).encode()


LT = {"DateLessThan": {"AWS:EpochTime": 2000}}


def test_parse_policy_full() -> None:
    cond = {
        **LT,
        "DateGreaterThan": {"AWS:EpochTime": 1000},
        "IpAddress": {"AWS:SourceIp": "10.0.0.0/8"},
    }
    policy = parse_policy(_doc(cond))
    assert policy is not None
    assert (policy.date_less_than, policy.date_greater_than) == (2000, 1000)
    assert policy.source_ip == ipaddress.ip_network("10.0.0.0/8")
    assert policy.resource is not None and policy.resource.text == "https://h/*"


def test_parse_policy_accepts_single_ip_and_no_resource() -> None:
    policy = parse_policy(_doc({**LT, "IpAddress": {"AWS:SourceIp": "192.0.2.7"}}, None))
    assert policy is not None
    assert policy.source_ip == ipaddress.ip_network("192.0.2.7/32")
    assert policy.resource is None


def test_parse_policy_accepts_botocore_output() -> None:
    signer = CloudFrontSigner("K", lambda m: m)
    text = signer.build_policy("https://h/*", _utc(2000), _utc(1000), "192.0.2.0/24")
    policy = parse_policy(text.encode())
    assert policy == Policy(
        2000, 1000, ipaddress.ip_network("192.0.2.0/24"), policy.resource if policy else None
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00",
        b"[]",
        b'{"Statement":[]}',
        b'{"Statement":{}}',
        b'{"Statement":[{}, {}]}',
        b'{"Statement":[1]}',
        b'{"Statement":[{"Resource":"x"}]}',
        b'{"Statement":[{"Condition":{}}]}',
        b'{"Statement":[{"Condition":{"DateGreaterThan":{"AWS:EpochTime":1}}}]}',
        b'{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":"5"}}}]}',
        b'{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":1.5}}}]}',
        b'{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":true}}}]}',
        b'{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":-1}}}]}',
        b'{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":2147483648}}}]}',
        b'{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":NaN}}}]}',
        b'{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":1e400}}}]}',
        b'{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":' + b"9" * 5000 + b"}}}]}",
        b'{"Statement":[{"Condition":{"DateLessThan":5}}]}',
        b'{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":5},"Other":{}}}]}',
        b'{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":5}},"Effect":"Deny"}]}',
        b'{"Statement":[{"Resource":5,"Condition":{"DateLessThan":{"AWS:EpochTime":5}}}]}',
        b'{"Version":"1","Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":5}}}]}',
        _doc({**LT, "IpAddress": {"AWS:SourceIp": "300.0.0.0/8"}}),
        _doc({**LT, "IpAddress": {"AWS:SourceIp": ["10.0.0.0/8"]}}),
        _doc({**LT, "IpAddress": "10.0.0.0/8"}),
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_parse_policy_malformed(raw: bytes) -> None:
    assert parse_policy(raw) is None


@given(st.binary(max_size=300))
def test_parse_policy_never_raises(raw: bytes) -> None:
    assert parse_policy(raw) is None or isinstance(parse_policy(raw), Policy)


NET = ipaddress.ip_network("192.0.2.0/24")


@pytest.mark.parametrize(
    ("policy", "now", "ip", "expected"),
    [
        (Policy(2000), 1999.9, "1.1.1.1", None),
        (Policy(2000), 2000, "1.1.1.1", "expired"),
        (Policy(2000), 5000, "1.1.1.1", "expired"),
        (Policy(2000, 1000), 1000, "1.1.1.1", None),
        (Policy(2000, 1000), 999.5, "1.1.1.1", "not yet valid"),
        (Policy(2000, None, NET), 1500, "192.0.2.200", None),
        (Policy(2000, None, NET), 1500, "::ffff:192.0.2.9", None),
        (Policy(2000, None, NET), 1500, "192.0.3.1", "client IP not allowed"),
        (Policy(2000, None, NET), 1500, "2001:db8::1", "client IP not allowed"),
        (Policy(2000, None, NET), 1500, "garbage", "client IP not allowed"),
        (Policy(2000, None, None, ResourcePattern.compile("https://h/a/*")), 1, "x", None),
        (
            Policy(2000, None, None, ResourcePattern.compile("https://h/b/*")),
            1,
            "x",
            "resource does not match",
        ),
    ],
)
def test_policy_refusal(policy: Policy, now: float, ip: str, expected: str | None) -> None:
    assert policy_refusal(policy, "https://h/a/x.jpg", now, ip) == expected
