"""`openfront sign-url` / `sign-cookie`: what they print verifies against the public key."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from openfront.cli.main import main
from openfront.signing import Allowed, Denied, PublicKey, check_request
from openfront.signing.policy import QueryPairs

URL = "https://cdn.example.com/private/a.jpg"
IP = "192.0.2.10"
KEY_ID = "K2JCJMDEHXQW5F"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(tmp_path: Path, key: PrivateKey) -> Path:
    path = tmp_path / "private.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="openfront")


def split(signed: str) -> tuple[str, QueryPairs]:
    base, _, query = signed.partition("?")
    pairs: QueryPairs = []
    for piece in query.split("&") if query else []:
        name, eq, val = piece.partition("=")
        pairs.append((name, val if eq else None))
    return base, pairs


def verify(
    url: str, key: PrivateKey, cookies: dict[str, str] | None = None, now: float | None = None
) -> Allowed | Denied:
    base, pairs = split(url)
    keys: dict[str, PublicKey] = {KEY_ID: key.public_key()}
    when = time.time() if now is None else now
    return check_request(base, pairs, cookies or {}, key_groups=keys, now=when, client_ip=IP)


def _sign_url(key_file: Path, *extra: str, url: str = URL) -> Result:
    return run("sign-url", url, "--key-pair-id", KEY_ID, "--private-key", str(key_file), *extra)


@pytest.mark.parametrize("algorithm", ["SHA1", "sha256"])
@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_signed_url_verifies(
    tmp_path: Path,
    rsa_key: rsa.RSAPrivateKey,
    ec_key: ec.EllipticCurvePrivateKey,
    kind: str,
    algorithm: str,
) -> None:
    key = rsa_key if kind == "rsa" else ec_key
    result = _sign_url(_write_key(tmp_path, key), "--hash-algorithm", algorithm)
    assert result.exit_code == 0, result.output
    signed = result.stdout.strip()
    assert signed.startswith(f"{URL}?Expires=") and f"Key-Pair-Id={KEY_ID}" in signed
    assert ("Hash-Algorithm=SHA256" in signed) == (algorithm == "sha256")
    assert isinstance(verify(signed, key), Allowed)


def test_signed_url_keeps_the_query_and_fails_for_another_key(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    result = _sign_url(_write_key(tmp_path, rsa_key), url=f"{URL}?size=large")
    signed = result.stdout.strip()
    assert signed.startswith(f"{URL}?size=large&Expires=")
    assert isinstance(verify(signed, rsa_key), Allowed)
    assert isinstance(verify(signed, ec_key), Denied)


def test_expiry_options(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    key_file = _write_key(tmp_path, rsa_key)
    at = _sign_url(key_file, "--expires", "1800000000").stdout.strip()
    assert "Expires=1800000000&" in at
    assert isinstance(verify(at, rsa_key, now=1_799_999_999), Allowed)
    assert isinstance(verify(at, rsa_key, now=1_800_000_000), Denied)
    before = int(time.time())
    soon = _sign_url(key_file, "--expires-in", "60").stdout.strip()
    expires = int(dict(split(soon)[1])["Expires"] or 0)
    assert before + 60 <= expires <= int(time.time()) + 60


def test_custom_policy_file(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    policy = tmp_path / "policy.json"
    statement = {
        "Resource": "https://cdn.example.com/private/*",
        "Condition": {
            "DateLessThan": {"AWS:EpochTime": 1800000000},
            "IpAddress": {"AWS:SourceIp": "192.0.2.0/24"},
        },
    }
    policy.write_text(json.dumps({"Statement": [statement]}, indent=2))
    result = _sign_url(_write_key(tmp_path, rsa_key), "--policy", str(policy))
    assert result.exit_code == 0, result.output
    signed = result.stdout.strip()
    assert "&Policy=" in signed or "?Policy=" in signed
    assert isinstance(verify(signed, rsa_key, now=1_700_000_000), Allowed)


def _cookies(lines: str) -> dict[str, str]:
    pairs = (line.split(";", 1)[0].partition("=") for line in lines.splitlines())
    return {name: value for name, _, value in pairs}


@pytest.mark.parametrize(
    ("resource", "request_url", "first"),
    [
        (URL, URL, "CloudFront-Expires"),
        ("https://cdn.example.com/private/*", f"{URL}?v=2", "CloudFront-Policy"),
    ],
)
def test_signed_cookies_verify(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, resource: str, request_url: str, first: str
) -> None:
    key_file = _write_key(tmp_path, rsa_key)
    result = run("sign-cookie", resource, "--key-pair-id", KEY_ID, "--private-key", str(key_file))
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith(f"{first}=")
    assert all(line.endswith("; Path=/; Secure; HttpOnly") for line in lines)
    cookies = _cookies(result.stdout)
    assert cookies["CloudFront-Key-Pair-Id"] == KEY_ID
    assert isinstance(verify(request_url, rsa_key, cookies), Allowed)
    assert isinstance(verify("https://cdn.example.com/public/a.jpg", rsa_key, cookies), Denied)


def test_sha256_cookie_adds_a_fourth_line(
    tmp_path: Path, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    result = run(
        "sign-cookie", URL, "--key-pair-id", KEY_ID,
        "--private-key", str(_write_key(tmp_path, ec_key)), "--hash-algorithm", "SHA256",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    cookies = _cookies(result.stdout)
    assert cookies["CloudFront-Hash-Algorithm"] == "SHA256"
    assert isinstance(verify(URL, ec_key, cookies), Allowed)


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("not a key", [], "--private-key"),
        (None, [], "cannot read"),
        ("KEY", ["--expires", "1", "--expires-in", "5"], "not both"),
        ("KEY", ["--expires", "99999999999"], "32-bit"),
        ("KEY", ["--policy", "POLICY", "--expires-in", "5"], "leave out --expires"),
        ("KEY", ["--policy", "BADPOLICY"], "not JSON"),
        ("KEY", ["--policy", "EMPTYPOLICY"], "not a valid CloudFront policy"),
    ],
)
def test_bad_input_is_one_red_line_and_exit_2(
    tmp_path: Path,
    rsa_key: rsa.RSAPrivateKey,
    content: str | None,
    args: list[str],
    message: str,
) -> None:
    key_file = _write_key(tmp_path, rsa_key)
    if content is None:
        key_file = tmp_path / "missing.pem"
    elif content != "KEY":
        key_file.write_text(content)
    (tmp_path / "policy.json").write_text('{"Statement":[{"Condition":{"DateLessThan":'
                                          '{"AWS:EpochTime":1800000000}}}]}')  # fmt: skip
    (tmp_path / "bad.json").write_text("{")
    (tmp_path / "empty.json").write_text("{}")
    paths = {"POLICY": "policy.json", "BADPOLICY": "bad.json", "EMPTYPOLICY": "empty.json"}
    args = [str(tmp_path / paths[a]) if a in paths else a for a in args]
    result = _sign_url(key_file, *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == "" and "Traceback" not in result.output


@pytest.mark.parametrize("command", ["sign-url", "sign-cookie"])
def test_not_a_url_is_refused(tmp_path: Path, rsa_key: rsa.RSAPrivateKey, command: str) -> None:
    key_file = str(_write_key(tmp_path, rsa_key))
    result = run(command, "/private/a.jpg", "--key-pair-id", KEY_ID, "--private-key", key_file)
    assert result.exit_code == 2 and "expected an http:// or https:// URL" in result.stderr


def test_help_shows_the_options() -> None:
    for command in ("sign-url", "sign-cookie"):
        result = run(command, "--help")
        assert result.exit_code == 0
        for option in ("--key-pair-id", "--private-key", "--expires-in", "--policy", "SHA256"):
            assert option in result.output
