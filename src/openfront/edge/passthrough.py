"""Pass-through: requests that are not served from cache (unsafe methods, uncacheable answers)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from openfront.cache.policy import Behavior
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
    head = serialise(storable_headers(resp.headers)) + framing + extra
    first = status_line(status) + head + edge._per_request(ctx, None) + b"\r\n"
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
