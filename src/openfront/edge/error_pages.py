"""Custom error pages (guide §1.9): the page is looked up, collapsed, fetched and cached like any
GET, through the first behavior whose pattern matches its path (so it may come from another
origin), then sent in place of the error with the custom response's status.

A page that is itself missing or failing reaches the viewer as its origin answered it (or as the
edge's 502/504), never through a second page: a page path that errors cannot loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from openfront._aio import create_task
from openfront.cache.decide import Fresh, StaleServe, lookup, on_error_may_serve_stale
from openfront.cache.entry import EntryMeta
from openfront.cache.error_pages import (
    Cause,
    ErrorPage,
    error_page,
    page_available,
    page_request_fields,
)
from openfront.cache.key import CacheKey
from openfront.cache.policy import Behavior
from openfront.edge.fetch import Fetch, FetchState
from openfront.edge.request import Request
from openfront.edge.respond import serialise, status_line, storable_headers
from openfront.edge.serve import expand, fields, plan_response, wire
from openfront.edge.store.disk import DiskObject
from openfront.edge.store.memory import MemoryObject
from openfront.edge.upstream import send
from openfront.errors import OriginError
from openfront.http.headers import first_value

if TYPE_CHECKING:
    from openfront.edge.handler import Ctx, Edge
    from openfront.edge.origin import OriginResponse

_log = logging.getLogger("openfront.edge")


def page_for(ctx: Ctx, status: int, cause: Cause) -> ErrorPage | None:
    """The distribution's custom page for this error, if it has one."""
    d = ctx.dist
    if d is None or not d.dist.custom_error_responses:
        return None
    return error_page(d.dist.custom_error_responses, status, cause)


def spawn_page(edge: Edge, ctx: Ctx, page: ErrorPage) -> None:
    """Send the page from a task: for errors answered inside the parser callback, which cannot
    wait. (A request coroutine awaits :func:`send_page` instead: the connection dispatches the
    next pipelined request when that coroutine returns.)"""
    create_task(_page_task(edge, ctx, page), name="error-page")


async def _page_task(edge: Edge, ctx: Ctx, page: ErrorPage) -> None:
    try:
        await send_page(edge, ctx, page)
    except asyncio.CancelledError:
        ctx.conn.abort()
        raise
    except (ConnectionError, OriginError):
        ctx.conn.abort()
    except Exception:
        _log.exception("custom error page failed")
        ctx.conn.abort()


async def send_page(edge: Edge, ctx: Ctx, page: ErrorPage) -> None:
    """Answer ``ctx`` with ``page`` instead of its error (``X-Cache: Error``)."""
    d = ctx.dist
    assert d is not None
    req = ctx.req
    fields = page_request_fields(req.lookup)
    # The viewer's request minus Range and If-*: the page goes out whole, and the log keeps the
    # URL the viewer asked for.
    out = replace(ctx, req=_derived(req, req.method, fields, req.target, req.path, req.query))
    out.result = "Error"
    path, _, query = page.path.partition("?")
    page_req = _derived(req, "GET", fields, page.path, path, query)
    beh = d.selector.select(page_req.path)
    ck, full = edge.keys.get(page_req, req.lookup.get("host") or "", beh, d.prefix)
    fetching = replace(ctx, req=page_req)
    stored = await edge._lookup(full, page_req)
    try:
        await _answer(edge, out, fetching, beh, ck, full, stored, page.status)
    finally:
        if isinstance(stored, DiskObject):
            stored.close()


def _derived(
    req: Request, method: str, fields: dict[str, str], target: str, path: str, query: str
) -> Request:
    r = Request(
        method,
        target,
        path,
        query,
        req.version,
        fields,
        req.keep_alive,
        req.client_ip,
        req.client_port,
        req.start,
        req.header_bytes,
    )
    r.has_body = req.has_body
    return r


