from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping

import pytest
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from hypothesis import given
from hypothesis import strategies as st

from openfront.signing import (
    Allowed,
    Denied,
    b64_encode,
    build_policy,
    check_request,
    load_public_key,
    sign_cookies,
    sign_url,
)
from openfront.signing.verify import PublicKey

QueryPairs = list[tuple[str, str | None]]
Split = Callable[[str], tuple[str, QueryPairs]]

NOW = 1_700_000_000.0
LATER = 1_800_000_000
URL = "https://d111111abcdef8.cloudfront.net/private/a.jpg"
IP = "192.0.2.10"

MISSING = ("MissingKey", "Missing Key-Pair-Id query parameter or cookie value")
UNKNOWN = ("InvalidKey", "Unknown Key")
BAD_SIG = ("MalformedSignature", "Could not unencode Signature")
BAD_POLICY = ("MalformedPolicy", "Malformed Policy")
DENIED = ("AccessDenied", "Access denied")


def _utc(epoch: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC)


@pytest.fixture(scope="module")
def keys(rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey) -> dict[str, PublicKey]:
    return {"KRSA": rsa_key.public_key(), "KEC": ec_key.public_key()}


@pytest.fixture(scope="module")
def boto(rsa_sha1_signer: Callable[[bytes], bytes]) -> CloudFrontSigner:
    return CloudFrontSigner("KRSA", rsa_sha1_signer)


def _check(
    split: Split,
    signed: str,
    keys: Mapping[str, PublicKey],
    *,
    cookies: Mapping[str, str] | None = None,
    now: float = NOW,
    ip: str = IP,
) -> Allowed | Denied:
    base, pairs = split(signed)
    return check_request(base, pairs, cookies or {}, key_groups=keys, now=now, client_ip=ip)


def _reason(result: Allowed | Denied) -> tuple[str, str]:
    assert isinstance(result, Denied), result
    assert result.status == 403
    return result.code, result.message


# --- botocore's signer is the oracle -------------------------------------------------------------


@pytest.mark.parametrize(
    "url", [URL, f"{URL}?size=large&license=yes", f"{URL}?flag", "http://h.example/a%20b.mp4?x="]
)
def test_botocore_canned_url_is_accepted(
    boto: CloudFrontSigner, keys: dict[str, PublicKey], split: Split, url: str
) -> None:
    signed = boto.generate_presigned_url(url, date_less_than=_utc(LATER))
    assert _check(split, signed, keys) == Allowed("url", "KRSA", LATER)


@pytest.mark.parametrize(
    ("resource", "start", "ip", "url"),
    [
        (URL, None, None, URL),
        ("https://d111111abcdef8.cloudfront.net/private/*", NOW - 10, "192.0.2.0/24", URL),
        ("http*://d111111abcdef8.cloudfront.net/*", None, IP, f"{URL}?v=3"),
        ("*", None, None, "https://other.example/x"),
    ],
)
def test_botocore_custom_url_is_accepted(
    boto: CloudFrontSigner,
    keys: dict[str, PublicKey],
    split: Split,
    resource: str,
    start: float | None,
    ip: str | None,
    url: str,
) -> None:
    policy = boto.build_policy(resource, _utc(LATER), _utc(start) if start else None, ip)
    signed = boto.generate_presigned_url(url, policy=policy)
    assert _check(split, signed, keys) == Allowed("url", "KRSA", LATER)


def test_botocore_url_with_percent_encoded_signature(
    boto: CloudFrontSigner, keys: dict[str, PublicKey], split: Split
) -> None:
    signed = boto.generate_presigned_url(URL, date_less_than=_utc(LATER))
    head, _, tail = signed.partition("Signature=")
    sig, _, rest = tail.partition("&")
    encoded = f"{head}Signature={sig.replace('~', '%7E').replace('-', '%2D')}&{rest}"
    assert isinstance(_check(split, encoded, keys), Allowed)


def test_botocore_signer_with_an_ecdsa_key(
    ec_key: ec.EllipticCurvePrivateKey, keys: dict[str, PublicKey], split: Split
) -> None:
    signer = CloudFrontSigner("KEC", lambda m: ec_key.sign(m, ec.ECDSA(hashes.SHA1())))
    signed = signer.generate_presigned_url(URL, date_less_than=_utc(LATER))
    assert _check(split, signed, keys) == Allowed("url", "KEC", LATER)


# --- our own signer round-trips ----------------------------------------------------------------


