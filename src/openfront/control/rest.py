"""The rest-xml protocol from the service model: routes, request params, response parts.

``match`` finds the CloudFront operation a method and path name (all 167, implemented or not),
``parse_input`` turns URI, query, headers and body into botocore's parameter dict, and
``render_output`` turns an operation's result dict back into status, headers and XML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import unquote

from openfront.control.awsmodel import operation, operations, shape
from openfront.control.errors import ApiError
from openfront.control.xmlcodec import XmlError, conform, decode_document, encode


@dataclass(frozen=True, slots=True)
class Route:
    operation: str
    method: str
    pattern: re.Pattern[str]
    query: tuple[str, str] | None  # a literal like ?WithTags or ?Operation=Tag


def _compile(uri: str) -> tuple[re.Pattern[str], tuple[str, str] | None]:
    path, _, query = uri.partition("?")
    regex = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", path)
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
    key, _, value = query.partition("=")
    return re.compile(f"^{regex}$"), ((key, value) if key else None)


@cache
def routes() -> tuple[Route, ...]:
    found = []
    for name, op in operations().items():
        pattern, query = _compile(op["http"]["requestUri"])
        found.append(Route(name, op["http"]["method"], pattern, query))
    # Routes that need a query literal go first, so ?WithTags wins over the plain route.
    return tuple(sorted(found, key=lambda r: r.query is None))


def match(method: str, path: str, query: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The operation and its URI parameters; UnknownOperation/MethodNotAllowed otherwise."""
    path_matched = False
    for route in routes():
        found = route.pattern.match(path)
        if found is None:
            continue
        path_matched = True
        if route.method == method and _query_matches(route.query, query):
            return route.operation, {k: unquote(v) for k, v in found.groupdict().items()}
    if path_matched:
        raise ApiError("MethodNotAllowed", f"{method} is not allowed on {path[:200]}")
    raise ApiError("UnknownOperation", f"No CloudFront operation at {path[:200]}")


def _query_matches(literal: tuple[str, str] | None, query: Mapping[str, str]) -> bool:
    if literal is None:
        return True
    key, value = literal
    return key in query and (not value or query[key] == value)


def _scalar(value: str, shape_name: str, what: str) -> Any:
    kind = shape(shape_name)["type"]
    if kind in ("integer", "long"):
        if not re.fullmatch(r"[0-9]{1,18}", value):
            raise ApiError("InvalidArgument", f"{what} must be an integer")
        return int(value)
    if kind == "boolean":
        return value == "true"
    return value


def parse_input(
    op_name: str,
    uri: Mapping[str, str],
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
) -> dict[str, Any]:
    """botocore's parameter dict for one request of ``op_name``."""
    input_ref = operation(op_name).get("input")
    if input_ref is None:
        return {}
    sh = shape(input_ref["shape"])
    params: dict[str, Any] = {}
    for name, member in sh["members"].items():
        where, wire = member.get("location"), member.get("locationName", name)
        source = {"uri": uri, "querystring": query, "header": headers}.get(where or "")
        if source is not None and wire in source:
            params[name] = _scalar(source[wire], member["shape"], wire)
    payload = sh.get("payload")
    if payload is not None:
        member = sh["members"][payload]
        if not body.strip():
            if payload in sh.get("required", ()):
                raise ApiError("MissingBody", "This operation requires a request body.")
        else:
            root = member.get("locationName", payload)
            try:
                params[payload] = decode_document(body, member["shape"], root)
            except XmlError as exc:
                raise ApiError("MalformedInput", str(exc)) from None
    return params


def render_output(op_name: str, output: Mapping[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and XML body for an operation's result dict."""
    op = operation(op_name)
    status = int(op["http"].get("responseCode", 200))
    output_ref = op.get("output")
    if output_ref is None:
        return status, {}, b""
    sh = shape(output_ref["shape"])
    headers = {
        member.get("locationName", name): str(output[name])
        for name, member in sh["members"].items()
        if member.get("location") == "header" and output.get(name) is not None
    }
    payload = sh.get("payload")
    if payload is None or output.get(payload) is None:
        return status, headers, b""
    member = sh["members"][payload]
    value = conform(output[payload], member["shape"])
    root = member.get("locationName", payload)
    headers["Content-Type"] = "text/xml"
    return status, headers, encode(value, member["shape"], root)
