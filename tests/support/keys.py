"""Signing key pairs for tests that sign CloudFront URLs or cookies."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def ec_key_pair(folder: Path) -> tuple[Path, str]:
    """A new P-256 private key written to ``folder/cloudfront.pem`` and its public key (PEM)."""
    private = ec.generate_private_key(ec.SECP256R1())
    pem = folder / "cloudfront.pem"
    pem.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, public.decode()
