"""Running an edge: one process, or a master with preforked workers sharing the port.

With ``workers > 1`` the master binds the port once (to learn it when 0 is asked), starts N
worker processes that each bind their own listening socket with SO_REUSEPORT (the kernel
spreads connections), serves the admin port itself and relays invalidations to every worker
over a pipe. Workers share the disk tier, not Python objects.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openfront._aio import create_task
from openfront.edge.admin import AdminHandlers, AdminServer
from openfront.edge.app import EdgeEnv, protocol_error_responder
from openfront.edge.protocol import Connection, Sweeper
from openfront.edge.tls import CertStore

if TYPE_CHECKING:
    from openfront.config import OpenFrontConfig
    from openfront.edge.follow import Follower

_log = logging.getLogger("openfront.edge")


def split_addr(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


class PortInUse(OSError):
    pass


def claim_port(host: str, port: int) -> socket.socket:
    """A SO_REUSEPORT socket on a port no other process listens on.

    SO_REUSEPORT would let a second edge silently share a port with the first (the kernel
    splitting connections between them), so the port is first bound without it as a probe.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        port = probe.getsockname()[1]
    except OSError as e:
        raise PortInUse(e.errno, f"cannot listen on {host}:{port}: {e.strerror}") from None
    finally:
        probe.close()
    return reuseport_socket(host, port)


def reuseport_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


def write_ready(path: Path, info: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(info))
    os.replace(tmp, path)


class RunningEdge:
    """An edge serving inside the current event loop (one worker, admin included)."""

    def __init__(self, cfg: OpenFrontConfig, *, share: int = 1, worker: int = 0) -> None:
        self.env = EdgeEnv(cfg, share=share, worker=worker)
        self.cfg = cfg
        self.server: asyncio.Server | None = None
        self.admin: AdminServer | None = None
        self.port = 0
        self._flusher: asyncio.TimerHandle | None = None
        self._reloader: asyncio.TimerHandle | None = None
        self.sweeper: Sweeper | None = None
        self.certs: CertStore | None = None
        self.tls_server: asyncio.Server | None = None
        self.tls_port = 0

    async def start(
        self,
        *,
        sock: socket.socket | None = None,
        tls_sock: socket.socket | None = None,
        admin: bool = True,
    ) -> None:
        env = self.env
        await env.open()
        loop = asyncio.get_running_loop()
        edge = env.edge
        limits = env.limits
        on_error = protocol_error_responder(edge)

        sweeper = self.sweeper = Sweeper(limits)

        def factory() -> Connection:
            return Connection(edge.handle, on_error, limits, sweeper, heads=edge.heads)

        if sock is None:
            host, port = split_addr(self.cfg.edge.listen)
            sock = claim_port(host, port)
        self.server = await loop.create_server(factory, sock=sock, backlog=4096)
        self.port = self.server.sockets[0].getsockname()[1]
        tls = self.cfg.edge.tls
        if tls is not None:
            self.certs = CertStore(tls, env.distributions)

            def tls_factory() -> Connection:
                return Connection(
                    edge.handle, on_error, limits, sweeper, scheme="https", heads=edge.heads
                )

            if tls_sock is None:
                host, port = split_addr(tls.listen)
                tls_sock = claim_port(host, port)
            self.tls_server = await loop.create_server(
                tls_factory,
                sock=tls_sock,
                backlog=4096,
                ssl=self.certs.server_context(),
                ssl_handshake_timeout=float(limits.header_timeout),
            )
            self.tls_port = self.tls_server.sockets[0].getsockname()[1]
            edge.https_port = self.tls_port  # redirect-to-https points at the real port
            self._schedule_reload(float(tls.reload_seconds))
        if admin:
            await self.start_admin(self.admin_handlers())
        self._schedule_flush()

    def admin_handlers(self) -> AdminHandlers:
        env = self.env
        return AdminHandlers(
            invalidate=env.invalidate,
            metrics=env.metrics_text,
            health=lambda: {"status": "ok"},
            status=env.status,
        )

    async def start_admin(self, handlers: AdminHandlers) -> None:
        a = self.cfg.edge.admin
        host, port = split_addr(a.listen)
        token = a.token.get_secret_value() if a.token is not None else None
        self.admin = AdminServer(host=host, port=port, token=token, handlers=handlers)
        await self.admin.start()

    @property
    def admin_port(self) -> int:
        return self.admin.port if self.admin is not None else 0

    def _schedule_reload(self, every: float) -> None:
        # Certificate files renewed on disk are picked up without a restart.
        if self.certs is not None:
            self.certs.reload_if_changed()
        self._reloader = asyncio.get_running_loop().call_later(every, self._schedule_reload, every)

    def _schedule_flush(self) -> None:
        self.env.flush_logs()
        self._flusher = asyncio.get_running_loop().call_later(1.0, self._schedule_flush)

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
        if self.server is not None:
            self.server.close()
        if self.tls_server is not None:
            self.tls_server.close()
        if self._reloader is not None:
            self._reloader.cancel()
        if self.sweeper is not None:
            self.sweeper.close()
        if self.admin is not None:
            await self.admin.close()
        await self.env.close()


