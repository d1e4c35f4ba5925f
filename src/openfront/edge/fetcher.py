"""Starting, sharing and finishing collapsed origin fetches for cacheable requests."""

from __future__ import annotations

import asyncio
import gzip
import logging
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import brotli

from openfront._aio import create_task
from openfront.cache.compress import choose_encoding, compressible, weak_etag
from openfront.cache.decide import (
    conditional_headers,
    merge_not_modified,
    on_error_may_serve_stale,
    stale_hold_applies,
)
from openfront.cache.entry import EntryMeta
from openfront.cache.error_pages import error_caching_min_ttl
from openfront.cache.forward import header_selection, response_vary_allowed
from openfront.cache.freshness import (
    compute_ttl,
    corrected_initial_age,
    effective_cache_control,
    stale_windows,
)
from openfront.cache.key import CacheKey
from openfront.cache.policy import Behavior
from openfront.cache.storable import storable
from openfront.cache.vary import secondary_key, vary_names, vary_values
from openfront.edge.fetch import BodySpool, Fetch, FetchState
from openfront.edge.request import Request
from openfront.edge.respond import storable_headers
from openfront.edge.serve import compact, fields
from openfront.edge.upstream import send
from openfront.errors import OriginError, OriginTimeout
from openfront.http.cache_control import EMPTY
from openfront.http.dates import format_http_date, parse_http_date
from openfront.http.headers import combined_value

if TYPE_CHECKING:
    from openfront.edge.handler import Ctx
    from openfront.edge.origin import OriginResponse
    from openfront.edge.store.disk import DiskWriter

_log = logging.getLogger("openfront.edge")

# The status of a stored "this key varies on these headers" marker (its body is empty).
VARY_MARKER = 0
# Bound on remembered origin failures (one small tuple per key that failed while stale).
_HELD_MAX = 4096


async def _body(resp: OriginResponse) -> AsyncIterator[bytes]:
    while True:
        chunk = await resp.read()
        if not chunk:
            return
        yield chunk


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _encode(coding: str, data: bytes) -> bytes:
    if coding == "br":
        return bytes(brotli.compress(data, quality=5))
    return gzip.compress(data, compresslevel=6, mtime=0)


def _with_coding(meta: EntryMeta, coding: str) -> EntryMeta:
    """The stored headers of a body the edge compressed (guide §1.7)."""
    etag = weak_etag(meta.etag)
    headers: list[tuple[str, str]] = []
    vary = "Accept-Encoding"
    for name, value in meta.headers:
        low = name.lower()
        if low == "etag":
            if etag is not None:
                headers.append((name, etag))
        elif low == "vary":
            if "accept-encoding" not in value.lower():
                vary = f"{value}, Accept-Encoding"
            else:
                vary = value
        elif low != "content-encoding":
            headers.append((name, value))
    headers += [("Content-Encoding", coding), ("Vary", vary)]
    return replace(meta, headers=tuple(headers), etag=etag, wire=b"", head=b"")


def _interned(value: str | None) -> str | None:
    # Content types repeat across objects: one string each instead of one per object.
    return None if value is None else sys.intern(value)


