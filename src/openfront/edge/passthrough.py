"""Pass-through: requests that are not served from cache (unsafe methods, uncacheable answers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openfront.cache.policy import Behavior
from openfront.edge.respond import serialise, status_line, storable_headers
from openfront.edge.upstream import send
from openfront.errors import OriginError

if TYPE_CHECKING:
    from openfront.edge.handler import Ctx, Edge
    from openfront.edge.origin import OriginResponse


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
        started = conn._loop.time()
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
                dist.dist.id, conn._loop.time() - started, getattr(e, "detail", "OriginError")
            )
            raise
        env.metrics.origin(dist.dist.id, conn._loop.time() - started, None)
    resp = response
    status = resp.status
    headers = storable_headers(resp.headers)
    keep_alive = True
    if _no_body(req.method, status):
        framing = b""
        if req.method == "HEAD" and resp.content_length is not None:
            framing = b"Content-Length: %d\r\n" % resp.content_length
        elif status not in (204, 304) and not 100 <= status < 200:
            framing = b"Content-Length: 0\r\n"
        chunked = False
        send_body = False
    elif resp.content_length is not None:
        framing = b"Content-Length: %d\r\n" % resp.content_length
        chunked = False
        send_body = True
    elif req.version == "1.1":
        framing = b"Transfer-Encoding: chunked\r\n"
        chunked = True
        send_body = True
    else:
        framing = b""
        chunked = False
        send_body = True
        keep_alive = False  # close-delimited for HTTP/1.0 viewers
    conn.write(
        status_line(status) + serialise(headers) + framing + edge._per_request(ctx, None) + b"\r\n"
    )
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
