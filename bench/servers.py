"""Start and stop the benchmark's servers: the origins and the three contenders.

Every server runs in its own session (process group) with a generated config under the run's temp
dir, so `Server.stop` can end it with all its children, and nothing is written outside that dir.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parent.parent
# Overridable to bench another build of the edge (or a stand-in while the edge is being written).
OPENFRONT = Path(os.environ.get("OPENFRONT_BENCH_BIN", REPO / ".venv" / "bin" / "openfront"))
HOT_SIZE = 1024
BIG_SIZE = 1024 * 1024
CACHE_CONTROL = "max-age=3600"
CONTENDERS = ("nginx", "varnish", "ours")


class BenchError(Exception):
    """A server could not be started or did not behave as the benchmark needs."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def pinned(cpus: str | None, argv: list[str]) -> list[str]:
    return ["taskset", "-c", cpus, *argv] if cpus else argv


@dataclass
class Server:
    """One running server (a process group) and what the bench needs to know about it."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    workers: int = 1
    cpus: str | None = None
    bodies_in_memory: bool = True
    # Workers are threads of one process (Varnish's thread pools), not a process each.
    threaded: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self, grace: float = 5.0) -> None:
        # A second Ctrl-C must not cut a stop short and leave the group running: hold the
        # signals until the group is gone (a pending one is raised right after).
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            self._stop(grace)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def _stop(self, grace: float) -> None:
        if self.proc.returncode is not None:
            _signal_group(self.proc.pid, signal.SIGKILL)  # the leader exited; its group may not
            return
        _signal_group(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        # Children (nginx workers, varnish's child) may outlive the leader: kill the whole group.
        _signal_group(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=grace)

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def spawn(
    name: str,
    argv: list[str],
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Server:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=dict(env) if env is not None else None,
        )
    return Server(name=name, port=0, proc=proc, log=log)


def wait_ready(server: Server, deadline_s: float = 30.0) -> None:
    """Poll until the port accepts a connection; fail early if the process died."""
    deadline = time.monotonic() + deadline_s
    while True:
        if server.proc.poll() is not None:
            raise BenchError(
                f"{server.name} exited with {server.proc.returncode} before listening:\n"
                f"{server.log_tail()}"
            )
        try:
            with socket.create_connection((HOST, server.port), timeout=0.5):
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise BenchError(f"{server.name} not listening on {server.port} after {deadline_s} s")
        time.sleep(0.05)  # polling a port of another process: there is nothing to await


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def ready_or_stop(server: Server, deadline_s: float = 30.0) -> Server:
    try:
        wait_ready(server, deadline_s)
    except BaseException:
        server.stop()
        raise
    return server


def get(port: int, path: str, timeout: float = 10.0) -> Reply:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        return Reply(resp.status, headers, body)
    finally:
        conn.close()


# --- origins -------------------------------------------------------------------------------------


def write_origin_files(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "hot.bin").write_bytes(os.urandom(HOT_SIZE))
    (root / "big.bin").write_bytes(os.urandom(BIG_SIZE))


_COMMON_HTTP = """
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    client_body_temp_path {prefix}/tmp/client;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
"""


def _nginx_main(prefix: Path, workers: int) -> str:
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes {workers};\n"
        f"worker_rlimit_nofile 16384;\n"
        f"pid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log warn;\n"
        "events { worker_connections 8192; multi_accept on; }\n"
    )


def _nginx_prefix(tmp: Path, name: str) -> Path:
    prefix = tmp / name
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    return prefix


def _start_nginx(name: str, prefix: Path, conf: str, cpus: str | None) -> Server:
    conf_path = prefix / "nginx.conf"
    conf_path.write_text(conf)
    argv = ["nginx", "-c", str(conf_path), "-p", str(prefix), "-e", str(prefix / "error.log")]
    return spawn(name, pinned(cpus, [*argv, "-g", "daemon off;"]), prefix / "stdout.log")


def start_static_origin(tmp: Path, slow_port: int, cpus: str | None = "1") -> Server:
    """nginx serving hot.bin/big.bin, /obj/<i> (all hot.bin) and proxying /slow/ to the counter."""
    prefix = _nginx_prefix(tmp, "origin")
    root = prefix / "www"
    write_origin_files(root)
    port = free_port()
    conf = (
        _nginx_main(prefix, 1)
        + "http {"
        + _COMMON_HTTP.format(prefix=prefix)
        + f"""
    upstream slow {{ server {HOST}:{slow_port}; keepalive 64; }}
    server {{
        listen {HOST}:{port} backlog=4096;
        root {root};
        location / {{ add_header Cache-Control "{CACHE_CONTROL}"; }}
        location /obj/ {{ add_header Cache-Control "{CACHE_CONTROL}"; try_files /hot.bin =404; }}
        location /slow/ {{
            proxy_pass http://slow;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }}
    }}
}}
"""
    )
    server = _start_nginx("origin", prefix, conf, cpus)
    server.port = port
    return ready_or_stop(server)


def start_slow_origin(tmp: Path, delay: float, cpus: str | None = "1") -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "bench.origin", "--port", str(port), "--delay", str(delay)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    server = spawn("slow-origin", pinned(cpus, argv), tmp / "slow-origin.log", env)
    server.port = port
    return ready_or_stop(server)


# --- contenders ----------------------------------------------------------------------------------


def start_nginx(tmp: Path, origin_port: int, workers: int, cpus: str | None) -> Server:
    prefix = _nginx_prefix(tmp, f"nginx-{workers}w-{time.monotonic_ns()}")
    port = free_port()
    # No proxy_cache_valid: without it nginx takes the TTL from the origin's Cache-Control/Expires
    # and stores nothing that lacks them, like the edge's UseOriginCacheControlHeaders policy.
    conf = (
        _nginx_main(prefix, workers)
        + "http {"
        + _COMMON_HTTP.format(prefix=prefix)
        + f"""
    proxy_cache_path {prefix}/cache levels=1:2 keys_zone=bench:64m max_size=4g inactive=1d
                     use_temp_path=off;
    upstream origin {{ server {HOST}:{origin_port}; keepalive 64; }}
    server {{
        listen {HOST}:{port} backlog=4096;
        location / {{
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache bench;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 30s;
            proxy_cache_lock_age 30s;
            add_header X-Cache-Status $upstream_cache_status;
        }}
    }}
}}
"""
    )
    server = _start_nginx("nginx", prefix, conf, cpus)
    server.port, server.workers, server.cpus = port, workers, cpus
    server.bodies_in_memory = False  # bodies live in files (page cache), not in the processes
    return ready_or_stop(server)


def start_varnish(tmp: Path, origin_port: int, workers: int, cpus: str | None) -> Server:
    workdir = tmp / f"varnish-{workers}w-{time.monotonic_ns()}"
    workdir.mkdir(parents=True)
    port = free_port()
    argv = [
        "varnishd",
        "-F",
        "-j",
        "none",  # no privilege separation: the work dir is a private temp dir owned by us
        "-a",
        f"{HOST}:{port}",
        "-b",
        f"{HOST}:{origin_port}",
        "-s",
        "malloc,256m",
        "-n",
        str(workdir),
        "-p",
        f"thread_pools={workers}",
        "-p",
        "listen_depth=4096",
    ]
    server = spawn("varnish", pinned(cpus, argv), workdir / "varnishd.log")
    server.port, server.workers, server.cpus = port, workers, cpus
    server.threaded = True
    return ready_or_stop(server, 60.0)  # the child compiles the VCL with cc first


def ours_available() -> tuple[bool, str]:
    if not OPENFRONT.exists():
        return False, f"{OPENFRONT} not found (run `make install`)"
    try:
        done = subprocess.run(
            [str(OPENFRONT), "edge", "--help"],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"`openfront edge --help` failed: {exc}"
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).decode(errors="replace").strip().splitlines()[-1:]
        return False, f"`openfront edge --help` exited {done.returncode}: {' '.join(tail)}"
    return True, "ok"


def start_ours(tmp: Path, origin_port: int, workers: int, cpus: str | None) -> Server:
    port = free_port()
    argv = [
        str(OPENFRONT),
        "edge",
        "--origin",
        f"http://{HOST}:{origin_port}",
        "--listen",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
    ]
    home = tmp / f"ours-{workers}w-{time.monotonic_ns()}"
    home.mkdir(parents=True)
    # Run inside its own temp dir so any state the edge keeps at relative default paths stays there.
    server = spawn("ours", pinned(cpus, argv), home / "edge.log", cwd=home)
    server.port, server.workers, server.cpus = port, workers, cpus
    return ready_or_stop(server)


Starter = Callable[[Path, int, int, "str | None"], Server]
STARTERS: dict[str, Starter] = {"nginx": start_nginx, "varnish": start_varnish, "ours": start_ours}


def is_hit(name: str, reply: Reply) -> bool:
    """Whether the reply came from the contender's cache, by each one's own marker."""
    if name == "ours":
        return reply.headers.get("x-cache", "").lower() == "hit from cloudfront"
    if name == "nginx":
        return reply.headers.get("x-cache-status", "") == "HIT"
    if name == "varnish":
        return len(reply.headers.get("x-varnish", "").split()) == 2
    raise BenchError(f"unknown contender {name!r}")


@contextlib.contextmanager
def running(servers: list[Server]) -> Iterator[list[Server]]:
    """Stop every server appended to the list, in reverse order, however the block ends."""
    try:
        yield servers
    finally:
        pending: BaseException | None = None
        for server in reversed(servers):
            try:
                server.stop()
            except BaseException as exc:  # an interrupt: stop the rest first, then raise it
                pending = pending or exc
        if pending is not None:
            raise pending


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
