"""S3 origins behind the edge with Origin Access Control, against weed mini and moto alike.

The buckets are private: only requests the edge signs get in (checked first in each store).
"""

from __future__ import annotations

import copy
import hashlib
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from tests.support.client import request
from tests.support.edge import ALL_METHODS, FOLLOW_ORIGIN, config, eventually
from tests.support.s3stores import KINDS, S3Store, start_s3

BUCKET = "oac-seoul"
REGION = "ap-northeast-2"
KEY_ID = "K2JCJMDEHXQW5F"
MiB = 1 << 20


@pytest.fixture(scope="module", params=KINDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[S3Store]:
    s = start_s3(request.param, tmp_path_factory.mktemp(request.param), REGION, BUCKET)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _cached_policy() -> dict[str, Any]:
    policy = copy.deepcopy(FOLLOW_ORIGIN)
    policy.update(Name="s3-default-60", DefaultTTL=60)
    return policy


def s3_config(
    store: S3Store,
    *,
    signing: str = "always",
    behavior: dict[str, Any] | None = None,
    top: dict[str, Any] | None = None,
    extra_behaviors: list[dict[str, Any]] = (),  # type: ignore[assignment]
    s3_entry: dict[str, Any] | None = None,
    **edge: Any,
) -> Any:
    origin = {
        "Id": "seoul",
        "DomainName": store.domain,
        "ConnectionAttempts": 1,
        "ConnectionTimeout": 2,
        "S3OriginConfig": {"OriginAccessIdentity": "", "OriginReadTimeout": 10},
        "OriginAccessControlId": "EOAC1",
    }
    default = {
        "TargetOriginId": "seoul",
        "AllowedMethods": {"Items": ALL_METHODS, "CachedMethods": ["GET", "HEAD"]},
        "CachePolicyConfig": _cached_policy(),
        **(behavior or {}),
    }
    if "CachePolicyId" in default:
        del default["CachePolicyConfig"]
    dist = {"Origins": [origin], "DefaultCacheBehavior": default}
    if extra_behaviors:
        dist["CacheBehaviors"] = list(extra_behaviors)
    oac = {
        "Id": "EOAC1",
        "OriginAccessControlConfig": {
            "Name": "media",
            "SigningProtocol": "sigv4",
            "SigningBehavior": signing,
            "OriginAccessControlOriginType": "s3",
        },
    }
    return config(
        dist,
        top={"OriginAccessControls": [oac], **(top or {})},
        s3_origins=[s3_entry or store.edge_entry()],
        **edge,
    )


def _direct_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return e.code


def _key(name: str) -> str:
    return f"{name}-{time.monotonic_ns()}"  # one object per test run: no state shared


async def test_private_bucket_served_only_through_the_edge(store: S3Store, make_edge: Any) -> None:
    key = _key("a.txt")
    store.client().put_object(
        Bucket=BUCKET, Key=key, Body=b"hello from s3", ContentType="text/plain"
    )
    assert _direct_status(f"{store.endpoint}/{BUCKET}/{key}") == 403
    edge = await make_edge(cfg=s3_config(store))
    r = await request(edge.port, path=f"/{key}")
    assert (r.status, r.body, r.x_cache) == (200, b"hello from s3", "Miss from cloudfront")
    assert r.h("content-type") == "text/plain"
    again = await request(edge.port, path=f"/{key}")
    assert (again.status, again.body, again.x_cache) == (
        200,
        b"hello from s3",
        "Hit from cloudfront",
    )


async def test_viewer_authorization_is_replaced_when_signing_always(
    store: S3Store, make_edge: Any
) -> None:
    key = _key("auth.txt")
    store.client().put_object(Bucket=BUCKET, Key=key, Body=b"x")
    edge = await make_edge(
        cfg=s3_config(store, behavior={"OriginRequestPolicyId": "AllViewerExceptHostHeader"})
    )
    bogus = (
        "AWS4-HMAC-SHA256 Credential=AKIDBOGUS/20200101/us-east-1/s3/aws4_request, "
        "SignedHeaders=host, Signature=" + "0" * 64
    )
    r = await request(edge.port, path=f"/{key}", headers={"Authorization": bogus})
    assert (r.status, r.body) == (200, b"x")


async def test_range_and_conditional_requests(store: S3Store, make_edge: Any) -> None:
    key = _key("range.bin")
    body = bytes(range(256)) * 4
    etag = store.client().put_object(Bucket=BUCKET, Key=key, Body=body)["ETag"]
    edge = await make_edge(cfg=s3_config(store))
    r = await request(edge.port, path=f"/{key}", headers={"Range": "bytes=10-19"})
    assert (r.status, r.body) == (206, body[10:20])
    assert r.h("content-range") == f"bytes 10-19/{len(body)}"
    hit = await request(edge.port, path=f"/{key}", headers={"If-None-Match": etag})
    assert (hit.status, hit.h("etag")) == (304, etag)  # the stored S3 ETag validates
    changed = await request(edge.port, path=f"/{key}", headers={"If-None-Match": '"other"'})
    assert (changed.status, changed.body) == (200, body)


async def test_stale_object_revalidates_against_the_s3_etag(store: S3Store, make_edge: Any) -> None:
    key = _key("reval.txt")
    client = store.client()
    client.put_object(Bucket=BUCKET, Key=key, Body=b"v1", CacheControl="max-age=1")
    edge = await make_edge(cfg=s3_config(store))
    first = await request(edge.port, path=f"/{key}")
    assert (first.body, first.x_cache) == (b"v1", "Miss from cloudfront")
    # max-age=1 and S3's whole-second Date: stale within a second of the first answer.
    stale_at = time.time() + 1.05
    await eventually(lambda: time.time() >= stale_at, timeout=5)
    r = await request(edge.port, path=f"/{key}")  # a signed If-None-Match; S3 answers 304
    assert (r.status, r.body, r.x_cache) == (200, b"v1", "RefreshHit from cloudfront")
    client.put_object(Bucket=BUCKET, Key=key, Body=b"v2", CacheControl="max-age=1")
    stale_at = time.time() + 1.05
    await eventually(lambda: time.time() >= stale_at, timeout=5)
    r = await request(edge.port, path=f"/{key}")  # the ETag changed: S3 sends the new object
    assert (r.status, r.body, r.x_cache) == (200, b"v2", "Miss from cloudfront")


async def test_missing_key_gets_the_buckets_xml_error(store: S3Store, make_edge: Any) -> None:
    key = _key("missing")
    edge = await make_edge(cfg=s3_config(store))
    r = await request(edge.port, path=f"/{key}")
    # The edge's identity may List the bucket: S3 says NoSuchKey (403 AccessDenied without it).
    assert r.status == 404
    assert b"<Code>NoSuchKey</Code>" in r.body
    assert r.x_cache == "Error from cloudfront"
    # CloudFront's error caching: the 404 is kept for ErrorCachingMinTTL (10 s by default).
    store.client().put_object(Bucket=BUCKET, Key=key, Body=b"arrived")
    again = await request(edge.port, path=f"/{key}")
    assert (again.status, again.x_cache) == (404, "Error from cloudfront")
    assert b"NoSuchKey" in again.body


async def test_put_lands_in_the_bucket_and_invalidates_the_cached_get(
    store: S3Store, make_edge: Any
) -> None:
    key = _key("put.txt")
    client = store.client()
    client.put_object(Bucket=BUCKET, Key=key, Body=b"old")
    edge = await make_edge(cfg=s3_config(store))
    assert (await request(edge.port, path=f"/{key}")).body == b"old"
    assert (await request(edge.port, path=f"/{key}")).x_cache == "Hit from cloudfront"
    put = await request(
        edge.port, "PUT", f"/{key}", body=b"new body", headers={"Content-Type": "text/x-new"}
    )
    assert put.status == 200, put.body
    stored = client.get_object(Bucket=BUCKET, Key=key)
    assert stored["Body"].read() == b"new body"
    assert stored["ContentType"] == "text/x-new"
    r = await request(edge.port, path=f"/{key}")
    assert (r.body, r.x_cache) == (b"new body", "Miss from cloudfront")
    deleted = await request(edge.port, "DELETE", f"/{key}")
    assert deleted.status == 204
    gone = await request(edge.port, path=f"/{key}")
    assert gone.status == 404 and b"NoSuchKey" in gone.body


_UPLOAD_ID = re.compile(rb"<UploadId>([^<]+)</UploadId>")


async def test_multipart_upload_through_the_edge(store: S3Store, make_edge: Any) -> None:
    key = _key("multi.bin")
    edge = await make_edge(cfg=s3_config(store))
    created = await request(edge.port, "POST", f"/{key}?uploads")
    assert created.status == 200, created.body
    m = _UPLOAD_ID.search(created.body)
    assert m is not None
    upload_id = m.group(1).decode()
    parts = [b"a" * (5 * MiB), b"tail"]  # S3's minimum part size is 5 MiB, the last excepted
    etags = []
    for number, part in enumerate(parts, 1):
        r = await request(
            edge.port, "PUT", f"/{key}?partNumber={number}&uploadId={upload_id}", body=part
        )
        assert r.status == 200, r.body
        etags.append(r.h("etag"))
    xml = (
        "<CompleteMultipartUpload>"
        + "".join(
            f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>"
            for n, e in enumerate(etags, 1)
        )
        + "</CompleteMultipartUpload>"
    )
    done = await request(edge.port, "POST", f"/{key}?uploadId={upload_id}", body=xml.encode())
    assert done.status == 200 and b"CompleteMultipartUploadResult" in done.body, done.body
    got = store.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(b"".join(parts)).digest()


async def test_boto3_multipart_upload_pointed_at_the_edge(store: S3Store, make_edge: Any) -> None:
    import asyncio
    import io

    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config

    key = _key("boto3.bin")
    edge = await make_edge(
        cfg=s3_config(store, behavior={"OriginRequestPolicyId": "AllViewerExceptHostHeader"})
    )
    viewer = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{edge.port}",
        region_name=REGION,
        aws_access_key_id="AKIDVIEWER",  # not the bucket's: the edge signs with its own
        aws_secret_access_key="viewer-secret",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )

    def drop_bucket(request: Any, **_: Any) -> None:
        # The distribution is the bucket: its URLs carry only the key.
        request.url = request.url.replace(f"/{BUCKET}/", "/", 1)

    viewer.meta.events.register("before-send.s3", drop_bucket)
    data = bytes(range(256)) * (45 * 1024)  # 11.25 MiB: three parts of 5, 5 and 1.25 MiB
    chunk = 5 * MiB
    transfer = TransferConfig(
        multipart_threshold=chunk, multipart_chunksize=chunk, max_concurrency=2
    )
    try:
        await asyncio.to_thread(
            viewer.upload_fileobj, io.BytesIO(data), BUCKET, key, Config=transfer
        )
    finally:
        viewer.close()  # its pooled keep-alive connections, before the edge stops
    got = store.client().get_object(Bucket=BUCKET, Key=key)
    assert got["ETag"].endswith('-3"')  # a multipart object of three parts
    assert got["Body"].read() == data