class Fetcher:
    """Owns the in-flight table: one fetch per storage key, however many viewers wait on it."""

    def __init__(self, env: Any) -> None:
        self.env = env
        self.inflight: dict[bytes, Fetch] = {}
        # Primary key -> the secondary keys of its stored variants, so that invalidating a URL
        # after an unsafe request reaches every variant without scanning the store.
        self.variants: dict[bytes, set[bytes]] = {}
        # Storage key -> (until, origin status or None for no answer): the origin failed on it
        # while a stale copy could be served; that copy is served without asking again until
        # then (ErrorCachingMinTTL, guide §1.9).
        self.held: dict[bytes, tuple[float, int | None]] = {}

    # -- joining -------------------------------------------------------------------------------
    def join(
        self, ctx: Ctx, beh: Behavior, ck: CacheKey, full: bytes, *, revalidate: EntryMeta | None
    ) -> Fetch:
        fetch = self.inflight.get(full)
        if fetch is not None and fetch.state is not FetchState.FAILED:
            return fetch
        if revalidate is not None and full in self.held:
            held = self._held(full, revalidate)
            if held is not None:
                return held
        return self._start(ctx, beh, ck, full, revalidate, background=False)

    def _held(self, full: bytes, stale: EntryMeta) -> Fetch | None:
        """An already failed fetch while the origin's last failure on ``full`` still holds."""
        until, status = self.held[full]
        if not stale_hold_applies(stale, time.time(), until, status):
            del self.held[full]
            return None
        fetch = Fetch(full, BodySpool(0, None))
        fetch.origin_status = status or 0
        fetch.committed = True
        fetch.set_state(FetchState.FAILED, OriginError("origin failing; within ErrorCachingMinTTL"))
        return fetch

    def _hold(self, key: bytes, ttl: int, status: int | None) -> None:
        if ttl <= 0:
            return
        now = time.time()
        if len(self.held) >= _HELD_MAX:
            self.held = {k: v for k, v in self.held.items() if v[0] > now}
            if len(self.held) >= _HELD_MAX:
                self.held.clear()
        self.held[key] = (now + ttl, status)

    def background_revalidate(
        self, ctx: Ctx, beh: Behavior, ck: CacheKey, full: bytes, meta: EntryMeta
    ) -> None:
        if full not in self.inflight:
            self._start(ctx, beh, ck, full, meta, background=True)

    def _start(
        self,
        ctx: Ctx,
        beh: Behavior,
        ck: CacheKey,
        full: bytes,
        revalidate: EntryMeta | None,
        *,
        background: bool,
    ) -> Fetch:
        env = self.env
        spool = BodySpool(env.cache.memory_max_object_bytes, env.spill_dir)
        fetch = Fetch(full, spool)
        # A HEAD miss fetches the whole GET (as Varnish does) and finishes it for later viewers.
        fetch.background = background or ctx.req.method == "HEAD"
        fetch.vary_request = ctx.req
        self.inflight[full] = fetch
        fetch.task = create_task(self._run(fetch, ctx, beh, ck, revalidate), name="fetch")
        return fetch

    async def drain(self, timeout: float) -> None:
        """Let running fetches finish (and commit) before the edge stops."""
        tasks = [f.task for f in self.inflight.values() if f.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    def vary_ok(self, fetch: Fetch, req: Request) -> bool:
        """A collapsed waiter may share the leader's response only if its Vary values match."""
        meta = fetch.meta
        leader = fetch.vary_request
        if meta is None or not meta.vary or leader is None or leader is req:
            return True
        return vary_values(meta.vary, req.header) == vary_values(meta.vary, leader.header)

    def release(self, fetch: Fetch) -> None:
        """A waiter is gone; the last one leaving a finished fetch frees its spool."""
        if fetch.waiters > 0:
            return
        if fetch.state is FetchState.STREAMING and not fetch.background:
            # Nobody wants the rest: stop reading (CloudFront does not cache it either).
            if self.inflight.get(fetch.key) is fetch:
                del self.inflight[fetch.key]
            if fetch.task is not None:
                fetch.task.cancel()
        elif fetch.state is not FetchState.PENDING and fetch.committed:
            fetch.spool.close()
        if fetch.state is FetchState.PASS:
            resp = fetch.take_pass_response()
            if resp is not None:
                resp.close()

    # -- the fetch itself ---------------------------------------------------------------------
    async def _run(
        self, fetch: Fetch, ctx: Ctx, beh: Behavior, ck: CacheKey, revalidate: EntryMeta | None
    ) -> None:
        writer: DiskWriter | None = None
        try:
            writer = await self._fetch(fetch, ctx, beh, ck, revalidate)
        except asyncio.CancelledError:
            fetch.set_state(FetchState.FAILED, OriginError("fetch abandoned by every viewer"))
        except OriginError as e:
            fetch.set_state(FetchState.FAILED, e)
        except Exception as e:
            _log.exception("fetch failed")
            fetch.set_state(FetchState.FAILED, OriginError(str(e)))
        finally:
            if writer is not None and fetch.state is not FetchState.DONE:
                writer.abort()
            if self.inflight.get(fetch.key) is fetch:
                del self.inflight[fetch.key]
            fetch.committed = True
            if fetch.waiters == 0:
                fetch.spool.close()

    async def _fetch(
        self, fetch: Fetch, ctx: Ctx, beh: Behavior, ck: CacheKey, revalidate: EntryMeta | None
    ) -> DiskWriter | None:
        env = self.env
        dist = ctx.dist
        assert dist is not None
        req = ctx.req
        errors = dist.dist.custom_error_responses
        extra = conditional_headers(revalidate) if revalidate is not None else ()
        request_time = time.time()
        started = asyncio.get_running_loop().time()
        try:
            resp, _origin = await send(
                env.client,
                dist.dist,
                beh,
                req,
                method="GET",
                request_id=ctx.rid.decode(),
                via=env.identity.via,
                accept_encoding=ck.accept_encoding,
                cacheable=True,
                extra=extra,
                scheme=ctx.conn.scheme,
            )
        except OriginError as e:
            env.metrics.origin(
                dist.dist.id,
                asyncio.get_running_loop().time() - started,
                getattr(e, "detail", "OriginError"),
            )
            if revalidate is not None and on_error_may_serve_stale(revalidate, time.time(), None):
                # No answer counts as a 5xx: the stale copy is served for ErrorCachingMinTTL.
                code = 504 if isinstance(e, OriginTimeout) else 502
                self._hold(fetch.key, error_caching_min_ttl(errors, code), None)
            raise
        response_time = time.time()
        env.metrics.origin(dist.dist.id, asyncio.get_running_loop().time() - started, None)
        fetch.origin_status = resp.status
        self.held.pop(fetch.key, None)
        if revalidate is not None:
            if resp.status == 304:
                resp.release()
                fetch.meta = await self._refresh(
                    revalidate,
                    resp.headers,
                    beh,
                    request_time,
                    response_time,
                    error_caching_min_ttl(errors, revalidate.status),
                )
                fetch.set_state(FetchState.NOT_MODIFIED)
                return None
            if resp.status >= 500 and on_error_may_serve_stale(
                revalidate, response_time, resp.status
            ):
                resp.close()
                self._hold(fetch.key, error_caching_min_ttl(errors, resp.status), resp.status)
                fetch.set_state(FetchState.FAILED, OriginError(f"origin answered {resp.status}"))
                return None
        ecmt = error_caching_min_ttl(errors, resp.status)
        meta = self._meta(fetch, resp, beh, ck, request_time, response_time, ecmt)
        if meta is None:
            fetch.pass_response = resp
            fetch.set_state(FetchState.PASS)
            return None
        chunks: AsyncIterator[bytes] = _body(resp)
        coding = choose_encoding(ck.accept_encoding) if beh.compress else None
        if coding is not None and compressible(
            resp.status,
            combined_value(resp.headers, "content-type"),
            combined_value(resp.headers, "content-encoding"),
            resp.content_length,
        ):
            # Compress once, serve many: the key holds the normalised Accept-Encoding, so each
            # coding is its own cache entry. Bodies here are at most 10 MB (CloudFront's limit).
            plain = b"".join([c async for c in _body(resp)])
            data = await asyncio.to_thread(_encode, coding, plain)
            meta = _with_coding(meta, coding)
            chunks = _once(data)
            total: int | None = len(data)
        else:
            total = resp.content_length
        fetch.meta = meta
        fetch.total = total
        writer = self._writer(meta.key, total)
        if writer is not None:
            fetch.spool = BodySpool(
                env.cache.memory_max_object_bytes, env.spill_dir, backing_fd=writer.fileno()
            )
        fetch.set_state(FetchState.STREAMING)
        spool = fetch.spool
        try:
            async for chunk in chunks:
                if writer is not None:
                    writer.write(chunk)
                spool.append(chunk)
                fetch.notify()
        except BaseException:
            resp.close()
            raise
        if not resp.complete or (total is not None and spool.size != total):
            resp.close()
            raise OriginError("origin body ended before its declared length")
        resp.release()
        meta.body_size = spool.size
        fetch.total = spool.size
        fetch.set_state(FetchState.DONE)
        await self._commit(fetch, meta, writer, ck)
        return writer

    def _meta(
        self,
        fetch: Fetch,
        resp: OriginResponse,
        beh: Behavior,
        ck: CacheKey,
        request_time: float,
        response_time: float,
        error_caching_min_ttl: int,
    ) -> EntryMeta | None:
        """EntryMeta for a storable response, or None when it must not be shared."""
        env = self.env
        headers = resp.headers
        cc = effective_cache_control(
            combined_value(headers, "cache-control"), combined_value(headers, "cdn-cache-control")
        )
        req = fetch.vary_request
        assert req is not None
        vary = combined_value(headers, "vary")
        if vary is not None:
            # Guide §1.12: only Accept-Encoding, Cookie and headers the origin receives may vary.
            vary = response_vary_allowed(vary, header_selection(beh))
        st = storable(
            "GET",
            resp.status,
            request_cc=EMPTY,
            response_cc=cc,
            request_has_authorization=req.header("authorization") is not None,
            vary=vary,
            content_length=resp.content_length,
            chunked_or_close_delimited=resp.content_length is None,
            cached_methods=beh.cached_methods,
            max_object_size=env.cache.max_object_bytes,
        )
        if not st.ok:
            return None
        date = parse_http_date(combined_value(headers, "date"))
        ttl = compute_ttl(
            resp.status,
            cc,
            expires=combined_value(headers, "expires"),
            date=date,
            response_time=response_time,
            ttl=beh.ttl,
            error_caching_min_ttl=error_caching_min_ttl,
        )
        if not ttl.store or ttl.ttl <= 0:
            return None
        age_raw = combined_value(headers, "age")
        age = float(age_raw) if age_raw and age_raw.isdigit() else None
        swr, sie = stale_windows(cc)
        if cc.stale_if_error is None:
            sie = -1.0
        kept = tuple((n, v) for n, v in storable_headers(headers) if n.lower() != "vary")
        if vary:
            kept = (*kept, ("Vary", vary))
        if date is None:
            kept = (("Date", format_http_date(response_time)), *kept)
        names = vary_names(vary) or ()
        # A varying response lives under a secondary key; the primary key then holds a marker
        # naming the headers, so later lookups know how to build the secondary key.
        key = (
            secondary_key(fetch.key, names, vary_values(names, req.header)) if names else fetch.key
        )
        return EntryMeta(
            key=key,
            url=ck.url,
            status=resp.status,
            headers=kept,
            body_size=0,
            request_time=request_time,
            response_time=response_time,
            initial_age=corrected_initial_age(age, date, request_time, response_time),
            ttl=ttl.ttl,
            stale_while_revalidate=swr,
            stale_if_error=sie,
            must_revalidate=cc.must_revalidate or cc.proxy_revalidate,
            etag=combined_value(headers, "etag"),
            last_modified=combined_value(headers, "last-modified"),
            vary=names,
            stored_at=response_time,
            content_type=_interned(combined_value(headers, "content-type")),
        )

    def _writer(self, key: bytes, length: int | None) -> DiskWriter | None:
        disk = self.env.disk
        if disk is None or (length is not None and length > self.env.cache.max_object_bytes):
            return None
        try:
            w: DiskWriter = disk.begin(key)
            return w
        except OSError:
            _log.warning("disk tier unavailable for a write", exc_info=True)
            return None

    async def _commit(
        self, fetch: Fetch, meta: EntryMeta, writer: DiskWriter | None, ck: CacheKey
    ) -> None:
        env = self.env
        primary = fetch.key if meta.vary else None
        if fetch.spool.size <= env.cache.memory_max_object_bytes:
            env.memory.put(meta.key, compact(meta), fetch.spool.body())
        if primary is not None:
            env.memory.put(primary, self._marker(primary, meta), b"")
            self.variants.setdefault(primary, set()).add(meta.key)
        if writer is not None:
            await asyncio.to_thread(self._commit_disk, writer, meta, primary)

    def _commit_disk(self, writer: DiskWriter, meta: EntryMeta, primary: bytes | None) -> None:
        writer.commit(meta)
        disk = self.env.disk
        if primary is not None and disk is not None:
            marker = disk.begin(primary)
            marker.commit(self._marker(primary, meta))

    @staticmethod
    def _marker(primary: bytes, meta: EntryMeta) -> EntryMeta:
        return EntryMeta(
            key=primary,
            url=meta.url,
            status=VARY_MARKER,
            headers=(),
            body_size=0,
            request_time=meta.request_time,
            response_time=meta.response_time,
            initial_age=meta.initial_age,
            ttl=meta.ttl,
            vary=meta.vary,
            stored_at=meta.stored_at,
        )

    async def _refresh(
        self,
        old: EntryMeta,
        fresh_headers: list[tuple[str, str]],
        beh: Behavior,
        request_time: float,
        response_time: float,
        error_caching_min_ttl: int,
    ) -> EntryMeta:
        """RFC 9111 §4.3.4: a 304 updates the stored headers and restarts freshness."""
        env = self.env
        headers = merge_not_modified(fields(old), storable_headers(fresh_headers))
        hget = dict((n.lower(), v) for n, v in headers).get
        cc = effective_cache_control(hget("cache-control"), hget("cdn-cache-control"))
        date = parse_http_date(hget("date"))
        ttl = compute_ttl(
            old.status,
            cc,
            expires=hget("expires"),
            date=date,
            response_time=response_time,
            ttl=beh.ttl,
            error_caching_min_ttl=error_caching_min_ttl,
        )
        age_raw = combined_value(fresh_headers, "age")
        age = float(age_raw) if age_raw and age_raw.isdigit() else None
        swr, sie = stale_windows(cc)
        if cc.stale_if_error is None:
            sie = -1.0
        meta = EntryMeta(
            key=old.key,
            url=old.url,
            status=old.status,
            headers=headers,
            body_size=old.body_size,
            request_time=request_time,
            response_time=response_time,
            initial_age=corrected_initial_age(age, date, request_time, response_time),
            ttl=ttl.ttl if ttl.store else 0.0,
            stale_while_revalidate=swr,
            stale_if_error=sie,
            must_revalidate=cc.must_revalidate or cc.proxy_revalidate,
            etag=hget("etag"),
            last_modified=hget("last-modified"),
            vary=old.vary,
            stored_at=old.stored_at,
            content_type=old.content_type,
        )
        env.memory.update_meta(meta.key, compact(meta))
        if env.disk is not None:
            await asyncio.to_thread(env.disk.update_meta, meta.key, meta)
        return meta
