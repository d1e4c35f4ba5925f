"""The S3 SigV4 signer: AWS's published S3 examples, then cross-checks against botocore."""

from __future__ import annotations

import calendar
import time

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from hypothesis import given, settings
from hypothesis import strategies as st

from openfront.signing.sigv4 import (
    EMPTY_SHA256,
    UNSIGNED_PAYLOAD,
    Credentials,
    canonical_path,
    canonical_query,
    has_own_auth,
    sign_s3,
)

# The example account of AWS's "Signature Calculations for the Authorization Header" (S3 API
# reference, sig-v4-header-based-auth): bucket examplebucket in us-east-1, 2013-05-24.
AWS = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
AWS_NOW = calendar.timegm((2013, 5, 24, 0, 0, 0))
HOST = ("Host", "examplebucket.s3.amazonaws.com")


def _auth(headers: list[tuple[str, str]]) -> str:
    return next(v for n, v in headers if n == "Authorization")


def test_aws_example_get_object() -> None:
    out = sign_s3(
        "GET",
        "/test.txt",
        "",
        [HOST, ("Range", "bytes=0-9")],
        AWS,
        "us-east-1",
        AWS_NOW,
        payload_hash=EMPTY_SHA256,
        sign_also={"range"},
    )
    assert _auth(out) == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )
    assert ("X-Amz-Date", "20130524T000000Z") in out


def test_aws_example_get_lifecycle() -> None:
    out = sign_s3(
        "GET", "/", "lifecycle", [HOST], AWS, "us-east-1", AWS_NOW, payload_hash=EMPTY_SHA256
    )
    assert _auth(out).endswith(
        "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"
    )


def test_aws_example_list_objects() -> None:
    out = sign_s3(
        "GET", "/", "max-keys=2&prefix=J", [HOST], AWS, "us-east-1", AWS_NOW,
        payload_hash=EMPTY_SHA256,
    )  # fmt: skip
    assert _auth(out).endswith(
        "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
    )


def test_aws_example_put_object() -> None:
    body = b"Welcome to Amazon S3."
    import hashlib

    out = sign_s3(
        "PUT",
        "/test$file.text",
        "",
        [
            HOST,
            ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ],
        AWS,
        "us-east-1",
        AWS_NOW,
        payload_hash=hashlib.sha256(body).hexdigest(),
        sign_also={"date"},
    )
    assert _auth(out).endswith(
        "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
        "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
    )


def _boto(
    method: str,
    url: str,
    headers: dict[str, str],
    creds: Credentials,
    region: str,
    now: float,
    payload: str,
) -> str:
    req = AWSRequest(method=method, url=url, headers=headers)
    signer = S3SigV4Auth(
        BotoCredentials(creds.access_key_id, creds.secret_access_key, creds.session_token),
        "s3",
        region,
    )
    # add_auth's steps with the time fixed (add_auth reads the clock itself).
    req.context["timestamp"] = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    signer._modify_request_before_signing(req)
    del req.headers["X-Amz-Content-SHA256"]  # HTTPHeaders appends on assignment
    req.headers["X-Amz-Content-SHA256"] = payload
    canonical = signer.canonical_request(req)
    sig = signer.signature(signer.string_to_sign(req, canonical), req)
    signer._inject_signature_to_request(req, sig)
    return str(req.headers["Authorization"])


@pytest.mark.parametrize(
    ("method", "path", "query", "extra"),
    [
        ("GET", "/media/a.mp4", "", {}),
        ("PUT", "/bucket/dir/file%20name.txt", "", {"Content-Type": "text/plain"}),
        ("POST", "/bucket/big.bin", "uploads", {}),
        ("PUT", "/bucket/big.bin", "partNumber=3&uploadId=2~abc-DEF_x.y", {}),
        ("POST", "/bucket/big.bin", "uploadId=abc%2Fdef", {"Content-Type": "application/xml"}),
        ("GET", "/bucket/%E2%82%AC/caf%C3%A9", "b=2&a=1&a=0", {"X-Amz-Meta-Owner": "  x   y "}),
    ],
)
def test_matches_botocore(method: str, path: str, query: str, extra: dict[str, str]) -> None:
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "tok/en+=")
    now = 1_764_000_000.0
    headers = {"Host": "127.0.0.1:8333", **extra}
    url = f"http://127.0.0.1:8333{path}" + (f"?{query}" if query else "")
    ours = sign_s3(
        method, path, query, list(headers.items()), creds, "sa-east-1", now,
        payload_hash=UNSIGNED_PAYLOAD,
    )  # fmt: skip
    assert _auth(ours) == _boto(method, url, headers, creds, "sa-east-1", now, UNSIGNED_PAYLOAD)
    assert ("X-Amz-Security-Token", "tok/en+=") in ours


_PATH_CHARS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="?#%\x00"), min_size=1, max_size=30
)


@settings(max_examples=60, deadline=None)
@given(key=_PATH_CHARS)
def test_any_key_matches_botocore(key: str) -> None:
    creds = Credentials("AKIDEXAMPLE", "secret")
    path = canonical_path("/bucket/" + key)
    url = "http://s3.test" + path
    ours = sign_s3("GET", path, "", [("Host", "s3.test")], creds, "us-east-1", 0.0)
    assert _auth(ours) == _boto(
        "GET", url, {"Host": "s3.test"}, creds, "us-east-1", 0.0, UNSIGNED_PAYLOAD
    )


def test_viewer_auth_fields_are_replaced() -> None:
    headers = [
        ("Host", "h"),
        ("authorization", "AWS4-HMAC-SHA256 Credential=viewer"),
        ("X-Amz-Date", "19990101T000000Z"),
        ("x-amz-content-sha256", "abc"),
    ]
    out = sign_s3("GET", "/k", "", headers, Credentials("A", "S"), "r", 0.0)
    names = [n.lower() for n, _ in out]
    assert names.count("authorization") == 1
    assert names.count("x-amz-date") == 1
    assert ("X-Amz-Content-SHA256", UNSIGNED_PAYLOAD) in out
    assert "viewer" not in _auth(out)


def test_host_is_required() -> None:
    with pytest.raises(ValueError, match="Host"):
        sign_s3("GET", "/k", "", [], Credentials("A", "S"), "r", 0.0)


def test_canonical_forms() -> None:
    assert canonical_path("/a b/c%20d/é") == "/a%20b/c%20d/%C3%A9"
    assert canonical_path("/x/../y/./z") == "/x/../y/./z"
    assert canonical_query("uploads") == "uploads="
    assert canonical_query("b=1&a=%7e&a=") == "a=&a=~&b=1"


def test_secret_never_in_repr() -> None:
    assert "SECRET" not in repr(Credentials("AKID", "SECRET", "TOKEN"))
    assert "TOKEN" not in repr(Credentials("AKID", "SECRET", "TOKEN"))


@pytest.mark.parametrize(
    ("headers", "query", "own"),
    [
        ([("Authorization", "x")], "", True),
        ([], "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=ab", True),
        ([], "x-amz-signature=ab", True),
        ([("X-Amz-Date", "x")], "partNumber=1", False),
    ],
)
def test_has_own_auth(headers: list[tuple[str, str]], query: str, own: bool) -> None:
    assert has_own_auth(headers, query) is own