async def _answer(
    edge: Edge,
    out: Ctx,
    fetching: Ctx,
    beh: Behavior,
    ck: CacheKey,
    full: bytes,
    stored: MemoryObject | DiskObject | None,
    status: int,
) -> None:
    now = time.time()
    if stored is None:
        fetch = edge.fetcher.join(fetching, beh, ck, full, revalidate=None)
    else:
        decision = lookup(stored.meta, now)
        if isinstance(decision, Fresh | StaleServe):
            if isinstance(decision, StaleServe):
                edge.fetcher.background_revalidate(fetching, beh, ck, full, expand(stored.meta))
            await _send_stored(edge, out, stored, status, now)
            return
        fetch = edge.fetcher.join(fetching, beh, ck, full, revalidate=expand(stored.meta))
    fetch.waiters += 1
    try:
        while fetch.state is FetchState.PENDING:
            await fetch.wait_progress()
        state = fetch.state
        now = time.time()
        if state is FetchState.NOT_MODIFIED and stored is not None:
            assert fetch.meta is not None
            stored.meta = fetch.meta
            await _send_stored(edge, out, stored, status, now)
        elif state in (FetchState.STREAMING, FetchState.DONE) and edge.fetcher.vary_ok(
            fetch, fetching.req
        ):
            await _send_fetch(edge, out, fetch, status)
        elif state is FetchState.FAILED:
            if stored is not None and on_error_may_serve_stale(
                stored.meta, now, fetch.origin_status or None
            ):
                await _send_stored(edge, out, stored, status, now)
            else:
                edge.origin_failed(out, fetch.error)
        else:
            # Not shareable, or shared with a viewer whose Vary values differ: ask on our own.
            resp = fetch.take_pass_response() if state is FetchState.PASS else None
            await _send_direct(edge, out, fetching, beh, status, resp)
    finally:
        fetch.waiters -= 1
        edge.fetcher.release(fetch)


def _as_page(meta: EntryMeta, status: int) -> EntryMeta:
    """The page's stored response under the custom status (a missing page keeps its own)."""
    if not page_available(meta.status) or meta.status == status:
        return meta
    # Fresh header and head objects: memos keyed on the stored head's identity (a response
    # headers policy's edited head) must not hand back the page's own status line.
    headers = tuple(list(fields(meta)))
    return replace(meta, status=status, headers=headers, wire=wire(meta), head=b"")


async def _send_stored(
    edge: Edge, out: Ctx, obj: MemoryObject | DiskObject, status: int, now: float
) -> None:
    body = obj.body if isinstance(obj, MemoryObject) else obj.view()
    edge.serve_stored(out, _as_page(obj.meta, status), body, now)
    if out.conn.write_paused:
        await out.conn.drain()


async def _send_fetch(edge: Edge, out: Ctx, fetch: Fetch, status: int) -> None:
    meta = fetch.meta
    assert meta is not None
    page = _as_page(meta, status)
    plan = plan_response(out.req, page, fetch.total, edge.max_ranges)
    age = meta.age(time.time())
    extra = edge._per_request(out, age if age >= 1 else None)
    try:
        await edge._write_fetch(out, fetch, page, plan, extra)
    finally:
        # The viewer has what it needs (a HEAD, say): the page still fills the cache.
        if fetch.state is FetchState.STREAMING and not out.conn.closed:
            fetch.background = True


async def _send_direct(
    edge: Edge,
    out: Ctx,
    fetching: Ctx,
    beh: Behavior,
    status: int,
    resp: OriginResponse | None,
) -> None:
    """A page that may not be shared: fetched for this viewer alone and streamed through."""
    d = out.dist
    assert d is not None
    if resp is None:
        try:
            resp, _ = await send(
                edge.env.client,
                d.dist,
                beh,
                fetching.req,
                method="GET",
                request_id=out.rid.decode(),
                via=edge.identity.via,
                accept_encoding=None,
                cacheable=False,
                scheme=out.conn.scheme,
            )
        except OriginError as e:
            edge.origin_failed(out, e)
            return
    req = out.req
    head_only = req.method == "HEAD"
    length = resp.content_length
    chunked = length is None and not head_only and req.version == "1.1"
    if length is not None:
        framing = b"Content-Length: %d\r\n" % length
    else:
        framing = b"Transfer-Encoding: chunked\r\n" if chunked else b""
    code = status if page_available(resp.status) else resp.status
    if first_value(resp.headers, "date") is None:
        framing += b"Date: " + edge.dates(time.time()) + b"\r\n"
    head = (
        status_line(code)
        + serialise(storable_headers(resp.headers))
        + framing
        + edge._per_request(out, None)
        + b"\r\n"
    )
    out.conn.write(head)
    out.head_len = len(head)
    out.status = code
    out.content_type = first_value(resp.headers, "content-type")
    sent = 0
    if head_only:
        resp.close()
    else:
        try:
            while chunk := await resp.read():
                sent += len(chunk)
                await out.conn.send(chunk, chunked)
        except OriginError:
            resp.close()
            out.conn.abort()  # the head is out: only a cut connection tells the viewer
            return
        except BaseException:
            resp.close()
            raise
        if not resp.complete:
            resp.close()
            out.conn.abort()
            return
        if chunked:
            out.conn.write(b"0\r\n\r\n")
        resp.release()
    out.sent = sent
    edge.done(out, keep_alive=head_only or length is not None or chunked)