def _install_loop(cfg: OpenFrontConfig) -> None:
    if cfg.edge.event_loop == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def _stop(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


async def _wait_for_signal() -> None:
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: _stop(stop))
    await stop


def serve(cfg: OpenFrontConfig, *, ready_file: Path | None = None) -> int:
    """Run an edge until SIGINT/SIGTERM. Returns the process exit code.

    A port that cannot be bound is a one-line error on stderr and exit code 1.
    """
    from openfront.errors import ConfigError

    _install_loop(cfg)
    try:
        if cfg.edge.workers <= 1:
            return asyncio.run(_serve_single(cfg, ready_file))
        return asyncio.run(_serve_master(cfg, ready_file))
    except OSError as e:
        if e.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        detail = e.args[1] if isinstance(e, PortInUse) else f"cannot listen: {e}"
        print(f"error: {detail}", file=sys.stderr)
        return 1
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _announce(url: str, admin_url: str, workers: int) -> None:
    print(
        f"edge {url} (admin {admin_url}, {workers} worker{'s' if workers > 1 else ''})",
        file=sys.stderr,
        flush=True,
    )


def _follower(
    cfg: OpenFrontConfig,
    load: Callable[[OpenFrontConfig], Awaitable[None]],
    invalidate: Callable[[str | None, list[str]], Awaitable[Any]],
) -> Follower | None:
    """The control plane client when the edge follows one (the only one on this host)."""
    if cfg.edge.control_plane is None:
        return None
    from openfront.edge.follow import Follower

    async def purge(dist_id: str, paths: list[str]) -> None:
        try:
            await invalidate(dist_id, paths)
        except LookupError:
            pass  # a distribution this edge does not serve has nothing cached here

    return Follower(cfg, load, purge)


async def _serve_single(cfg: OpenFrontConfig, ready_file: Path | None) -> int:
    edge: RunningEdge | None = None

    async def load(new: OpenFrontConfig) -> None:
        assert edge is not None
        edge.env.set_config(new)

    async def invalidate(dist_id: str | None, paths: list[str]) -> Any:
        assert edge is not None
        return await edge.env.invalidate(dist_id, paths)

    follower = _follower(cfg, load, invalidate)
    if follower is not None:
        cfg = follower.initial_config()
    edge = RunningEdge(cfg)
    await edge.start()
    host, _ = split_addr(cfg.edge.listen)
    if follower is not None:
        follower.start(f"http://{host}:{edge.port}")
    admin_host, _ = split_addr(cfg.edge.admin.listen)
    _announce(f"http://{host}:{edge.port}", f"http://{admin_host}:{edge.admin_port}", 1)
    if ready_file is not None:
        write_ready(
            ready_file,
            {
                "url": f"http://{host}:{edge.port}",
                "admin_url": f"http://{admin_host}:{edge.admin_port}",
                **(
                    {"https_url": f"https://{split_addr(cfg.edge.tls.listen)[0]}:{edge.tls_port}"}
                    if cfg.edge.tls is not None
                    else {}
                ),
                "pid": os.getpid(),
            },
        )
    try:
        await _wait_for_signal()
    finally:
        if follower is not None:
            await follower.close()
        await edge.close()
    return 0


# -- prefork ----------------------------------------------------------------------------------


class WorkerStartError(RuntimeError):
    pass


class _Worker:
    def __init__(self, index: int) -> None:
        self.index = index
        self.proc: asyncio.subprocess.Process | None = None
        self.control_w: int = -1
        self.reply: asyncio.StreamReader | None = None
        self.lock = asyncio.Lock()


