"""Pass-through: requests that are not served from cache (unsafe methods, uncacheable answers)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from openfront.cache.policy import Behavior
from openfront.cache.response_headers import ResponseHeadersPolicy, edge_preflight, edit_fields
from openfront.edge.respond import serialise, status_line, storable_headers
from openfront.edge.upstream import send
from openfront.errors import OriginError
from openfront.http.headers import first_value

if TYPE_CHECKING:
    from openfront.edge.handler import Ctx, Edge
    from openfront.edge.origin import OriginResponse


def _framing(method: str, version: str, resp: OriginResponse) -> tuple[bytes, bool, bool, bool]:
    """(framing header lines, chunked, send a body, keep the connection) for the viewer."""
    status = resp.status
    if _no_body(method, status):
        if method == "HEAD" and status != 304 and status >= 200 and status != 204:
            # RFC 9110 §9.3.2: the length a GET would have had, when the origin said it.
            length = first_value(resp.headers, "content-length")
            if length is not None and length.isdigit():
                return f"Content-Length: {length}\r\n".encode("latin-1"), False, False, True
        return b"", False, False, True
    if resp.content_length is not None:
        return b"Content-Length: %d\r\n" % resp.content_length, False, True, True
    if version == "1.1":
        return b"Transfer-Encoding: chunked\r\n", True, True, True
    return b"", False, True, False  # close-delimited for HTTP/1.0 viewers


def _no_body(method: str, status: int) -> bool:
    return method == "HEAD" or status in (204, 304) or 100 <= status < 200


async def forward(
    edge: Edge, ctx: Ctx, beh: Behavior, *, response: OriginResponse | None = None
) -> None:
    """Send the viewer's request upstream (or use ``response``) and stream the answer back."""
    req = ctx.req
    conn = ctx.conn
    dist = ctx.dist
    assert dist is not None
    env = edge.env
    if response is None:
        body = req.body.chunks() if req.body is not None else None
        started = time.monotonic()
        try:
            response, _ = await send(
                env.client,
                dist.dist,
                beh,
                req,
                method=req.method,
                request_id=ctx.rid.decode(),
                via=edge.identity.via,
                accept_encoding=None,
                cacheable=False,
                body=body,
                scheme=conn.scheme,
            )
        except OriginError as e:
            env.metrics.origin(
                dist.dist.id, time.monotonic() - started, getattr(e, "detail", "OriginError")
            )
            raise
        env.metrics.origin(dist.dist.id, time.monotonic() - started, None)
    resp = response
    status = resp.status
    if status >= 400:
        ctx.result = "Error"
    framing, chunked, send_body, keep_alive = _framing(req.method, req.version, resp)
    extra = b""
    if first_value(resp.headers, "date") is None:
        extra += b"Date: " + edge.dates(time.time()) + b"\r\n"  # RFC 9110 §6.6.1
    age = first_value(resp.headers, "age")
    if age is not None and age.isdigit():
        # Not stored, so no age of ours to add: pass the upstream's on (RFC 9111 §5.1).
        extra += f"Age: {age}\r\n".encode("latin-1")
    kept = storable_headers(resp.headers)
    policy = ctx.policy
    tail = b""
    if policy is not None:
        ctx.edit = edit_fields(policy, kept)
        kept = ctx.edit.fields
        tail = edge.policy_lines(ctx, "miss", upstream_ms=_upstream_ms(resp))
    head = serialise(kept) + framing + extra
    first = status_line(status) + head + edge._per_request(ctx, None) + tail + b"\r\n"
    conn.write(first)
    ctx.head_len = len(first)
    ctx.content_type = first_value(resp.headers, "content-type")
    ctx.status = status
    sent = 0
    if send_body:
        try:
            while True:
                chunk = await resp.read()
                if not chunk:
                    break
                sent += len(chunk)
                await conn.send(chunk, chunked)
        except BaseException:
            resp.close()
            raise
        if not resp.complete:
            resp.close()
            raise OriginError("origin body truncated")
        if chunked:
            conn.write(b"0\r\n\r\n")
        resp.release()
    else:
        resp.close()
    ctx.sent = sent
    edge.done(ctx, keep_alive)


def _upstream_ms(resp: OriginResponse) -> tuple[int, int, int]:
    """Server-Timing's (dns, connect, first byte) in ms; name resolution is part of connect."""
    connect = 0 if resp.reused else int(resp.connect_seconds * 1000)
    return 0, connect, int(resp.first_byte_seconds * 1000)


def answer_preflight(edge: Edge, ctx: Ctx, policy: ResponseHeadersPolicy) -> bool:
    """Answer a CORS preflight at the edge when the policy's CorsConfig covers it (guide §1.5);
    False leaves the request to the origin."""
    cors = policy.cors
    if cors is None:
        return False
    req = ctx.req
    lookup = req.lookup
    fields = edge_preflight(
        cors,
        req.method,
        lookup.get("origin"),
        lookup.get("access-control-request-method"),
        lookup.get("access-control-request-headers"),
    )
    if fields is None:
        return False
    ctx.result = "Hit"  # answered by the edge; the origin never sees it
    ctx.policy = policy
    head = (
        status_line(200)
        + b"Server: CloudFront\r\nDate: "
        + edge.dates(time.time())
        + b"\r\nContent-Length: 0\r\n"
        + serialise(fields)
        + edge._per_request(ctx, None)
        + edge.policy_lines(ctx, "hit", cors=False)
        + b"\r\n"
    )
    ctx.conn.write(head)
    ctx.head_len = len(head)
    ctx.status = 200
    edge.done(ctx, keep_alive=not req.has_body)
    return True
