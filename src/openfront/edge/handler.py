"""The request driver: route, look up, and answer from cache, from a collapsed fetch, or by pass.

Hits on the memory tier are answered synchronously inside the parser callback (no task, no
await); everything else becomes one coroutine per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openfront._aio import create_task
from openfront.cache.decide import (
    Fresh,
    Revalidate,
    StaleServe,
    invalidates_after_unsafe,
    lookup,
    on_error_may_serve_stale,
)
from openfront.cache.entry import EntryMeta
from openfront.cache.error_pages import Cause, edge_error_cause, has_page
from openfront.cache.key import CacheKey, cache_key
from openfront.cache.pathmatch import BehaviorSelector
from openfront.cache.policy import Behavior, Distribution
from openfront.cache.response_headers import CacheState, Edit, ResponseHeadersPolicy
from openfront.cache.vary import secondary_key, vary_values
from openfront.edge.error_pages import page_for, send_page, spawn_page
from openfront.edge.fetch import Fetch, FetchState
from openfront.edge.fetcher import VARY_MARKER, Fetcher
from openfront.edge.keymemo import KeyMemo
from openfront.edge.metrics import Tally
from openfront.edge.passthrough import answer_preflight, forward
from openfront.edge.protocol import Connection, HeadMemo
from openfront.edge.request import Request
from openfront.edge.respond import EdgeIdentity, RequestIds, error_body, status_line
from openfront.edge.serve import (
    Plan,
    edited_full_head,
    edited_head,
    expand,
    head_bytes,
    plan_response,
    request_fields,
    stored_head,
    stream_from_fetch,
    stream_unknown_length,
    wire,
    write_stored,
)
from openfront.edge.store import StoredEntry
from openfront.edge.store.disk import DiskObject
from openfront.edge.store.memory import MemoryObject
from openfront.errors import OriginError, OriginTimeout
from openfront.http.dates import HttpDateCache
from openfront.http.headers import parse_cookie_header, parse_query
from openfront.signing import Denied, check_request, strip_signing_params
from openfront.viewer import geo_allowed

if TYPE_CHECKING:
    from openfront.edge.origin import OriginResponse

_log = logging.getLogger("openfront.edge")

# Hits with bodies up to this size go out as one bytes object (head and body concatenated);
# copying a small body is cheaper than building a list for writelines.
_ONE_WRITE_MAX = 64 * 1024


@dataclass(slots=True)
class DistRuntime:
    dist: Distribution
    selector: BehaviorSelector
    prefix: bytes  # every cache key of this distribution starts with it


@dataclass(slots=True, eq=False)
class Ctx:
    """Per-request facts the log line and the response need."""

    conn: Connection
    req: Request
    rid: bytes
    dist: DistRuntime | None
    result: str = "Miss"
    detail: str = ""
    status: int = 0
    sent: int = 0  # body bytes
    head_len: int = 0  # status line and header bytes
    content_type: str | None = None
    range_start: int | None = None
    range_end: int | None = None
    policy: ResponseHeadersPolicy | None = None  # the behavior's response headers policy
    edit: Edit | None = None  # what the policy did to the fields being sent; None: edge-made


@dataclass(slots=True, eq=False)
class _Known:
    """What answering a repeatable head again needs (Edge._answer_known)."""

    scheme: str
    dist: DistRuntime
    full: bytes
    req: Request
    tally: Tally | None  # hits counted here; None: recorded one by one (access log on)


class Edge:
    """One worker's edge: routing, stores, in-flight fetches, logs and metrics."""

    def __init__(self, env: Any) -> None:
        # env is an EdgeEnv (edge/app.py): stores, client, config, logs, metrics.
        self.env = env
        self.identity: EdgeIdentity = env.identity
        self.ids = RequestIds()
        self.dates = HttpDateCache()
        self.memory = env.memory
        self.disk = env.disk
        self.fetcher = Fetcher(env)
        self.max_ranges: int = env.limits.max_ranges
        self.dists: list[DistRuntime] = []
        self.by_host: dict[str, DistRuntime] = {}
        self.default: DistRuntime | None = None
        self.keys = KeyMemo()
        self.viewers = env.viewers
        tls = getattr(env.cfg.edge, "tls", None)
        self.https_port = int(str(tls.listen).rpartition(":")[2]) if tls is not None else 443
        self._trusted: dict[int, dict[str, object]] = {}
        self._hit_prefix = self.identity.prefix("Hit")
        self.heads = HeadMemo(self._answer_known, self._known)
        self.set_distributions(env.distributions)

    def set_distributions(self, dists: list[Distribution]) -> None:
        runtimes = [
            DistRuntime(d, BehaviorSelector(d.behaviors, d.default_behavior), d.id.encode() + b"\0")
            for d in dists
            if d.enabled
        ]
        self.dists = runtimes
        self.by_host = {a.lower(): r for r in runtimes for a in r.dist.aliases}
        # With one distribution every Host reaches it (the quick mode and the demo); with several,
        # a Host must name one of their aliases.
        self.default = runtimes[0] if len(runtimes) == 1 else None
        self.keys = KeyMemo()
        self._trusted = {}
        self.heads.clear()

    # -- entry point -----------------------------------------------------------------------
    def handle(self, conn: Connection, req: Request) -> Coroutine[Any, Any, None] | None:
        host = req.lookup.get("host") or ""
        d = self.by_host.get(_strip_port(host).lower(), self.default) if self.by_host else None
        if d is None:
            d = self.default
            if d is None:
                self.error(Ctx(conn, req, self.ids.next(), None), 403, "InvalidRequest")
                return None
        viewers = self.viewers
        if viewers.proxies:
            req.client_ip = viewers.client_ip(req)
        if d.dist.geo_restriction[0] != "none" and not self._geo_ok(conn, req, d):
            return None
        if req.path == "/" and d.dist.default_root_object:
            # DefaultRootObject (guide §1.9): only the root itself, never a subdirectory.
            req.path = "/" + d.dist.default_root_object
            req.target = req.path + ("?" + req.query if req.query else "")
        beh = d.selector.select(req.path)
        method = req.method
        if beh.viewer_protocol_policy != "allow-all" and conn.scheme != "https":
            self._insecure(conn, req, d, beh.viewer_protocol_policy)
            return None
        if method not in beh.allowed_methods:
            self.error(
                Ctx(conn, req, self.ids.next(), d),
                403,
                "InvalidRequestMethod",
                "This distribution is not configured "
                "to allow the HTTP request method that was used.",
            )
            return None
        if beh.trusted_keys and not self._signed(conn, req, d, beh):
            return None
        # Whether the answer may depend on more than the head's bytes (see _answer_known).
        per_viewer = bool(
            viewers.proxies or d.dist.geo_restriction[0] != "none" or beh.trusted_keys
        )
        if viewers.wanted:
            names = viewers.wanted.get(id(beh))
            if names:
                viewers.add_headers(req, conn.scheme, names)
                per_viewer = True
        if method != "GET" and method != "HEAD":
            ctx = Ctx(conn, req, self.ids.next(), d)
            policy = beh.response_headers
            if method == "OPTIONS" and policy is not None and answer_preflight(self, ctx, policy):
                return None
            return self._forward(ctx, beh)
        if req.has_body:
            # CloudFront refuses a GET/HEAD with a body (a smuggling vector through caches).
            self.error(Ctx(conn, req, self.ids.next(), d), 403, "InvalidRequest")
            return None
        ck, full = self.keys.get(req, host, beh, d.prefix)
        e = self.memory.entry(full)
        if e is not None:
            shape = e.shape
            if shape.status == VARY_MARKER:
                variant = secondary_key(full, shape.vary, vary_values(shape.vary, req.lookup.get))
                e = self.memory.entry(variant)
                shape = e.shape if e is not None else shape
                per_viewer = True  # a variant: the marker may change under it
            if e is not None and shape.status != VARY_MARKER:
                now = time.time()
                age = now - e.born
                # A stored error with a custom page leaves the hot path: the page is awaited.
                if age < e.ttl and (
                    shape.status < 400 or not has_page(d.dist.custom_error_responses, shape.status)
                ):
                    if req.conditional:
                        ctx = Ctx(conn, req, self.ids.next(), d, "Hit")
                        ctx.policy = beh.response_headers
                        self.serve_stored(ctx, e.meta(), e.body, now)
                    else:
                        policy = beh.response_headers
                        if (
                            not per_viewer
                            and shape.status < 400
                            and policy is None
                            and method == "GET"
                            and req.version == "1.1"
                            and req.keep_alive
                        ):
                            conn.repeatable = (d, full, req, shape.status)
                        self._plain_hit(conn, req, d, e, age, policy)
                    return None
        return self._cached(Ctx(conn, req, self.ids.next(), d), beh, ck, full)

    def _known(self, conn: Connection, mark: tuple[DistRuntime, bytes, Request, int]) -> _Known:
        """The memo entry for a head marked repeatable twice (HeadMemo.remember)."""
        d, full, req, status = mark
        dist_id = d.dist.id
        # With an access log every answer needs its own line: no tally.
        logged = dist_id in self.env.logs
        tally = None if logged else self.env.metrics.hit_tally(dist_id, status)
        return _Known(conn.scheme, d, full, req, tally)

    def _answer_known(self, conn: Connection, known: _Known) -> bytes | None:
        """The whole response to a head answered before as a plain hit (see HeadMemo), or None.

        Everything that decided that answer came from the head's bytes and the configuration
        (the memo is cleared when it changes); what can have changed since is the stored object,
        so it is looked up and checked for freshness again. None sends the bytes through the
        parser and the full path. The connection writes the bytes and awaits the next request.
        """
        if known.scheme != conn.scheme:
            return None
        e = self.memory.entry(known.full)
        if e is None:
            return None
        shape = e.shape
        status = shape.status
        if status >= 400 or status == VARY_MARKER:
            return None
        blob = e.blob
        size = len(blob) - shape.hlen
        if size > _ONE_WRITE_MAX:
            return None
        age = time.time() - e.born
        if age >= e.ttl:
            return None
        rid = self.ids.next()
        out = b"%s%s%s\r\nAge: %d\r\n%s%s" % (
            shape.line,
            self._hit_prefix,
            rid,
            age,
            e.common,
            blob,
        )
        tally = known.tally
        if tally is not None and tally.status == status:
            tally.count += 1
            tally.bytes += len(out)
            return out
        # The Request is shared by every answer to this head: only the per-connection fields
        # change, and nothing keeps it after this synchronous call.
        req = known.req
        req.client_ip, req.client_port = conn.client
        req.start = time.monotonic()
        self.env.record_request(
            known.dist.dist.id,
            req,
            conn.scheme,
            rid,
            status,
            "Hit",
            size,
            len(out) - size,
            shape.content_type,
        )
        return out

    def _insecure(self, conn: Connection, req: Request, d: DistRuntime, policy: str) -> None:
        """ViewerProtocolPolicy for a plain-HTTP request (guide §1.6)."""
        ctx = Ctx(conn, req, self.ids.next(), d)
        safe = req.method in ("GET", "HEAD")
        if policy == "https-only" or (not safe and req.version == "1.0"):
            self.error(ctx, 403, "InvalidRequest", "This distribution only accepts HTTPS.")
            return
        host = _strip_port(req.lookup.get("host") or "")
        if self.https_port != 443:
            host = f"{host}:{self.https_port}"
        status = 301 if safe else 307
        self.redirect(ctx, status, f"https://{host}{req.target}")

    def redirect(self, ctx: Ctx, status: int, location: str) -> None:
        ctx.result = "Redirect"
        head = (
            status_line(status)
            + b"Server: CloudFront\r\nDate: "
            + self.dates(time.time())
            + b"\r\nLocation: "
            + location.encode("latin-1", "replace")
            + b"\r\nContent-Length: 0\r\n"
            + self._per_request(ctx, None)
            + b"\r\n"
        )
        ctx.conn.write(head)
        ctx.head_len = len(head)
        ctx.status = status
        self.done(ctx, keep_alive=not ctx.req.has_body)

    def _geo_ok(self, conn: Connection, req: Request, d: DistRuntime) -> bool:
        """Geo restriction (guide §1.16): 403 for a blocked country; unknown countries pass."""
        kind, countries = d.dist.geo_restriction
        if geo_allowed(self.viewers.country(req.client_ip), kind, countries):
            return True
        self.error(
            Ctx(conn, req, self.ids.next(), d),
            403,
            "ClientGeoBlocked",
            "The Amazon CloudFront distribution is configured to block access from your country.",
        )
        return False

    def _signed(self, conn: Connection, req: Request, d: DistRuntime, beh: Behavior) -> bool:
        """A restricted behavior's signed URL/cookie check (guide §1.15); answers 403 itself.

        Checked before the cache, so a cached object is never served without a signature. The
        signing parameters then leave the query: they are not part of the cache key, and the
        origin never sees them.
        """
        keys = self._trusted.get(id(beh))
        if keys is None:
            keys = self._trusted[id(beh)] = dict(beh.trusted_keys)
        lookup = req.lookup.get
        url = f"{conn.scheme}://{lookup('host') or ''}{req.path}"
        verdict = check_request(
            url,
            parse_query(req.query) if req.query else [],
            dict(parse_cookie_header(lookup("cookie") or "")),
            key_groups=keys,  # type: ignore[arg-type]  # loaded PublicKey objects (config)
            now=time.time(),
            client_ip=req.client_ip,
        )
        if isinstance(verdict, Denied):
            ctx = Ctx(conn, req, self.ids.next(), d)
            self.error(
                ctx, verdict.status, verdict.detail, body=verdict.body(), content_type="text/xml"
            )
            return False
        if req.query:
            query = strip_signing_params(req.query)
            if query != req.query:
                req.query = query
                req.target = req.path + ("?" + query if query else "")
        return True

    def _plain_hit(
        self,
        conn: Connection,
        req: Request,
        d: DistRuntime,
        e: StoredEntry,
        age: float,
        policy: ResponseHeadersPolicy | None,
    ) -> None:
        """The hot path: a fresh memory-tier object, no conditionals, no range.

        The per-request fields go right after the status line, then the shape's shared header
        lines, then the stored blob (own lines, blank line, body) as it is: one formatting
        operation, no slicing.
        """
        rid = self.ids.next()
        shape = e.shape
        blob = e.blob
        status = shape.status
        if status < 400:
            result = "Hit"
            prefix = self._hit_prefix
        else:
            result = "Error"  # CloudFront marks stored errors "Error"
            prefix = self.identity.prefix("Error")
        if not req.keep_alive:
            connection = b"Connection: close\r\n"
        elif req.version == "1.0":
            connection = b"Connection: keep-alive\r\n"
        else:
            connection = b""
        hlen = shape.hlen
        size = len(blob) - hlen
        if policy is not None:
            # The edited head is built once per stored head; only per-request lines are new.
            ed = e.edited
            if ed is None or ed.policy is not policy:
                meta = e.meta()
                ed = e.edited = edited_head(meta, policy)
                edited_full_head(meta, ed)
            tail = request_fields(
                policy, ed.edit, req, cache="hit", rid=rid, pop=self.identity.pop, dates=self.dates
            )
            first = b"%s%s%s\r\nAge: %d\r\n%s%s\r\n" % (ed.head, prefix, rid, age, connection, tail)
            head_len = len(first)
            if req.method == "HEAD":
                conn.write(first)
                size = 0
            elif size <= _ONE_WRITE_MAX:
                conn.write(first + memoryview(blob)[hlen:])
            else:
                conn.writelines([first, memoryview(blob)[hlen:]])
        elif req.method == "HEAD":
            first = b"%s%s%s\r\nAge: %d\r\n%s%s%s" % (
                shape.line,
                prefix,
                rid,
                age,
                connection,
                e.common,
                blob[:hlen],
            )
            conn.write(first)
            head_len = len(first)
            size = 0
        elif size <= _ONE_WRITE_MAX:
            # One formatting operation builds the whole response.
            out = b"%s%s%s\r\nAge: %d\r\n%s%s%s" % (
                shape.line,
                prefix,
                rid,
                age,
                connection,
                e.common,
                blob,
            )
            conn.write(out)
            head_len = len(out) - size
        else:
            first = b"%s%s%s\r\nAge: %d\r\n%s%s" % (
                shape.line,
                prefix,
                rid,
                age,
                connection,
                e.common,
            )
            conn.writelines([first, blob])
            head_len = len(first) + hlen
        self.env.record_request(
            d.dist.id, req, conn.scheme, rid, status, result, size, head_len, shape.content_type
        )
        conn.finish(True)

    # -- cacheable requests ------------------------------------------------------------------
    async def _cached(self, ctx: Ctx, beh: Behavior, ck: CacheKey, full: bytes) -> None:
        req = ctx.req
        ctx.policy = beh.response_headers
        stored = await self._lookup(full, req)
        now = time.time()
        fetch: Fetch | None = None
        try:
            if stored is not None:
                meta = stored.meta
                decision = lookup(meta, now)
                if isinstance(decision, Fresh):
                    ctx.result = "Hit"
                    await self.serve_object(ctx, stored, now)
                    return
                if isinstance(decision, StaleServe):
                    ctx.result = "Hit"
                    self.fetcher.background_revalidate(ctx, beh, ck, full, expand(meta))
                    await self.serve_object(ctx, stored, now)
                    return
                assert isinstance(decision, Revalidate)
                fetch = self.fetcher.join(ctx, beh, ck, full, revalidate=expand(meta))
            else:
                fetch = self.fetcher.join(ctx, beh, ck, full, revalidate=None)
            await self._from_fetch(ctx, beh, ck, fetch, stored)
        finally:
            if isinstance(stored, DiskObject):
                stored.close()

    async def _lookup(self, full: bytes, req: Request) -> MemoryObject | DiskObject | None:
        obj: MemoryObject | DiskObject | None = self.memory.get(full)
        if obj is None and self.disk is not None:
            found = await asyncio.to_thread(self.disk.get, full)
            obj = found
            if found is not None and found.size <= self.env.cache.memory_max_object_bytes:
                # Promote small disk hits: the next one is answered inline from memory.
                body = await asyncio.to_thread(found.read)
                found.close()
                self.memory.put(full, found.meta, body)
                # The memory tier may decline it (larger than its small queue): serve it anyway.
                obj = self.memory.get(full) or MemoryObject(found.meta, body)
        if obj is not None and obj.meta.status == VARY_MARKER:
            names = obj.meta.vary
            if isinstance(obj, DiskObject):
                obj.close()
            return await self._lookup(
                secondary_key(full, names, vary_values(names, req.header)), req
            )
        return obj

    async def _from_fetch(
        self,
        ctx: Ctx,
        beh: Behavior,
        ck: CacheKey,
        fetch: Fetch,
        stored: MemoryObject | DiskObject | None,
    ) -> None:
        fetch.waiters += 1
        leader = fetch.waiters == 1 and fetch.state is FetchState.PENDING
        try:
            while fetch.state is FetchState.PENDING:
                await fetch.wait_progress()
            state = fetch.state
            now = time.time()
            if state is FetchState.NOT_MODIFIED and stored is not None:
                assert fetch.meta is not None
                ctx.result = "RefreshHit"
                stored.meta = fetch.meta
                await self.serve_object(ctx, stored, now)
            elif state in (FetchState.STREAMING, FetchState.DONE):
                if not self.fetcher.vary_ok(fetch, ctx.req):
                    await self._forward(ctx, beh, as_get=True)
                    return
                ctx.result = "Miss" if leader else "Hit"
                await self._serve_fetch(ctx, fetch)
            elif state is FetchState.PASS or state is FetchState.NOT_MODIFIED:
                resp = fetch.take_pass_response() if state is FetchState.PASS else None
                page = None
                if state is FetchState.PASS and fetch.origin_status >= 400:
                    page = page_for(ctx, fetch.origin_status, Cause.ORIGIN)
                if page is not None:
                    # An unshareable error (a 403 without max-age, say) still gets its page; the
                    # origin's body is not needed, so collapsed viewers need not ask again.
                    if resp is not None:
                        resp.close()
                    await send_page(self, ctx, page)
                    return
                await self._forward(ctx, beh, as_get=True, response=resp)
            else:
                if stored is not None and on_error_may_serve_stale(
                    stored.meta, now, fetch.origin_status or None
                ):
                    ctx.result = "Hit"
                    await self.serve_object(ctx, stored, now)
                    return
                status, detail = _failure(fetch.error)
                page = page_for(ctx, status, Cause.EDGE)
                if page is None:
                    self.origin_failed(ctx, fetch.error)
                    return
                ctx.detail = detail
                await send_page(self, ctx, page)
        finally:
            fetch.waiters -= 1
            self.fetcher.release(fetch)

    async def _serve_fetch(self, ctx: Ctx, fetch: Fetch) -> None:
        meta = fetch.meta
        assert meta is not None
        req = ctx.req
        plan = plan_response(req, meta, fetch.total, self.max_ranges)
        page = None
        if meta.status >= 400:
            ctx.result = "Error"
            page = page_for(ctx, meta.status, Cause.ORIGIN)
        # An upstream Age (origin or parent edge) must reach the viewer even on a miss.
        age = meta.age(time.time())
        extra = self._per_request(ctx, age if age >= 1 else None)
        try:
            if page is not None:
                await send_page(self, ctx, page)
            else:
                await self._write_fetch(ctx, fetch, meta, plan, extra)
        finally:
            # A viewer that got what it asked (a range, a 304) before the body was complete
            # leaves normally: the fetch goes on to fill the cache.
            if fetch.state is FetchState.STREAMING and not ctx.conn.closed:
                fetch.background = True

    async def _write_fetch(
        self, ctx: Ctx, fetch: Fetch, meta: EntryMeta, plan: Plan, extra: bytes
    ) -> None:
        req = ctx.req
        conn = ctx.conn
        ed = None
        if ctx.policy is not None:
            ed = edited_head(meta, ctx.policy)
            ctx.edit = ed.edit
            extra += self.policy_lines(ctx, "hit" if ctx.result == "Hit" else "miss")
        if fetch.total is None and plan.status == meta.status:
            chunked = req.version == "1.1"
            framing = b"Transfer-Encoding: chunked\r\n" if chunked else b""
            stored = wire(meta) if ed is None else ed.wire
            head = status_line(meta.status) + stored + framing + extra + b"\r\n"
            conn.write(head)
            ctx.head_len = len(head)
            ctx.content_type = meta.content_type
            ctx.status = meta.status
            ctx.sent = (
                0 if req.method == "HEAD" else await stream_unknown_length(conn, fetch, chunked)
            )
            self.done(ctx, keep_alive=chunked)
            return
        head = head_bytes(meta, plan, extra, ed)
        conn.write(head)
        ctx.head_len = len(head)
        ctx.content_type = meta.content_type
        ctx.status = plan.status
        self._note_range(ctx, plan)
        ctx.sent = await stream_from_fetch(conn, fetch, plan) if plan.body else 0
        self.done(ctx)

    # -- serving stored objects --------------------------------------------------------------
    def serve_stored(self, ctx: Ctx, meta: EntryMeta, body: bytes | memoryview, now: float) -> None:
        plan = plan_response(ctx.req, meta, meta.body_size, self.max_ranges)
        cache: CacheState = "refresh" if ctx.result == "RefreshHit" else "hit"
        if meta.status >= 400:
            ctx.result = "Error"
        per_request = self._per_request(ctx, meta.age(now))
        ed = None
        if ctx.policy is not None:
            ed = edited_head(meta, ctx.policy)
            ctx.edit = ed.edit
            per_request += self.policy_lines(ctx, cache)
        head = stored_head(meta, plan, per_request, ed)
        ctx.head_len = len(head)
        ctx.content_type = meta.content_type
        ctx.status = plan.status
        self._note_range(ctx, plan)
        ctx.sent = write_stored(ctx.conn, head, plan, body)
        self.done(ctx)

    async def serve_object(self, ctx: Ctx, obj: MemoryObject | DiskObject, now: float) -> None:
        if obj.meta.status >= 400:
            page = page_for(ctx, obj.meta.status, Cause.ORIGIN)
            if page is not None:
                await send_page(self, ctx, page)
                return
        if isinstance(obj, MemoryObject):
            self.serve_stored(ctx, obj.meta, obj.body, now)
        else:
            self.serve_stored(ctx, obj.meta, obj.view(), now)
        if ctx.conn.write_paused:
            await ctx.conn.drain()

    def _note_range(self, ctx: Ctx, plan: Plan) -> None:
        if plan.status == 206 and plan.ranges:
            ctx.range_start = plan.ranges[0][0]
            ctx.range_end = plan.ranges[-1][1]

    def policy_lines(
        self,
        ctx: Ctx,
        cache: CacheState = "miss",
        *,
        upstream_ms: tuple[int, int, int] | None = None,
        cors: bool = True,
        generated: bool = False,
    ) -> bytes:
        """The response headers policy's per-request fields for ``ctx``; b"" without a policy.

        ``generated``: an answer the edge made itself (an error page), which also gets the
        policy's security and custom headers here.
        """
        policy = ctx.policy
        if policy is None:
            return b""
        edit = None if generated else ctx.edit
        return request_fields(
            policy,
            edit,
            ctx.req,
            cache=cache,
            rid=ctx.rid,
            pop=self.identity.pop,
            dates=self.dates,
            upstream_ms=upstream_ms,
            cors=cors,
        )

    def _per_request(self, ctx: Ctx, age: float | None) -> bytes:
        out = self.identity.prefix(ctx.result) + ctx.rid + b"\r\n"
        if age is not None:
            out += b"Age: %d\r\n" % (age if age > 0 else 0)
        req = ctx.req
        if not req.keep_alive:
            out += b"Connection: close\r\n"
        elif req.version == "1.0":
            out += b"Connection: keep-alive\r\n"
        return out

    # -- pass-through -------------------------------------------------------------------------
    async def _forward(
        self,
        ctx: Ctx,
        beh: Behavior,
        *,
        as_get: bool = False,
        response: OriginResponse | None = None,
    ) -> None:
        """Pass a request through (``as_get``: a cacheable GET/HEAD that turned out unshareable,
        which invalidates nothing)."""
        ctx.result = "Miss"
        ctx.policy = beh.response_headers
        try:
            await forward(self, ctx, beh, response=response)
        except OriginError as e:
            if ctx.status == 0:
                self.origin_failed(ctx, e)
            else:
                ctx.conn.abort()
            return
        req = ctx.req
        if not as_get and invalidates_after_unsafe(req.method, ctx.status):
            self.invalidate_target(ctx, beh)

    def invalidate_target(self, ctx: Ctx, beh: Behavior) -> None:
        """RFC 9111 §4.4: a successful unsafe request invalidates the target's stored response."""
        d = ctx.dist
        assert d is not None
        req = ctx.req
        ck = cache_key(
            host=req.header("host") or "",
            path=req.path,
            query=req.query,
            method="GET",
            header=req.header,
            cookie_header=req.header("cookie"),
            policy=beh.key,
        )
        full = d.prefix + ck.key
        doomed = [full, *self.fetcher.variants.pop(full, ())]
        for key in doomed:
            self.memory.delete(key)
        if self.disk is not None:
            disk = self.disk

            def drop() -> None:
                marker = disk.get(full)
                varies = marker is not None and marker.meta.status == VARY_MARKER
                if marker is not None:
                    marker.close()
                for key in doomed:
                    disk.delete(key)
                if varies:
                    # Variants stored before a restart are known only to the disk tier.
                    disk.delete_matching(lambda m: m.key.startswith(full) and m.url == ck.url)

            create_task(asyncio.to_thread(drop))

    # -- errors and the end of a response -------------------------------------------------------
    def origin_failed(self, ctx: Ctx, error: BaseException | None) -> None:
        """502/504 for an origin that did not answer; never a custom page (see ``error``)."""
        status, detail = _failure(error)
        self.error(ctx, status, detail, page=False)

    def error(
        self,
        ctx: Ctx,
        status: int,
        detail: str,
        text: str | None = None,
        *,
        body: bytes | None = None,
        content_type: str = "text/html",
        page: bool = True,
    ) -> None:
        """An answer made by the edge itself: CloudFront's error page unless ``body`` is given.

        With ``page``, the distribution's custom error page for ``status`` replaces it; a task
        sends it, so only callers answering inside the parser callback may leave ``page`` on
        (request coroutines await :func:`send_page` themselves).
        """
        ctx.result = "Error"
        ctx.detail = detail
        if page and ctx.dist is not None and ctx.dist.dist.custom_error_responses:
            custom = page_for(ctx, status, edge_error_cause(detail))
            if custom is not None:
                spawn_page(self, ctx, custom)
                return
        if body is None:
            body = error_body(status, ctx.rid, text, self.identity.product)
        if ctx.req.method == "HEAD":
            body = b""
        head = (
            status_line(status)
            + b"Server: CloudFront\r\nDate: "
            + self.dates(time.time())
            + b"\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
            % (content_type.encode("latin-1"), len(body))
            + self._per_request(ctx, None)
            + self.policy_lines(ctx, generated=True)
            + b"\r\n"
        )
        ctx.conn.writelines([head, body])
        ctx.head_len = len(head)
        ctx.content_type = content_type
        ctx.status = status
        ctx.sent = len(body)
        self.done(ctx, keep_alive=status < 500 and not ctx.req.has_body)

    def done(self, ctx: Ctx, keep_alive: bool = True) -> None:
        self.env.record(ctx)
        ctx.conn.finish(keep_alive)


def _failure(error: BaseException | None) -> tuple[int, str]:
    """The status and log detail of an origin that did not answer (guide §1.10)."""
    if isinstance(error, OriginTimeout):
        return 504, "OriginReadError"
    return 502, getattr(error, "detail", "OriginError")


def _strip_port(host: str) -> str:
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rpartition(":")[0] if ":" in host else host
