"""Building response heads: status lines, the per-request CloudFront headers, error pages."""

from __future__ import annotations

import base64
import html
import itertools
import os
from http import HTTPStatus

from openfront.http.headers import HOP_BY_HOP, connection_tokens

_REASONS = {s.value: s.phrase for s in HTTPStatus}
_STATUS_LINES: dict[int, bytes] = {}

# Fields the edge writes itself on every response; never taken from the stored header block.
_EDGE_OWNED = frozenset(
    {"content-length", "age", "x-cache", "via", "x-amz-cf-pop", "x-amz-cf-id", "connection"}
)


def status_line(status: int) -> bytes:
    line = _STATUS_LINES.get(status)
    if line is None:
        reason = _REASONS.get(status, "Unknown")
        line = f"HTTP/1.1 {status} {reason}\r\n".encode("latin-1")
        _STATUS_LINES[status] = line
    return line


def storable_headers(headers: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The origin's response headers as the cache keeps them (RFC 9111 §3.1: no hop-by-hop)."""
    drop = HOP_BY_HOP | _EDGE_OWNED
    conn = None
    for n, v in headers:
        if n.lower() == "connection":
            conn = v if conn is None else conn + "," + v
    if conn:
        drop = drop | connection_tokens(conn)
    return tuple((n, v) for n, v in headers if n.lower() not in drop)


def serialise(headers: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> bytes:
    return "".join(f"{n}: {v}\r\n" for n, v in headers).encode("latin-1", "replace")


class RequestIds:
    """X-Amz-Cf-Id values: 56 URL-safe characters, unique per request, cheap to make."""

    __slots__ = ("_counter", "_prefix")

    def __init__(self) -> None:
        self._prefix = base64.urlsafe_b64encode(os.urandom(30))  # 40 chars, random per process
        self._counter = itertools.count(1)

    def next(self) -> bytes:
        return self._prefix + b"%016x" % next(self._counter)


class EdgeIdentity:
    """The per-edge constant header fields, serialised once."""

    __slots__ = ("_prefixes", "hit", "miss", "pop", "product", "refresh", "tail", "via")

    def __init__(self, *, pop: str, product_name: str, node_id: str) -> None:
        self.pop = pop
        self.product = product_name
        product_title = "CloudFront" if product_name.lower() == "cloudfront" else product_name
        self.via = f"1.1 {node_id}.{product_name.lower()}.net ({product_title})"
        self.tail = f"Via: {self.via}\r\nX-Amz-Cf-Pop: {pop}\r\n".encode("latin-1")
        self.hit = f"X-Cache: Hit from {product_name}\r\n".encode("latin-1")
        self.miss = f"X-Cache: Miss from {product_name}\r\n".encode("latin-1")
        self.refresh = f"X-Cache: RefreshHit from {product_name}\r\n".encode("latin-1")
        self._prefixes: dict[str, bytes] = {}

    def prefix(self, result: str) -> bytes:
        """X-Cache, Via, X-Amz-Cf-Pop and the name of X-Amz-Cf-Id, for one result type."""
        p = self._prefixes.get(result)
        if p is None:
            p = self._prefixes[result] = self.x_cache(result) + self.tail + b"X-Amz-Cf-Id: "
        return p

    def x_cache(self, result: str) -> bytes:
        if result == "Hit":
            return self.hit
        if result == "Miss":
            return self.miss
        if result == "RefreshHit":
            return self.refresh
        return f"X-Cache: {result} from {self.product}\r\n".encode("latin-1")


_ERROR_TEXT = {
    400: "Bad request.",
    403: "Bad request. We can't connect to the server for this app or website at this time.",
    404: "The requested resource was not found.",
    405: "This distribution is not configured to allow the HTTP request method that was used "
    "for this request. The distribution supports only cachable requests.",
    408: "The request timed out before the viewer finished sending it.",
    411: "A request body must state its length.",
    413: "The request is too large.",
    414: "The request URL is too long.",
    416: "The requested range is not satisfiable.",
    431: "The request header fields are too large.",
    500: "An internal error occurred.",
    501: "The request method or protocol feature is not supported.",
    502: "CloudFront wasn't able to connect to the origin.",
    504: "CloudFront attempted to establish a connection with the origin, but either the attempt "
    "failed or the origin closed the connection.",
    505: "The HTTP version is not supported.",
}


def error_body(
    status: int, request_id: bytes, detail: str | None = None, product: str = "cloudfront"
) -> bytes:
    """CloudFront's generated error page, so tooling that greps for it keeps working."""
    text = detail or _ERROR_TEXT.get(status, _REASONS.get(status, "Error"))
    name = "CloudFront" if product.lower() == "cloudfront" else product
    page = (
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" '
        '"http://www.w3.org/TR/html4/loose.dtd">\n'
        '<HTML><HEAD><META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=iso-8859-1">\n'
        "<TITLE>ERROR: The request could not be satisfied</TITLE>\n"
        f"</HEAD><BODY>\n<H1>{status} ERROR</H1>\n<H2>The request could not be satisfied.</H2>\n"
        f'<HR noshade size="1px">\n{html.escape(text)}\n<BR clear="all">\n'
        f'<HR noshade size="1px">\n<PRE>\nGenerated by {html.escape(name)}\n'
        f"Request ID: {html.escape(request_id.decode())}\n"
        "</PRE>\n<ADDRESS>\n</ADDRESS>\n</BODY></HTML>"
    )
    return page.encode("latin-1", "replace")
