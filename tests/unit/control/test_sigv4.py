"""SigV4 verification against requests signed by botocore's own signer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from openfront.control.sigv4 import (
    SignedRequest,
    SigV4Error,
    canonical_path,
    canonical_query,
    parse_authorization,
    verify,
)

KEY, SECRET = "AKOFUNITTEST00000001", "unit-test-secret-0123456789"
HOST = "127.0.0.1:9000"


def signed(
    method: str = "GET",
    path: str = "/2020-05-31/distribution",
    body: bytes = b"",
    *,
    region: str = "us-east-1",
    service: str = "cloudfront",
    headers: dict[str, str] | None = None,
) -> tuple[SignedRequest, datetime]:
    request = AWSRequest(method=method, url=f"http://{HOST}{path}", data=body, headers=headers)
    SigV4Auth(Credentials(KEY, SECRET), service, region).add_auth(request)
    prepared = request.prepare()
    raw_path, _, raw_query = prepared.url.removeprefix(f"http://{HOST}").partition("?")
    wire = [("Host", HOST), *prepared.headers.items()]
    when = datetime.strptime(request.context["timestamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return SignedRequest(method, raw_path, raw_query, wire, body), when


def secrets(key_id: str) -> str | None:
    return SECRET if key_id == KEY else None


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/2020-05-31/distribution", b""),
        ("GET", "/2020-05-31/distribution?MaxItems=2&Marker=E2QWRUHAPOMQZL", b""),
        ("GET", "/openfront/audit?since=2026-05-01T00%3A00%3A00Z&action=A%20B", b""),
        ("POST", "/2020-05-31/distribution", b"<DistributionConfig/>"),
        ("PUT", "/2020-05-31/distribution/E1/config", "<Comment>é</Comment>".encode()),
        ("GET", "/2020-05-31/distribution/E%2F1", b""),
        ("DELETE", "/2020-05-31/./distribution//E1", b""),
    ],
)
def test_botocore_signatures_verify(method: str, path: str, body: bytes) -> None:
    request, when = signed(method, path, body)
    auth = verify(request, secrets, when + timedelta(seconds=30))
    assert (auth.access_key_id, auth.region, auth.service) == (KEY, "us-east-1", "cloudfront")


def test_any_region_is_accepted() -> None:
    request, when = signed(region="eu-west-3")
    assert verify(request, secrets, when).region == "eu-west-3"


def _code(request: SignedRequest, now: datetime) -> str:
    with pytest.raises(SigV4Error) as exc:
        verify(request, secrets, now)
    return exc.value.code


def test_refusals() -> None:
    request, when = signed("POST", body=b"<a/>")
    tampered = SignedRequest(request.method, request.raw_path, "", request.headers, b"<b/>")
    assert _code(tampered, when) == "SignatureDoesNotMatch"
    claimed, when = signed("POST", body=b"<a/>", headers={"X-Amz-Content-SHA256": "0" * 64})
    assert _code(claimed, when) == "XAmzContentSHA256Mismatch"
    other_path = SignedRequest(
        request.method, "/2020-05-31/distribution/x", "", request.headers, request.body
    )
    assert _code(other_path, when) == "SignatureDoesNotMatch"
    assert _code(request, when + timedelta(minutes=16)) == "RequestTimeTooSkewed"
    assert _code(request, when - timedelta(minutes=16)) == "RequestTimeTooSkewed"
    unknown = SignedRequest(
        request.method,
        request.raw_path,
        "",
        [(k, v.replace(KEY, "AKOFUNKNOWN000000001")) for k, v in request.headers],
        request.body,
    )
    assert _code(unknown, when) == "InvalidClientTokenId"
    s3, when = signed(service="s3")
    assert _code(s3, when) == "SignatureDoesNotMatch"
    anonymous = SignedRequest("GET", "/", "", [("Host", HOST)], b"")
    assert _code(anonymous, when) == "MissingAuthenticationToken"
    token, when = signed(headers={"X-Amz-Security-Token": "t"})
    assert _code(token, when) == "InvalidClientTokenId"


def test_wrong_secret_is_a_signature_mismatch() -> None:
    request, when = signed()
    with pytest.raises(SigV4Error) as exc:
        verify(request, lambda _: "another-secret-0123456789", when)
    assert exc.value.code == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    "header",
    [
        "AWS4-HMAC-SHA1 Credential=a/20260501/us-east-1/cloudfront/aws4_request",
        "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + "0" * 64,
        "AWS4-HMAC-SHA256 Credential=bad, SignedHeaders=host, Signature=" + "0" * 64,
        "AWS4-HMAC-SHA256 Credential=A/20260501/r/cloudfront/aws4_request, "
        "SignedHeaders=x-amz-date;host, Signature=" + "0" * 64,
        "AWS4-HMAC-SHA256 Credential=A/20260501/r/cloudfront/aws4_request, "
        "SignedHeaders=host, Signature=xyz",
    ],
)
def test_malformed_authorization(header: str) -> None:
    with pytest.raises(SigV4Error) as exc:
        parse_authorization(header)
    assert exc.value.code == "IncompleteSignature"


def test_canonical_forms_match_the_spec() -> None:
    assert canonical_path("/a/./b/../c//d/") == "/a/c/d/"
    assert canonical_path("/E%2F1") == "/E%252F1"  # non-S3 services encode twice
    assert canonical_path("") == "/"
    assert canonical_query("b=2&a=1&a=0") == "a=0&a=1&b=2"
    assert canonical_query("k=a b&x") == "k=a%20b&x="