@pytest.mark.parametrize("key_id", ["KRSA", "KEC"])
@pytest.mark.parametrize("hash_algorithm", ["SHA1", "SHA256"])
@pytest.mark.parametrize("custom", [False, True])
def test_sign_url_round_trip(
    rsa_key: rsa.RSAPrivateKey,
    ec_key: ec.EllipticCurvePrivateKey,
    keys: dict[str, PublicKey],
    split: Split,
    key_id: str,
    hash_algorithm: str,
    custom: bool,
) -> None:
    private = rsa_key if key_id == "KRSA" else ec_key
    policy = build_policy(None, LATER)
    signed = sign_url(
        f"{URL}?a=1",
        key_id,
        private,
        expires=None if custom else LATER,
        policy=policy if custom else None,
        hash_algorithm=hash_algorithm,
    )
    assert ("Hash-Algorithm=SHA256" in signed) == (hash_algorithm == "SHA256")
    assert _check(split, signed, keys) == Allowed("url", key_id, LATER)


def test_sha256_signature_without_hash_algorithm_is_refused(
    rsa_key: rsa.RSAPrivateKey, keys: dict[str, PublicKey], split: Split
) -> None:
    signed = sign_url(URL, "KRSA", rsa_key, expires=LATER, hash_algorithm="SHA256")
    stripped = signed.replace("&Hash-Algorithm=SHA256", "")
    assert _reason(_check(split, stripped, keys)) == DENIED


# --- cookies -----------------------------------------------------------------------------------


@pytest.mark.parametrize("custom", [False, True])
@pytest.mark.parametrize("hash_algorithm", ["SHA1", "SHA256"])
def test_signed_cookies_are_accepted(
    rsa_key: rsa.RSAPrivateKey, keys: dict[str, PublicKey], custom: bool, hash_algorithm: str
) -> None:
    policy = build_policy("https://d111111abcdef8.cloudfront.net/private/*", LATER)
    cookies = sign_cookies(
        URL,
        "KRSA",
        rsa_key,
        expires=None if custom else LATER,
        policy=policy if custom else None,
        hash_algorithm=hash_algorithm,
    )
    cookies["other"] = "x"
    result = check_request(
        URL, [("q", "1")] if custom else [], cookies, key_groups=keys, now=NOW, client_ip=IP
    )
    assert result == Allowed("cookie", "KRSA", LATER)


def test_canned_cookie_covers_only_its_url(
    rsa_key: rsa.RSAPrivateKey, keys: dict[str, PublicKey]
) -> None:
    cookies = sign_cookies(URL, "KRSA", rsa_key, expires=LATER)
    other = check_request(f"{URL}x", [], cookies, key_groups=keys, now=NOW, client_ip=IP)
    assert _reason(other) == DENIED


def test_signed_url_wins_over_cookies(
    rsa_key: rsa.RSAPrivateKey, keys: dict[str, PublicKey], split: Split
) -> None:
    good_cookies = sign_cookies(URL, "KRSA", rsa_key, expires=LATER)
    bad_url = sign_url(URL, "KRSA", rsa_key, expires=int(NOW) - 1)
    assert _reason(_check(split, bad_url, keys, cookies=good_cookies)) == DENIED
    good_url = sign_url(URL, "KRSA", rsa_key, expires=LATER)
    bad_cookies = {k: "garbage" for k in good_cookies}
    assert _check(split, good_url, keys, cookies=bad_cookies) == Allowed("url", "KRSA", LATER)


# --- refusals ----------------------------------------------------------------------------------


def _tamper(signed: str, old: str, new: str) -> str:
    assert old in signed
    return signed.replace(old, new, 1)


