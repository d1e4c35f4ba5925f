"""botocore's CloudFront service model (2020-05-31): shapes, operations and error statuses.

The model ships with botocore, so the API's XML names, list member names and error codes come
from the same file the clients use instead of a hand-copied table.
"""

from __future__ import annotations

from functools import cache
from typing import Any

API_VERSION = "2020-05-31"
NAMESPACE = f"http://cloudfront.amazonaws.com/doc/{API_VERSION}/"

Shape = dict[str, Any]

# Errors CloudFront answers with that the model does not declare (auth, XML, routing).
_UNMODELLED_STATUS = {
    "MalformedInput": 400,
    "InvalidationBatchAlreadyExists": 409,
    "MissingAuthenticationToken": 403,
    "IncompleteSignature": 400,
    "InvalidClientTokenId": 403,
    "SignatureDoesNotMatch": 403,
    "RequestTimeTooSkewed": 403,
    "XAmzContentSHA256Mismatch": 400,
    "RequestEntityTooLarge": 413,
    "NotImplemented": 501,
    "UnknownOperation": 404,
    "MethodNotAllowed": 405,
    "NoSuchEdge": 404,
    "InternalFailure": 500,
}


@cache
def service_model() -> dict[str, Any]:
    from botocore.loaders import create_loader

    model: dict[str, Any] = create_loader().load_service_model(
        "cloudfront", "service-2", API_VERSION
    )
    return model


def shape(name: str) -> Shape:
    found: Shape = service_model()["shapes"][name]
    return found


def operation(name: str) -> dict[str, Any]:
    found: dict[str, Any] = service_model()["operations"][name]
    return found


def operations() -> dict[str, dict[str, Any]]:
    ops: dict[str, dict[str, Any]] = service_model()["operations"]
    return ops


def error_status(code: str) -> int:
    """The HTTP status CloudFront answers an error code with (400 when nothing says)."""
    found = service_model()["shapes"].get(code, {}).get("error")
    if found is not None:
        return int(found["httpStatusCode"])
    return _UNMODELLED_STATUS.get(code, 400)
