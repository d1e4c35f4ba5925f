"""CloudFront private content: signed URLs and signed cookies (pure, no I/O, no clock)."""

from openfront.signing.policy import (
    SIGNING_PARAMS,
    Policy,
    ResourcePattern,
    b64_decode,
    b64_encode,
    canned_policy,
    parse_policy,
    strip_signing_params,
)
from openfront.signing.sign import (
    PrivateKey,
    build_policy,
    load_private_key,
    sign_cookies,
    sign_url,
)
from openfront.signing.verify import (
    Allowed,
    Denied,
    PublicKey,
    check_request,
    load_public_key,
)

__all__ = [
    "SIGNING_PARAMS",
    "Allowed",
    "Denied",
    "Policy",
    "PrivateKey",
    "PublicKey",
    "ResourcePattern",
    "b64_decode",
    "b64_encode",
    "build_policy",
    "canned_policy",
    "check_request",
    "load_private_key",
    "load_public_key",
    "parse_policy",
    "sign_cookies",
    "sign_url",
    "strip_signing_params",
]
