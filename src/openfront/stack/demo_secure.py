"""The demo's private-content, geo and HTTPS parts: a local CA and certificate, a signing key.

Everything is made once under the data dir and reused, so a browser that trusted the demo CA
and a signed URL handed out earlier keep working across restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from openfront.cli._certgen import CA_FILE, issue_certificate, load_or_create_ca
from openfront.fileio import write_atomic

KEY_PAIR_ID = "KOPENFRONTDEMO"
KEY_GROUP_ID = "demo-signers"
# A country the demo blocks, and an address geoip2fast places there, to try the rule with.
BLOCKED_COUNTRY = "KP"
BLOCKED_SAMPLE_IP = "175.45.176.1"
DEMO_NAMES = ("localhost", "demo.openfront.localhost", "127.0.0.1")


@dataclass(frozen=True, slots=True)
class DemoSecrets:
    ca: Path
    cert: Path
    cert_key: Path
    signing_key: Path
    public_key_pem: str


def ensure_secrets(directory: Path) -> DemoSecrets:
    """The CA, the edge's certificate for the demo names, and an RSA signing key pair."""
    certs = directory / "certs"
    ca, _ = load_or_create_ca(certs)
    cert, cert_key = certs / "localhost.pem", certs / "localhost-key.pem"
    if not (cert.exists() and cert_key.exists()):
        cert, cert_key = issue_certificate(certs, list(DEMO_NAMES), ca)
    signing = directory / "keys" / "demo-signing-key.pem"
    if not signing.exists():
        signing.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_atomic(signing, pem, 0o600)
    private = serialization.load_pem_private_key(signing.read_bytes(), password=None)
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return DemoSecrets(certs / CA_FILE, cert, cert_key, signing, public.decode("ascii"))


def edge_settings(secrets: DemoSecrets, https_listen: str) -> dict[str, Any]:
    """Edge-level settings: the HTTPS listener, and loopback as a trusted proxy so that
    `X-Forwarded-For` can stand in for a viewer from another country."""
    return {
        "tls": {
            "listen": https_listen,
            "certificates": [
                {
                    "names": list(DEMO_NAMES[:2]),
                    "cert_file": str(secrets.cert),
                    "key_file": str(secrets.cert_key),
                }
            ],
        },
        "viewer": {"trusted_proxies": ["127.0.0.1/32", "::1/128"]},
    }


def key_settings(secrets: DemoSecrets) -> dict[str, Any]:
    """Top-level PublicKeys and KeyGroups for the private behavior."""
    return {
        "PublicKeys": [
            {
                "Id": KEY_PAIR_ID,
                "PublicKeyConfig": {
                    "Name": "openfront-demo",
                    "EncodedKey": secrets.public_key_pem,
                    "Comment": "made by openfront up",
                },
            }
        ],
        "KeyGroups": [
            {"Id": KEY_GROUP_ID, "KeyGroupConfig": {"Name": KEY_GROUP_ID, "Items": [KEY_PAIR_ID]}}
        ],
    }


def private_behavior(origin_id: str, cache_policy_id: str) -> dict[str, Any]:
    """`/private/*`: only with a URL or cookies signed by the demo key, HTTPS only."""
    return {
        "PathPattern": "/private/*",
        "TargetOriginId": origin_id,
        "ViewerProtocolPolicy": "redirect-to-https",
        "CachePolicyId": cache_policy_id,
        "TrustedKeyGroups": {"Enabled": True, "Items": [KEY_GROUP_ID]},
        "Compress": True,
    }


def geo_restriction() -> dict[str, Any]:
    return {"GeoRestriction": {"RestrictionType": "blacklist", "Items": [BLOCKED_COUNTRY]}}