def _custom(boto: CloudFrontSigner, policy: str) -> str:
    return str(boto.generate_presigned_url(URL, policy=policy))


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda b: URL, MISSING),
        (lambda b: f"{URL}?x=1", MISSING),
        (
            lambda b: _tamper(
                b.generate_presigned_url(URL, date_less_than=_utc(LATER)),
                "Key-Pair-Id=KRSA",
                "Key-Pair-Id=",
            ),
            MISSING,
        ),
        (
            lambda b: _tamper(
                b.generate_presigned_url(URL, date_less_than=_utc(LATER)), "&Key-Pair-Id=KRSA", ""
            ),
            MISSING,
        ),
        (
            lambda b: _tamper(
                b.generate_presigned_url(URL, date_less_than=_utc(LATER)), "KRSA", "KNOPE"
            ),
            UNKNOWN,
        ),
        (
            lambda b: _tamper(
                b.generate_presigned_url(URL, date_less_than=_utc(LATER)), "Signature=", "Sig="
            ),
            BAD_SIG,
        ),
        (
            lambda b: _tamper(
                b.generate_presigned_url(URL, date_less_than=_utc(LATER)),
                "Signature=",
                "Signature=!!",
            ),
            BAD_SIG,
        ),
        (lambda b: f"{URL}?Expires={LATER}&Signature=&Key-Pair-Id=KRSA", BAD_SIG),
        (lambda b: f"{URL}?Expires={LATER}&Signature={'A' * 5000}&Key-Pair-Id=KRSA", BAD_SIG),
        (
            lambda b: _tamper(
                b.generate_presigned_url(URL, date_less_than=_utc(LATER)), "a.jpg", "b.jpg"
            ),
            DENIED,
        ),
        (
            lambda b: _tamper(
                b.generate_presigned_url(f"{URL}?u=1", date_less_than=_utc(LATER)), "u=1", "u=2"
            ),
            DENIED,
        ),
        (
            lambda b: _tamper(
                b.generate_presigned_url(URL, date_less_than=_utc(LATER)), "https", "http"
            ),
            DENIED,
        ),
        (
            lambda b: _tamper(
                b.generate_presigned_url(URL, date_less_than=_utc(LATER)),
                f"Expires={LATER}",
                f"Expires={LATER + 1}",
            ),
            DENIED,
        ),
        (
            lambda b: _tamper(
                b.generate_presigned_url(URL, date_less_than=_utc(LATER)),
                f"Expires={LATER}",
                "Expires=soon",
            ),
            BAD_POLICY,
        ),
        (
            lambda b: _tamper(
                b.generate_presigned_url(URL, date_less_than=_utc(LATER)),
                f"Expires={LATER}",
                "Expires=" + "9" * 100_000,
            ),
            BAD_POLICY,
        ),
        (
            lambda b: _tamper(
                b.generate_presigned_url(URL, date_less_than=_utc(LATER)),
                f"Expires={LATER}",
                "Expires=4294967296",
            ),
            BAD_POLICY,
        ),
        (lambda b: b.generate_presigned_url(URL, date_less_than=_utc(NOW - 1)), DENIED),
        (lambda b: b.generate_presigned_url(URL, date_less_than=_utc(NOW)), DENIED),
        (lambda b: _custom(b, b.build_policy(URL, _utc(LATER), _utc(NOW + 60))), DENIED),
        (lambda b: _custom(b, b.build_policy(URL, _utc(LATER), None, "198.51.100.0/24")), DENIED),
        (
            lambda b: _custom(
                b, b.build_policy("https://d111111abcdef8.cloudfront.net/public/*", _utc(LATER))
            ),
            DENIED,
        ),
        (lambda b: _custom(b, '{"Statement":[{"Resource":"*","Condition":{}}]}'), BAD_POLICY),
        (lambda b: _custom(b, "this is not json"), BAD_POLICY),
        (lambda b: _custom(b, '{"Statement":[{"Resource":"*"}]}'), BAD_POLICY),
        (lambda b: f"{URL}?Policy=%%%&Signature=QUFB&Key-Pair-Id=KRSA", BAD_POLICY),
        (lambda b: f"{URL}?Policy={'QUFB' * 10_000}&Signature=QUFB&Key-Pair-Id=KRSA", BAD_POLICY),
        (lambda b: f"{URL}?Signature=QUFB&Key-Pair-Id=KRSA", BAD_POLICY),
        (
            lambda b: _tamper(
                b.generate_presigned_url(URL, date_less_than=_utc(LATER)),
                "Signature",
                "Policy=e30_&Signature",
            ),
            BAD_POLICY,
        ),
        (
            lambda b: b.generate_presigned_url(URL, date_less_than=_utc(LATER)) + "&Signature=QUFB",
            DENIED,
        ),
        (
            lambda b: (
                b.generate_presigned_url(URL, date_less_than=_utc(LATER)) + "&Hash-Algorithm=MD5"
            ),
            DENIED,
        ),
    ],
)
def test_refusals(
    boto: CloudFrontSigner,
    keys: dict[str, PublicKey],
    split: Split,
    make: Callable[[CloudFrontSigner], str],
    expected: tuple[str, str],
) -> None:
    assert _reason(_check(split, make(boto), keys)) == expected


def test_signature_from_another_key_is_refused(
    other_rsa_key: rsa.RSAPrivateKey, keys: dict[str, PublicKey], split: Split
) -> None:
    signed = sign_url(URL, "KRSA", other_rsa_key, expires=LATER)
    result = _check(split, signed, keys)
    assert _reason(result) == DENIED
    assert isinstance(result, Denied) and "signature" in result.detail