async def _serve_master(cfg: OpenFrontConfig, ready_file: Path | None) -> int:
    host, port = split_addr(cfg.edge.listen)
    holder = claim_port(host, port)  # reserves the port for the group; never listens
    port = holder.getsockname()[1]
    tls_holder = None
    tls_port = 0
    if cfg.edge.tls is not None:
        tls_host, tls_port = split_addr(cfg.edge.tls.listen)
        tls_holder = claim_port(tls_host, tls_port)
        tls_port = tls_holder.getsockname()[1]
    run_dir = Path(tempfile.mkdtemp(prefix="openfront-edge-"))
    cfg_path = run_dir / "config.json"
    # Only what was set: defaults stay defaults when the worker validates it again. Secrets
    # come out masked, and workers do not need them (the admin port is the master's).
    dumped = cfg.model_dump_json(by_alias=True, exclude_unset=True)
    follow_args: list[str] = []
    if cfg.edge.control_plane is not None:
        # Workers load the edge settings, then the snapshot the master's follower keeps.
        from openfront.edge.follow import STATE_FILE

        dumped = json.dumps({"edge": json.loads(dumped)["edge"]})
        follow_args = [str(cfg.edge.control_plane.data_dir.absolute() / STATE_FILE)]
    cfg_path.write_text(dumped)
    workers = [_Worker(i) for i in range(cfg.edge.workers)]
    stopping = asyncio.Event()

    async def spawn(w: _Worker) -> None:
        ctl_r, ctl_w = os.pipe()
        rep_r, rep_w = os.pipe()
        ready_r, ready_w = os.pipe()
        w.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "openfront.edge.worker",
            str(cfg_path),
            str(port),
            str(w.index),
            str(len(workers)),
            str(ctl_r),
            str(rep_w),
            str(ready_w),
            str(tls_port),
            *follow_args,
            pass_fds=(ctl_r, rep_w, ready_w),
        )
        for fd in (ctl_r, rep_w, ready_w):
            os.close(fd)
        w.control_w = ctl_w
        loop = asyncio.get_running_loop()
        reply = w.reply = asyncio.StreamReader()
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reply), os.fdopen(rep_r, "rb", buffering=0)
        )
        ready = asyncio.StreamReader()
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(ready), os.fdopen(ready_r, "rb", buffering=0)
        )
        line = await ready.readline()
        transport.close()
        if not line:
            await w.proc.wait()
            raise WorkerStartError(f"edge worker {w.index} exited with {w.proc.returncode}")

    async def watch(w: _Worker) -> None:
        delay = 0.5
        while not stopping.is_set():
            assert w.proc is not None
            await w.proc.wait()
            if stopping.is_set():
                return
            _log.warning("edge worker %d exited with %s; restarting", w.index, w.proc.returncode)
            os.close(w.control_w)
            while not stopping.is_set():
                try:
                    await spawn(w)
                    delay = 0.5
                    break
                except WorkerStartError as e:
                    _log.error("%s; retrying in %.1f s", e, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30.0)

    async def broadcast(msg: dict[str, Any]) -> list[dict[str, Any]]:
        async def one(w: _Worker) -> dict[str, Any]:
            async with w.lock:
                assert w.reply is not None
                os.write(w.control_w, (json.dumps(msg) + "\n").encode())
                line = await w.reply.readline()
                result: dict[str, Any] = json.loads(line)
                return result

        return list(await asyncio.gather(*(one(w) for w in workers)))

    async def invalidate(dist_id: str | None, paths: list[str]) -> dict[str, Any]:
        replies = await broadcast({"op": "invalidate", "dist": dist_id, "paths": paths})
        for r in replies:
            if "error" in r:
                raise (LookupError if r.get("kind") == "lookup" else ValueError)(r["error"])
        return {
            "DistributionId": dist_id,
            "Paths": paths,
            "Status": "Completed",
            "Removed": sum(int(r.get("Removed", 0)) for r in replies),
        }

    async def metrics() -> bytes:
        from openfront.edge.metrics import merge, render_prometheus

        replies = await broadcast({"op": "metrics"})
        return render_prometheus(merge([r["snapshot"] for r in replies]))

    async def status() -> dict[str, Any]:
        replies = await broadcast({"op": "status"})
        return {"workers": replies}

    async def load(_: OpenFrontConfig) -> None:
        # The follower saved the snapshot before calling: each worker reads and loads it.
        for r in await broadcast({"op": "load"}):
            if "error" in r:
                _log.error("a worker could not load the configuration: %s", r["error"])

    follower = _follower(cfg, load, invalidate)

    try:
        for w in workers:
            await spawn(w)
    except WorkerStartError as e:
        _log.error("%s", e)
        for w in workers:
            if w.proc is not None and w.proc.returncode is None:
                w.proc.terminate()
                await w.proc.wait()
        holder.close()
        await asyncio.to_thread(shutil.rmtree, run_dir, True)
        return 1
    watchers = [create_task(watch(w)) for w in workers]
    if follower is not None:
        follower.start(f"http://{host}:{port}")
    admin_host, admin_port = split_addr(cfg.edge.admin.listen)
    token = cfg.edge.admin.token
    admin = AdminServer(
        host=admin_host,
        port=admin_port,
        token=token.get_secret_value() if token is not None else None,
        handlers=AdminHandlers(
            invalidate=invalidate,
            metrics=metrics,
            health=lambda: {"status": "ok", "workers": len(workers)},
            status=status,
        ),
    )
    await admin.start()
    _announce(f"http://{host}:{port}", f"http://{admin_host}:{admin.port}", len(workers))
    if ready_file is not None:
        write_ready(
            ready_file,
            {
                "url": f"http://{host}:{port}",
                **(
                    {"https_url": f"https://{split_addr(cfg.edge.tls.listen)[0]}:{tls_port}"}
                    if cfg.edge.tls is not None
                    else {}
                ),
                "admin_url": f"http://{admin_host}:{admin.port}",
                "pid": os.getpid(),
                "workers": len(workers),
            },
        )
    try:
        await _wait_for_signal()
    finally:
        stopping.set()
        if follower is not None:
            await follower.close()
        for t in watchers:
            t.cancel()
        await admin.close()
        for w in workers:
            if w.proc is not None and w.proc.returncode is None:
                w.proc.terminate()
        for w in workers:
            if w.proc is not None:
                try:
                    await asyncio.wait_for(w.proc.wait(), 10)
                except TimeoutError:
                    w.proc.kill()
                    await w.proc.wait()
            os.close(w.control_w)
        holder.close()
        if tls_holder is not None:
            tls_holder.close()
        await asyncio.to_thread(shutil.rmtree, run_dir, True)
    return 0
