"""`openfront cert`: a local CA, reused, signing certificates whose SANs are the given names."""

from __future__ import annotations

import ssl
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509

from openfront.cli.main import main


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["cert", *args])
    return result.exit_code, result.output


def _sans(path: Path) -> list[str]:
    cert = x509.load_pem_x509_certificates(path.read_bytes())[0]
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [str(v) for v in ext.get_values_for_type(x509.DNSName)] + [
        str(v) for v in ext.get_values_for_type(x509.IPAddress)
    ]


def test_makes_a_ca_and_a_certificate_for_all_names(tmp_path: Path) -> None:
    code, output = _run("--dir", str(tmp_path), "cdn.example.com", "*.example.com", "127.0.0.1")
    assert code == 0, output
    cert, key = tmp_path / "cdn.example.com.pem", tmp_path / "cdn.example.com-key.pem"
    assert _sans(cert) == ["cdn.example.com", "*.example.com", "127.0.0.1"]
    for secret in (key, tmp_path / "ca-key.pem"):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert "CA (created)" in output and str(cert) in output
    assert f"curl --cacert {tmp_path / 'ca.pem'}" in output
    ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key)  # the key matches


def test_reuses_the_ca(tmp_path: Path) -> None:
    assert _run("--dir", str(tmp_path), "a.example.com")[0] == 0
    ca = (tmp_path / "ca.pem").read_bytes()
    code, output = _run("--dir", str(tmp_path), "b.example.com")
    assert code == 0 and "CA (reused)" in output
    assert (tmp_path / "ca.pem").read_bytes() == ca
    issuer = x509.load_pem_x509_certificate(ca).subject
    leaf = x509.load_pem_x509_certificates((tmp_path / "b.example.com.pem").read_bytes())[0]
    assert leaf.issuer == issuer
    leaf.verify_directly_issued_by(x509.load_pem_x509_certificate(ca))


def test_a_wildcard_first_name_gets_a_safe_file_name(tmp_path: Path) -> None:
    code, output = _run("--dir", str(tmp_path), "*.example.com")
    assert code == 0, output
    assert _sans(tmp_path / "_wildcard.example.com.pem") == ["*.example.com"]
    assert (tmp_path / "_wildcard.example.com-key.pem").exists()


@pytest.mark.parametrize("name", ["a..b", "x-.example.com", "a.*.example.com", "a b", "é.com"])
def test_a_bad_name_is_refused_before_anything_is_written(tmp_path: Path, name: str) -> None:
    code, output = _run("--dir", str(tmp_path / "certs"), "ok.example.com", name)
    assert code == 2
    assert "is not a host name" in output
    assert not (tmp_path / "certs").exists()


def test_no_name_is_a_usage_error(tmp_path: Path) -> None:
    code, output = _run("--dir", str(tmp_path))
    assert code == 2 and "NAME" in output


@pytest.mark.parametrize("broken", ["missing_key", "garbage"])
def test_a_broken_ca_is_a_clear_error(tmp_path: Path, broken: str) -> None:
    assert _run("--dir", str(tmp_path), "a.example.com")[0] == 0
    if broken == "missing_key":
        (tmp_path / "ca-key.pem").unlink()
        expected = "ca-key.pem is missing"
    else:
        (tmp_path / "ca.pem").write_text("garbage\n")
        expected = "not a usable CA"
    code, output = _run("--dir", str(tmp_path), "b.example.com")
    assert code == 2 and expected in output
    assert not (tmp_path / "b.example.com.pem").exists()


def test_an_unwritable_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, output = _run("--dir", str(blocker / "sub"), "a.example.com")
    assert code != 0 and "error:" in output
