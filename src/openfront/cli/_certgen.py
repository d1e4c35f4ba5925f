"""A local CA and server certificates signed by it, for `openfront cert` and tests."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from openfront.config.edge import check_host_name
from openfront.fileio import write_atomic

CA_FILE, CA_KEY_FILE = "ca.pem", "ca-key.pem"
CA_DAYS = 3650
CERT_DAYS = 825  # the longest validity macOS/iOS accept for a certificate from a private CA
_BACKDATE = datetime.timedelta(hours=1)  # tolerate a viewer clock slightly behind


@dataclass(frozen=True)
class Authority:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OpenFront local CA"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _new_ca() -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    name = _name("OpenFront local CA")
    usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(cert, key)


def load_or_create_ca(directory: Path) -> tuple[Authority, bool]:
    """The CA in `directory` (ca.pem, ca-key.pem), made if absent; True when it was made."""
    cert_path, key_path = directory / CA_FILE, directory / CA_KEY_FILE
    if cert_path.exists() != key_path.exists():
        missing = key_path if cert_path.exists() else cert_path
        raise ValueError(f"{missing} is missing: restore it or remove both CA files")
    if cert_path.exists():
        try:
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{cert_path} / {key_path}: not a usable CA ({exc})") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{key_path}: not an EC key made by openfront cert")
        return Authority(cert, key), False
    directory.mkdir(parents=True, exist_ok=True)
    ca = _new_ca()
    write_atomic(key_path, _key_pem(ca.key), 0o600)
    write_atomic(cert_path, ca.cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return ca, True


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def san(names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(check_host_name(name).lower()))
    return x509.SubjectAlternativeName(entries)


def file_stem(name: str) -> str:
    """File name base for a certificate: `*.example.com` becomes `_wildcard.example.com`."""
    return name.replace("*", "_wildcard")


def issue_certificate(directory: Path, names: list[str], ca: Authority) -> tuple[Path, Path]:
    """Write `<first-name>.pem` (cert + CA chain) and `<first-name>-key.pem` for the names."""
    alt_names = san(names)  # validates every name before anything is written
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    ca_ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    usage = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
        .add_extension(alt_names, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca.key, hashes.SHA256())
    )
    stem = file_stem(names[0].lower())
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}-key.pem"
    chain = cert.public_bytes(serialization.Encoding.PEM)
    chain += ca.cert.public_bytes(serialization.Encoding.PEM)
    # Written then renamed: a running edge reloading the files never reads half of one.
    write_atomic(key_path, _key_pem(key), 0o600)
    write_atomic(cert_path, chain, 0o644)
    return cert_path, key_path
