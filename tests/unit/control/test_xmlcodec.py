"""The model-driven XML codec: safe parsing, shapes both ways, botocore reads what we write."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.loaders import create_loader
from botocore.model import ServiceModel
from botocore.parsers import RestXMLParser

from openfront.control.awsmodel import NAMESPACE
from openfront.control.errors import error_document
from openfront.control.xmlcodec import (
    MAX_DEPTH,
    XmlError,
    conform,
    decode_document,
    encode,
    parse_xml,
)

SERVICE = ServiceModel(create_loader().load_service_model("cloudfront", "service-2"))


def botocore_reads(op: str, status: int, headers: dict[str, str], body: bytes) -> Any:
    response = {"status_code": status, "headers": headers, "body": body}
    return RestXMLParser().parse(response, SERVICE.operation_model(op).output_shape)


@pytest.mark.parametrize(
    "body",
    [
        b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>',
        b'<!DOCTYPE a SYSTEM "http://example.com/a.dtd"><a/>',
        b"<a><b></a>",
        b"",
        b"<a>" * (MAX_DEPTH + 1) + b"</a>" * (MAX_DEPTH + 1),
        b'<a xmlns="http://example.com/other"/>',
    ],
)
def test_unsafe_or_broken_documents_are_refused(body: bytes) -> None:
    with pytest.raises(XmlError):
        parse_xml(body)


def test_invalidation_batch_decodes_to_botocore_params() -> None:
    body = (
        f'<InvalidationBatch xmlns="{NAMESPACE}"><Paths><Quantity>2</Quantity>'
        "<Items><Path>/a</Path><Path>/b*</Path></Items></Paths>"
        "<CallerReference>ref</CallerReference></InvalidationBatch>"
    ).encode()
    assert decode_document(body, "InvalidationBatch", "InvalidationBatch") == {
        "Paths": {"Quantity": 2, "Items": ["/a", "/b*"]},
        "CallerReference": "ref",
    }


@pytest.mark.parametrize(
    ("inner", "problem"),
    [
        ("<Paths><Quantity>x</Quantity></Paths><CallerReference>r</CallerReference>", "integer"),
        ("<Paths><Quantity>1</Quantity><Items><Url>/a</Url></Items></Paths>", "takes <Path>"),
        ("<Paths><Quantity>0</Quantity></Paths>", "needs a <CallerReference>"),
        ("<Extra/>", "unexpected element"),
        ("<CallerReference>a</CallerReference><CallerReference>b</CallerReference>", "twice"),
        ("text<CallerReference>a</CallerReference>", "not text"),
    ],
)
def test_shape_errors(inner: str, problem: str) -> None:
    body = f"<InvalidationBatch>{inner}</InvalidationBatch>".encode()
    with pytest.raises(XmlError, match=problem):
        decode_document(body, "InvalidationBatch", "InvalidationBatch")


def test_conform_wraps_lists_coerces_and_drops_unknown_keys() -> None:
    value = {
        "RestrictionType": "whitelist",
        "Items": ["DE"],
        "NotInTheModel": 1,
    }
    assert conform(value, "GeoRestriction") == {
        "RestrictionType": "whitelist",
        "Quantity": 1,
        "Items": ["DE"],
    }
    assert conform(["GET", "HEAD"], "CachedMethods") == {"Quantity": 2, "Items": ["GET", "HEAD"]}
    assert conform({"ErrorCode": "404", "ResponseCode": 200}, "CustomErrorResponse") == {
        "ErrorCode": 404,
        "ResponseCode": "200",
    }


def test_botocore_parses_what_encode_writes() -> None:
    created = datetime(2026, 5, 1, 12, 30, 5, 250_000, tzinfo=UTC)
    invalidation = {
        "Id": "I2J0I21PCUYOIK",
        "Status": "Completed",
        "CreateTime": created,
        "InvalidationBatch": {
            "Paths": {"Quantity": 1, "Items": ["/x&y"]},
            "CallerReference": "<r>",
        },
    }
    body = encode(conform(invalidation, "Invalidation"), "Invalidation", "Invalidation")
    assert b"2026-05-01T12:30:05.250Z" in body
    parsed = botocore_reads("GetInvalidation", 200, {}, body)
    assert parsed["Invalidation"] == invalidation


def test_empty_items_are_left_out_and_booleans_are_lower_case() -> None:
    body = encode(conform({"Enabled": False, "Items": []}, "TrustedSigners"), "TrustedSigners", "T")
    assert body.endswith(b"><Enabled>false</Enabled><Quantity>0</Quantity></T>")


def test_error_document_is_what_botocore_expects() -> None:
    body = error_document("PreconditionFailed", "stale <etag>", "req-1")
    parsed = botocore_reads("UpdateDistribution", 412, {"x-amz-request-id": "req-1"}, body)
    assert parsed["Error"] == {
        "Type": "Sender",
        "Code": "PreconditionFailed",
        "Message": "stale <etag>",
    }
    assert parsed["ResponseMetadata"]["RequestId"] == "req-1"
