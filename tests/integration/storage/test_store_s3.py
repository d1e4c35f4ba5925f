"""A managed region's store as `openfront up` runs it: CORS per bucket and no CORS fallback,
public read only under the configured prefix, presigned and multipart uploads, provisioning that
puts back what was changed by hand, and credentials that stay in their file."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import httpx
from boto3.s3.transfer import TransferConfig
from tests.support.weed import APP_ORIGIN, MEDIA_BUCKET, PLAIN_BUCKET, WeedStore

MiB = 1 << 20


def preflight(store: WeedStore, bucket: str, origin: str, method: str = "PUT") -> httpx.Response:
    return httpx.options(
        f"{store.endpoint}/{bucket}/uploads/clip.mp4",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type",
        },
    )


def test_preflight_from_a_configured_origin_is_allowed(store: WeedStore) -> None:
    r = preflight(store, MEDIA_BUCKET, APP_ORIGIN)
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "PUT" in r.headers["access-control-allow-methods"]
    assert r.headers["access-control-expose-headers"] == "ETag"
    assert r.headers["access-control-max-age"] == "600"


def test_preflight_from_another_origin_is_refused(store: WeedStore) -> None:
    r = preflight(store, MEDIA_BUCKET, "http://evil.example.test")
    assert r.status_code == 403
    assert "access-control-allow-origin" not in r.headers
    assert "<Code>AccessDenied</Code>" in r.text
    # A method outside the rule: S3 answers 403; weed answers 200 without Allow-Methods, which a
    # browser refuses just the same.
    other_method = preflight(store, MEDIA_BUCKET, APP_ORIGIN, method="DELETE")
    assert "DELETE" not in other_method.headers.get("access-control-allow-methods", "")


def test_a_bucket_without_rules_refuses_every_origin(store: WeedStore) -> None:
    # weed's global fallback (-s3.allowedOrigins, "*" by default) must not answer for it.
    for origin in (APP_ORIGIN, "http://evil.example.test", "null"):
        r = preflight(store, PLAIN_BUCKET, origin, method="GET")
        assert r.status_code == 403, origin
        assert "access-control-allow-origin" not in r.headers
    client = store.client()
    client.put_object(Bucket=PLAIN_BUCKET, Key="cors/a.txt", Body=b"a")
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": PLAIN_BUCKET, "Key": "cors/a.txt"}, ExpiresIn=60
    )
    simple = httpx.get(url, headers={"Origin": APP_ORIGIN})
    assert simple.status_code == 200 and simple.content == b"a"
    assert not any(h.startswith("access-control-") for h in simple.headers)


def test_only_the_public_prefix_is_readable_anonymously(store: WeedStore) -> None:
    client = store.client()
    client.put_object(Bucket=MEDIA_BUCKET, Key="public/poster.jpg", Body=b"poster")
    client.put_object(Bucket=MEDIA_BUCKET, Key="videos/1/raw.mp4", Body=b"raw")
    client.put_object(Bucket=PLAIN_BUCKET, Key="public/poster.jpg", Body=b"other")
    base = f"{store.endpoint}/{MEDIA_BUCKET}"
    ok = httpx.get(f"{base}/public/poster.jpg")
    assert ok.status_code == 200 and ok.content == b"poster"
    for denied in (
        httpx.get(f"{base}/videos/1/raw.mp4"),
        httpx.get(f"{base}/publicity.txt"),
        httpx.get(f"{base}/?list-type=2"),
        httpx.put(f"{base}/public/new.jpg", content=b"x"),
        httpx.delete(f"{base}/public/poster.jpg"),
        httpx.get(f"{store.endpoint}/{PLAIN_BUCKET}/public/poster.jpg"),
    ):
        assert denied.status_code == 403, denied.request.url
        assert "<Code>AccessDenied</Code>" in denied.text
    assert client.get_object(Bucket=MEDIA_BUCKET, Key="public/poster.jpg")["Body"].read()


def test_presigned_put_then_get(store: WeedStore) -> None:
    client = store.client()
    params = {"Bucket": MEDIA_BUCKET, "Key": "uploads/presigned.bin", "ContentType": "video/mp4"}
    put_url = client.generate_presigned_url("put_object", Params=params, ExpiresIn=300)
    body = os.urandom(100_000)
    wrong = httpx.put(put_url, content=body, headers={"Content-Type": "text/plain"})
    assert wrong.status_code == 403 and "SignatureDoesNotMatch" in wrong.text
    put = httpx.put(put_url, content=body, headers={"Content-Type": "video/mp4"})
    assert put.status_code == 200
    get_url = client.generate_presigned_url(
        "get_object", Params={"Bucket": MEDIA_BUCKET, "Key": "uploads/presigned.bin"}
    )
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in get_url
    got = httpx.get(get_url)
    assert got.status_code == 200 and got.content == body
    assert got.headers["content-type"] == "video/mp4"
    tampered = httpx.get(get_url.replace("presigned.bin", "presigned.bim"))
    assert tampered.status_code == 403


def test_multipart_upload_keeps_every_byte(store: WeedStore) -> None:
    client = store.client()
    body = os.urandom(11 * MiB)
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    client.upload_fileobj(io.BytesIO(body), MEDIA_BUCKET, "uploads/big.bin", Config=config)
    head = client.head_object(Bucket=MEDIA_BUCKET, Key="uploads/big.bin")
    assert head["ContentLength"] == len(body)
    assert head["ETag"].strip('"').endswith("-3")  # MD5 of the part MD5s, then -<parts>
    got = client.get_object(Bucket=MEDIA_BUCKET, Key="uploads/big.bin")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest()
    ranged = client.get_object(Bucket=MEDIA_BUCKET, Key="uploads/big.bin", Range="bytes=5242878-")
    assert ranged["Body"].read() == body[5242878:]


def test_provisioning_again_changes_nothing_and_repairs_hand_edits(store: WeedStore) -> None:
    assert store.notes == [f"{MEDIA_BUCKET}: created", f"{PLAIN_BUCKET}: created"]
    assert store.region.provision() == []
    client = store.client()
    wide_open = {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "DELETE"]}]}
    client.put_bucket_cors(Bucket=MEDIA_BUCKET, CORSConfiguration=wide_open)
    client.delete_bucket_policy(Bucket=MEDIA_BUCKET)
    client.put_bucket_cors(Bucket=PLAIN_BUCKET, CORSConfiguration=wide_open)
    assert sorted(store.region.provision()) == [
        f"{MEDIA_BUCKET}: CORS rules differed from the config and were re-applied",
        f"{MEDIA_BUCKET}: bucket policy differed from the config and was re-applied",
        f"{PLAIN_BUCKET}: CORS rules differed from the config and were re-applied",
    ]
    (rule,) = client.get_bucket_cors(Bucket=MEDIA_BUCKET)["CORSRules"]
    assert rule["AllowedOrigins"] == [APP_ORIGIN]
    assert preflight(store, PLAIN_BUCKET, APP_ORIGIN).status_code == 403
    assert httpx.get(f"{store.endpoint}/{MEDIA_BUCKET}/public/poster.jpg").status_code in (200, 404)
    assert store.region.provision() == []


def test_credentials_stay_in_their_private_file(store: WeedStore) -> None:
    creds = store.region.credentials
    s3_json = store.region.paths.s3_config
    assert s3_json.stat().st_mode & 0o777 == 0o600
    assert creds.secret_access_key in s3_json.read_text()
    info = json.dumps(store.region.info())
    assert creds.secret_access_key not in info and creds.access_key_id not in info
    assert info.count(str(s3_json)) == 1
    written = [
        p
        for p in (*store.region.paths.root.rglob("*"), store.log_path)
        if p.is_file() and p != s3_json and not p.name.endswith((".dat", ".idx", ".ldb"))
    ]
    assert any(p.parent == store.region.paths.logs for p in written)
    for path in written:
        text = Path(path).read_bytes()
        assert creds.secret_access_key.encode() not in text, path
        assert creds.access_key_id.encode() not in text, path