def test_ecdsa_signature_on_an_rsa_key_id_is_refused(
    ec_key: ec.EllipticCurvePrivateKey, keys: dict[str, PublicKey], split: Split
) -> None:
    signed = sign_url(URL, "KRSA", ec_key, expires=LATER)
    assert _reason(_check(split, signed, keys)) == DENIED


def test_policy_signature_swapped_between_urls_is_refused(
    boto: CloudFrontSigner, keys: dict[str, PublicKey], split: Split
) -> None:
    first = boto.generate_presigned_url(URL, date_less_than=_utc(LATER))
    second = boto.generate_presigned_url(f"{URL}x", date_less_than=_utc(LATER))
    sig_of_second = second.partition("Signature=")[2].partition("&")[0]
    forged = first.replace(first.partition("Signature=")[2].partition("&")[0], sig_of_second)
    assert _reason(_check(split, forged, keys)) == DENIED


def test_denied_body_is_cloudfront_xml() -> None:
    body = Denied("MissingKey", "Missing Key-Pair-Id query parameter or cookie value", "x").body()
    assert body == (
        b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>MissingKey</Code>'
        b"<Message>Missing Key-Pair-Id query parameter or cookie value</Message></Error>"
    )
    assert b"&lt;b&gt;" in Denied("A", "<b>", "").body()


def test_no_key_groups_means_unknown_key(boto: CloudFrontSigner, split: Split) -> None:
    signed = boto.generate_presigned_url(URL, date_less_than=_utc(LATER))
    assert _reason(_check(split, signed, {})) == UNKNOWN


# --- keys --------------------------------------------------------------------------------------


def test_load_public_key(rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey) -> None:
    for private in (rsa_key, ec_key):
        pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        assert (
            load_public_key(pem.decode()).public_numbers() == private.public_key().public_numbers()
        )


@pytest.mark.parametrize(
    "pem", ["", "garbage", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"]
)
def test_load_public_key_rejects_garbage(pem: str) -> None:
    with pytest.raises(ValueError, match="PEM public key"):
        load_public_key(pem)


def test_load_public_key_rejects_other_key_types() -> None:
    pem = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError, match="RSA or ECDSA"):
        load_public_key(pem)


# --- hostile input never raises ------------------------------------------------------------------

_STATIC_KEY = ec.generate_private_key(ec.SECP256R1())
_names = st.sampled_from(
    ["Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm", "x", ""]
)
_values = st.one_of(
    st.none(), st.text(max_size=40), st.sampled_from(["KRSA", "KEC", "QUFB", "e30_", "1800000000"])
)


@given(
    st.lists(st.tuples(_names, _values), max_size=8),
    st.dictionaries(st.text(max_size=30), st.text(max_size=40), max_size=4),
    st.text(max_size=20),
)
def test_random_requests_never_raise(pairs: QueryPairs, cookies: dict[str, str], ip: str) -> None:
    result = check_request(URL, pairs, cookies, key_groups={}, now=NOW, client_ip=ip)
    assert isinstance(result, Denied)


@given(query=st.text(max_size=200))
def test_random_query_strings_never_raise(split: Split, query: str) -> None:
    base, pairs = split(f"{URL}?{query}")
    result = check_request(base, pairs, {}, key_groups={}, now=NOW, client_ip=IP)
    assert isinstance(result, Denied)


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "CloudFront-Expires": st.text(max_size=20),
            "CloudFront-Policy": st.text(max_size=60),
            "CloudFront-Signature": st.text(max_size=60),
            "CloudFront-Key-Pair-Id": st.sampled_from(["KRSA", "KEC", "", "K"]),
            "CloudFront-Hash-Algorithm": st.sampled_from(["SHA1", "SHA256", "x"]),
        },
    )
)
def test_random_cookies_with_real_keys_are_refused(cookies: dict[str, str]) -> None:
    public = {"KRSA": _STATIC_KEY.public_key()}
    result = check_request(URL, [], cookies, key_groups=public, now=NOW, client_ip=IP)
    assert isinstance(result, Denied)


def test_b64_encode_is_used_for_cookies(rsa_key: rsa.RSAPrivateKey) -> None:
    cookies = sign_cookies(URL, "KRSA", rsa_key, expires=LATER)
    assert set(cookies) == {"CloudFront-Expires", "CloudFront-Signature", "CloudFront-Key-Pair-Id"}
    assert cookies["CloudFront-Signature"] == b64_encode(
        rsa_key.sign(
            (
                '{"Statement":[{"Resource":"' + URL + '","Condition":{"DateLessThan":'
                '{"AWS:EpochTime":' + str(LATER) + "}}}]}"
            ).encode(),
            padding.PKCS1v15(),
            hashes.SHA1(),
        )
    )