async def test_signed_url_behavior_in_front_of_s3(
    store: S3Store, make_edge: Any, rsa_key: rsa.RSAPrivateKey
) -> None:
    from botocore.signers import CloudFrontSigner

    key = _key("paid.txt")
    store.client().put_object(Bucket=BUCKET, Key=f"private/{key}", Body=b"paid content")
    pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    top = {
        "PublicKeys": [
            {"Id": KEY_ID, "PublicKeyConfig": {"Name": "k", "EncodedKey": pem.decode()}}
        ],
        "KeyGroups": [{"Id": "kg", "KeyGroupConfig": {"Name": "g", "Items": [KEY_ID]}}],
    }
    private = {
        "PathPattern": "/private/*",
        "TargetOriginId": "seoul",
        "AllowedMethods": ALL_METHODS,
        "CachePolicyConfig": _cached_policy(),
        "TrustedKeyGroups": ["kg"],
    }
    edge = await make_edge(cfg=s3_config(store, top=top, extra_behaviors=[private]))
    unsigned = await request(edge.port, path=f"/private/{key}")
    assert unsigned.status == 403 and b"MissingKey" in unsigned.body
    upload = await request(edge.port, "PUT", f"/private/{key}", body=b"forged")
    assert upload.status == 403  # the edge's check comes first: nothing reaches the bucket

    def sign(message: bytes) -> bytes:
        return rsa_key.sign(message, padding.PKCS1v15(), hashes.SHA1())

    signer = CloudFrontSigner(KEY_ID, sign)
    until = datetime.now(UTC) + timedelta(hours=1)
    url = signer.generate_presigned_url(f"http://test.local/private/{key}", date_less_than=until)
    r = await request(edge.port, path=url.removeprefix("http://test.local"))
    assert (r.status, r.body) == (200, b"paid content")
    assert store.client().get_object(Bucket=BUCKET, Key=f"private/{key}")["Body"].read() == (
        b"paid content"
    )


