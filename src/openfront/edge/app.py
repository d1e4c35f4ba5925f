"""One edge worker's environment: stores, origin client, logs, metrics, listeners and admin."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openfront.cache.invalidation import InvalidationMatcher, validate_invalidation_path
from openfront.config.compile import compile_all
from openfront.edge.accesslog import AccessLog
from openfront.edge.handler import Ctx, Edge
from openfront.edge.metrics import EdgeMetrics, render_prometheus
from openfront.edge.origin import OriginClient
from openfront.edge.origin_tls import OriginTls
from openfront.edge.protocol import Connection
from openfront.edge.request import Request
from openfront.edge.respond import EdgeIdentity
from openfront.edge.s3sign import S3Signer, load_s3_credentials
from openfront.edge.store import memory_tier
from openfront.edge.store.disk import DiskStore
from openfront.edge.viewerinfo import ViewerInfo

if TYPE_CHECKING:
    from openfront.config import OpenFrontConfig

_log = logging.getLogger("openfront.edge")
_NEVER = 1 << 62


def node_id(pop: str) -> str:
    """A stable per-host id for Via, like CloudFront's hex host label."""
    return hashlib.blake2b(f"{pop}/{socket.gethostname()}".encode(), digest_size=16).hexdigest()


class EdgeEnv:
    """Everything one worker process shares between its connections."""

    def __init__(self, cfg: OpenFrontConfig, *, share: int = 1, worker: int = 0) -> None:
        e = cfg.edge
        self.cfg = cfg
        self.limits = e.limits
        self.cache = e.cache
        self.worker = worker
        self.distributions = compile_all(cfg)
        self.identity = EdgeIdentity(pop=e.pop, product_name=e.product_name, node_id=node_id(e.pop))
        self.memory = memory_tier(
            e.cache.memory_layout, e.cache.memory_bytes, e.cache.memory_max_object_bytes
        )
        self.disk: DiskStore | None = None
        self.spill_dir: str | None = None
        if e.cache.disk_path is not None:
            root = Path(e.cache.disk_path)
            self.disk = DiskStore(root, e.cache.disk_bytes, share=share)
            self.spill_dir = str(root)
        self.client = OriginClient(
            tls=OriginTls(e.origin_tls.ca_bundle, verify=e.origin_tls.verify),
            s3=S3Signer(load_s3_credentials(self.distributions, e.s3_origins)),
        )
        self.metrics = EdgeMetrics()
        self.logs: dict[str, AccessLog] = {}
        self._open_logs()
        self.viewers = self._viewer_info()
        self.domains = {d.id: f"{d.id.lower()}.cloudfront.net" for d in self.distributions}
        self.edge = Edge(self)

    def _open_logs(self) -> None:
        logs = self.cfg.edge.logs
        if logs.path is None:
            return
        for d in self.distributions:
            if d.id not in self.logs:
                self.logs[d.id] = AccessLog(
                    Path(logs.path),
                    d.id,
                    rotate_bytes=logs.rotate_bytes or _NEVER,  # 0 means never
                    rotate_seconds=logs.rotate_seconds or _NEVER,
                    gzip_on_rotate=logs.gzip,
                )

    def _viewer_info(self) -> ViewerInfo:
        v = self.cfg.edge.viewer
        return ViewerInfo(
            self.distributions,
            v.trusted_proxies,
            None if v.geoip_database is None else str(v.geoip_database),
        )

    def set_config(self, cfg: OpenFrontConfig) -> None:
        """Serve ``cfg``'s distributions from now on (the edge settings stay as they were).

        Used when the control plane pushes a configuration. Cached objects stay: their keys
        start with the distribution id, so a new version of a distribution keeps its cache.
        """
        self.cfg = cfg.model_copy(update={"edge": self.cfg.edge})
        self.distributions = compile_all(self.cfg)
        self.client.s3 = S3Signer(load_s3_credentials(self.distributions, self.cfg.edge.s3_origins))
        self._open_logs()
        self.viewers = self._viewer_info()
        self.domains = {d.id: f"{d.id.lower()}.cloudfront.net" for d in self.distributions}
        self.edge.viewers = self.viewers
        self.edge.set_distributions(self.distributions)

    async def open(self) -> None:
        if self.disk is not None:
            await asyncio.to_thread(self.disk.open)

    async def close(self) -> None:
        await self.edge.fetcher.drain(timeout=10.0)
        await self.client.close()
        for log in self.logs.values():
            await asyncio.to_thread(log.close)

    # -- per request ---------------------------------------------------------------------------
    def record(self, ctx: Ctx) -> None:
        d = ctx.dist
        self.record_request(
            d.dist.id if d is not None else "-",
            ctx.req,
            ctx.conn.scheme,
            ctx.rid,
            ctx.status,
            ctx.result,
            ctx.sent,
            ctx.head_len,
            ctx.content_type,
            ctx.detail,
            ctx.range_start,
            ctx.range_end,
        )

    def record_request(
        self,
        dist_id: str,
        req: Request,
        scheme: str,
        rid: bytes,
        status: int,
        result: str,
        sent: int,
        head_len: int = 0,
        content_type: str | None = None,
        detail: str = "",
        range_start: int | None = None,
        range_end: int | None = None,
    ) -> None:
        """Count one answered request and queue its access-log line (the hot path: no I/O)."""
        self.metrics.request(dist_id, status, result, sent + head_len, req.content_length or 0)
        log = self.logs.get(dist_id)
        if log is None:
            return
        elapsed = time.monotonic() - req.start
        h = req.lookup.get
        log.record((
            req.wall_start(), self.identity.pop, sent + head_len, req.client_ip, req.method,
            self.domains.get(dist_id), req.path, status, h("referer"), h("user-agent"),
            req.query, h("cookie"), result, rid.decode(), h("host"), scheme,
            req.header_bytes + (req.content_length or 0), elapsed, h("x-forwarded-for"),
            None, None, result, "HTTP/" + req.version, None, None, req.client_port, elapsed,
            detail or result, content_type, sent, range_start, range_end,
        ))  # fmt: skip

    def flush_logs(self) -> None:
        for log in self.logs.values():
            log.flush()

    # -- admin callbacks -------------------------------------------------------------------------
    async def invalidate(self, distribution_id: str | None, paths: list[str]) -> dict[str, Any]:
        for p in paths:
            err = validate_invalidation_path(p)
            if err is not None:
                raise ValueError(err)
        dists = [d for d in self.distributions if distribution_id in (None, d.id)]
        if not dists:
            raise LookupError(f"no distribution {distribution_id}")
        matcher = InvalidationMatcher(paths)
        prefixes = tuple(d.id.encode() + b"\0" for d in dists)

        def pred(meta: Any) -> bool:
            return bool(meta.key.startswith(prefixes) and matcher.matches(meta.url))

        removed = self.memory.delete_urls(prefixes, matcher.matches)
        if self.disk is not None:
            removed += await asyncio.to_thread(self.disk.delete_matching, pred, scan_disk=True)
        return {
            "DistributionId": distribution_id,
            "Paths": paths,
            "Status": "Completed",
            "Removed": removed,
        }

    def metrics_text(self) -> bytes:
        return render_prometheus(self.metrics.snapshot())

    def status(self) -> dict[str, Any]:
        return {
            "distributions": [d.id for d in self.distributions],
            "memory": {"objects": len(self.memory), "bytes": self.memory.used_bytes},
            "disk": None
            if self.disk is None
            else {"objects": len(self.disk), "bytes": self.disk.used_bytes},
            "inflight": len(self.edge.fetcher.inflight),
        }


def protocol_error_responder(edge: Edge) -> Callable[[Connection, int, str], None]:
    """Answers requests the parser refused, in CloudFront's shape, then the connection closes."""

    def respond(conn: Connection, status: int, msg: str) -> None:
        ip, port = conn.client
        req = Request("-", "-", "-", "", "1.1", {}, False, ip, port, time.monotonic(), 0)
        ctx = Ctx(conn, req, edge.ids.next(), None)
        edge.error(ctx, status, "InvalidRequest", msg)

    return respond