async def test_no_override_passes_a_viewers_presigned_url_untouched(
    store: S3Store, make_edge: Any
) -> None:
    if store.kind == "moto":
        pytest.skip(
            "moto's IAM auth cannot check presigned URLs (it needs an Authorization header)"
        )
    key = _key("presigned.txt")
    client = store.client()
    client.put_object(Bucket=BUCKET, Key=key, Body=b"viewer signed")
    url = client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key})
    parts = urlsplit(url)
    # The viewer signed for the store's host: a policy forwarding Host keeps it verifiable.
    cfg = s3_config(
        store,
        signing="no-override",
        behavior={"CachePolicyId": "CachingDisabled", "OriginRequestPolicyId": "AllViewer"},
    )
    edge = await make_edge(cfg=cfg)
    target = f"/{key}?{parts.query}"
    r = await request(edge.port, path=target, host=parts.netloc)
    assert (r.status, r.body) == (200, b"viewer signed"), r.body
    tampered = target.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    bad = await request(edge.port, path=tampered[: len(target)], host=parts.netloc)
    assert bad.status == 403  # the bucket checked it, not the edge
    # Without credentials of its own the viewer's request is signed by the edge.
    plain = await request(edge.port, path=f"/{key}", host=parts.netloc)
    assert (plain.status, plain.body) == (200, b"viewer signed")


async def test_signing_never_leaves_the_request_unsigned(store: S3Store, make_edge: Any) -> None:
    key = _key("never.txt")
    store.client().put_object(Bucket=BUCKET, Key=key, Body=b"x")
    edge = await make_edge(cfg=s3_config(store, signing="never"))
    r = await request(edge.port, path=f"/{key}")
    assert r.status == 403  # the private bucket refuses an anonymous request


@pytest.mark.slow
async def test_large_upload_streams_through_the_edge(store: S3Store, make_edge: Any) -> None:
    import asyncio

    from tests.support.client import read_response

    if store.kind == "moto":
        pytest.skip("moto keeps whole objects in memory: the big upload runs against weed only")
    key = _key("big.bin")
    size, chunk = 256 * MiB, bytes(range(256)) * 4096  # 1 MiB pattern
    edge = await make_edge(cfg=s3_config(store))
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
    try:
        writer.write(
            f"PUT /{key} HTTP/1.1\r\nHost: test.local\r\nContent-Length: {size}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        digest = hashlib.md5()
        for _ in range(size // len(chunk)):
            writer.write(chunk)
            digest.update(chunk)
            await writer.drain()
        r = await read_response(reader)
    finally:
        writer.close()
    assert r.status == 200, r.body
    assert r.h("etag") == f'"{digest.hexdigest()}"'
    head = store.client().head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] == size


async def test_https_endpoint_uses_the_origin_tls_checks(
    store: S3Store, make_edge: Any, tmp_path: Any
) -> None:
    import asyncio
    import ssl

    from openfront.cli._certgen import issue_certificate, load_or_create_ca

    ca = load_or_create_ca(tmp_path)[0]
    cert, tls_key = issue_certificate(tmp_path, ["localhost"], ca)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, tls_key)
    store_url = urlsplit(store.endpoint)

    async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        finally:
            dst.close()

    async def terminate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # TLS in front of the store, as AWS S3 has it; the bytes inside pass unchanged.
        up_reader, up_writer = await asyncio.open_connection(store_url.hostname, store_url.port)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    proxy = await asyncio.start_server(terminate, "127.0.0.1", 0, ssl=server_tls)
    port = proxy.sockets[0].getsockname()[1]
    key = _key("tls.txt")
    store.client().put_object(Bucket=BUCKET, Key=key, Body=b"over https")
    cfg = s3_config(
        store,
        s3_entry={**store.edge_entry(), "endpoint": f"https://localhost:{port}"},
        origin_tls={"ca_bundle": str(tmp_path / "ca.pem")},
    )
    try:
        edge = await make_edge(cfg=cfg)
        r = await request(edge.port, path=f"/{key}")
        assert (r.status, r.body) == (200, b"over https")
        await edge.close()
    finally:
        proxy.close()
        await proxy.wait_closed()
