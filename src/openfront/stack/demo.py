"""What `openfront up` runs for now: the demo origin, one edge in front of it, and one object
store per storage region.

All state lives under the data dir: origin/ (the sample site), edge.yaml (generated on every
run), admin-token, cache/, logs/ (access logs), run/ (ready files and each child's output),
regions/<name>/ (each store's data, logs and credentials) and stack.json.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

from openfront._aio import create_task
from openfront.fileio import write_atomic
from openfront.stack import demo_secure
from openfront.stack.demo_secure import DemoSecrets, ensure_secrets
from openfront.stack.demo_site import ensure_admin_token, prepare_site
from openfront.stack.freeports import bind_probe, free_probe
from openfront.stack.stackfile import StackFile
from openfront.stack.supervisor import ServiceSpec, ServiceStartError, Supervisor
from openfront.storage.welcome import storage_welcome

if TYPE_CHECKING:
    from openfront.storage.region import ExternalRegion
    from openfront.storage.stack_regions import StackRegions

DEMO_PORTS = {"origin": 8000, "edge": 8080, "https": 8443, "admin": 9090}
DISTRIBUTION_ID = "EDEMOSTACK"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
USE_ORIGIN_CACHE_CONTROL_HEADERS = "83da9c7e-98b4-4e11-a168-04f0df8e2c65"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]


@dataclass(frozen=True, slots=True)
class DemoOptions:
    data_dir: Path
    host: str = "127.0.0.1"
    free_ports: bool = False  # every service on a free port instead of DEMO_PORTS
    storage: bool = True  # run the storage regions too
    storage_config: Path | None = None  # regions from this file instead of the demo's two
    api: bool = True  # run `openfront api` and an edge that follows it (stack/demo_api.py)
    mediahub: bool = True  # per storage region: MediaHub and its media edge (mediahub_stack.py)
    mediahub_db: str | None = None  # accounts database URL; None = SQLite in DATA/mediahub/


@dataclass(frozen=True, slots=True)
class DemoLayout:
    data_dir: Path

    @property
    def origin_root(self) -> Path:
        return self.data_dir / "origin"

    @property
    def edge_config(self) -> Path:
        return self.data_dir / "edge.yaml"

    @property
    def admin_token(self) -> Path:
        return self.data_dir / "admin-token"

    @property
    def cache(self) -> Path:
        return self.data_dir / "cache"

    @property
    def logs(self) -> Path:
        return self.data_dir / "logs"

    @property
    def run(self) -> Path:
        return self.data_dir / "run"

    @property
    def stack_file(self) -> Path:
        return self.data_dir / "stack.json"

    @property
    def regions(self) -> Path:
        return self.data_dir / "regions"


def pick_ports(
    host: str,
    *,
    free: bool,
    warn: Callable[[str], None],
    usual_ports: Mapping[str, int] = DEMO_PORTS,
) -> dict[str, int]:
    """The usual ports, or free ones: for every usual port already taken, and for all
    of them when `free` is set. The probe sockets stay open until all are chosen, so the
    kernel hands out different ports."""
    probes: list[socket.socket] = []
    chosen: dict[str, int] = {}
    try:
        for name, usual in usual_ports.items():
            probe = free_probe(host) if free else bind_probe(host, usual)
            if probe is None:
                probe = free_probe(host)
                if probe is None:
                    raise OSError(f"cannot bind any port on {host}")
                port = probe.getsockname()[1]
                warn(f"port {usual} ({name}) is in use; using {port} instead")
            probes.append(probe)
            chosen[name] = probe.getsockname()[1]
    finally:
        for probe in probes:
            probe.close()
    return chosen


def hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def demo_config(
    layout: DemoLayout, host: str, ports: dict[str, int], token: str, secrets: DemoSecrets
) -> dict[str, Any]:
    """The edge.yaml document: edge settings plus one CloudFront-shaped demo distribution."""
    return {
        "edge": {
            "listen": hostport(host, ports["edge"]),
            "workers": 1,
            "admin": {"listen": hostport(host, ports["admin"]), "token": token},
            "cache": {"disk_path": str(layout.cache)},
            "logs": {"path": str(layout.logs)},
            **demo_secure.edge_settings(secrets, hostport(host, ports["https"])),
        },
        **demo_secure.key_settings(secrets),
        "distributions": [
            {"Id": DISTRIBUTION_ID, "DistributionConfig": _distribution(host, ports)}
        ],
    }


def _distribution(host: str, ports: dict[str, int]) -> dict[str, Any]:
    return {
        "Comment": "OpenFront demo: the sample site from the demo origin",
        "Enabled": True,
        "Aliases": ["localhost", "demo.openfront.localhost"],
        "DefaultRootObject": "index.html",
        # Viewers the geo database places in this country get 403 (try it with X-Forwarded-For).
        "Restrictions": demo_secure.geo_restriction(),
        "Origins": [
            {
                "Id": "demo-origin",
                "DomainName": host,
                "CustomOriginConfig": {
                    "HTTPPort": ports["origin"],
                    "OriginProtocolPolicy": "http-only",
                },
            }
        ],
        "DefaultCacheBehavior": {
            "TargetOriginId": "demo-origin",
            "ViewerProtocolPolicy": "allow-all",
            # The origin's Cache-Control decides (see origin/_headers.json); no header, no cache.
            "CachePolicyId": USE_ORIGIN_CACHE_CONTROL_HEADERS,
            "AllowedMethods": ALL_METHODS,
        },
        "CacheBehaviors": [
            {
                "PathPattern": "/static/*",
                "TargetOriginId": "demo-origin",
                "ViewerProtocolPolicy": "allow-all",
                "CachePolicyId": CACHING_OPTIMIZED,
                "Compress": True,
            },
            {
                "PathPattern": "/api/*",
                "TargetOriginId": "demo-origin",
                "ViewerProtocolPolicy": "allow-all",
                "CachePolicyId": CACHING_DISABLED,
                "AllowedMethods": ALL_METHODS,
            },
            demo_secure.private_behavior("demo-origin", CACHING_OPTIMIZED),
        ],
    }


def write_private(path: Path, text: str) -> None:
    """Write a file only the owner can read (it holds the admin token)."""
    write_atomic(path, text.encode("utf-8"), 0o600)


def prepare(options: DemoOptions, warn: Callable[[str], None]) -> tuple[DemoLayout, dict[str, int]]:
    """Lay out the data dir and write edge.yaml; returns the layout and the chosen ports."""
    layout = DemoLayout(options.data_dir.resolve())
    for folder in (layout.data_dir, layout.cache, layout.logs, layout.run):
        folder.mkdir(parents=True, exist_ok=True)
    prepare_site(layout.origin_root)
    token = ensure_admin_token(layout.admin_token)
    ports = pick_ports(options.host, free=options.free_ports, warn=warn)
    secrets = ensure_secrets(layout.data_dir)
    document = demo_config(layout, options.host, ports, token, secrets)
    header = "# Generated by `openfront up` on every start; edit a copy and run `openfront edge`.\n"
    text = yaml.dump(document, Dumper=_PlainDumper, sort_keys=False)
    write_private(layout.edge_config, header + text)
    return layout, ports


def specs(layout: DemoLayout, host: str, ports: dict[str, int]) -> list[ServiceSpec]:
    origin_args = ("origin", "--root", str(layout.origin_root), "--listen")
    return [
        ServiceSpec(
            "origin", (*origin_args, hostport(host, ports["origin"])), _log(layout, "origin")
        ),
        ServiceSpec("edge", ("edge", "--config", str(layout.edge_config)), _log(layout, "edge")),
    ]


def _log(layout: DemoLayout, name: str) -> Path:
    return layout.run / f"{name}.log"


class DemoStack:
    """Starts the demo's services, keeps stack.json current, stops on SIGINT/SIGTERM."""

    def __init__(self, options: DemoOptions, console: Console) -> None:
        self.options = options
        self.console = console
        self.stack: StackFile | None = None
        self.names: list[str] = []

    def _warn(self, message: str) -> None:
        self.console.print(Text(message, style="yellow"))

    def _ready(self, name: str, info: dict[str, Any]) -> None:
        assert self.stack is not None
        extra = {k: v for k, v in info.items() if k not in ("url", "pid")}
        self.stack.set(name, url=str(info["url"]), pid=int(info["pid"]), **extra)

    def _down(self, name: str, message: str) -> None:
        assert self.stack is not None
        self.stack.remove(name)
        self._warn(f"{name}: {message}")

    def _media_ports(self) -> dict[str, int]:
        """Ports of every region's MediaHub and media edge, chosen before the buckets' CORS
        rules are written (they allow the MediaHub pages' origins)."""
        if not (self.options.storage and self.options.mediahub):
            return {}
        from openfront.stack.mediahub_stack import usual_ports
        from openfront.storage.stack_regions import region_names

        names = region_names(self.options.storage_config)
        return pick_ports(
            self.options.host,
            free=self.options.free_ports,
            warn=self._warn,
            usual_ports=usual_ports(names),
        )

    def _regions(
        self, layout: DemoLayout, ports: dict[str, int], media_ports: dict[str, int]
    ) -> StackRegions | None:
        if not self.options.storage:
            return None
        from openfront.storage.stack_regions import StackRegions, storage_config

        hub_ports = [port for name, port in media_ports.items() if name.startswith("mediahub-")]
        config = storage_config(
            self.options.storage_config, self.options.host, ports["edge"], hub_ports
        )
        regions = StackRegions(config, layout.regions)
        regions.prepare(os.environ, free_ports=self.options.free_ports)
        return regions

    def _media(
        self,
        layout: DemoLayout,
        regions: StackRegions | None,
        media_ports: dict[str, int],
        reached: Sequence[ExternalRegion],
    ) -> list[ServiceSpec]:
        """MediaHub and its media edge per region with a bucket, managed or external and
        reached (none without)."""
        if regions is None or not media_ports:
            return []
        from openfront.stack import mediahub_stack

        media_regions = regions.media_regions(reached)
        if not media_regions:
            return []
        plan = mediahub_stack.prepare(
            media_regions,
            media_ports,
            host=self.options.host,
            data_dir=layout.data_dir,
            token=ensure_admin_token(layout.admin_token),
            secrets=ensure_secrets(layout.data_dir),
            database_url=self.options.mediahub_db,
            write=write_private,
        )
        return mediahub_stack.specs(plan, layout.run, os.environ)

    async def _external_regions(self, regions: StackRegions | None) -> list[ExternalRegion]:
        """Configure the external regions' buckets; those that answered, listed in the stack."""
        assert self.stack is not None
        if regions is None or not regions.external:
            return []
        reached = await asyncio.to_thread(regions.configure_external, self._warn)
        for region in reached:
            info = region.info()
            self.names.append(region.service)
            self.stack.set(region.service, url=str(info.pop("url")), pid=None, **info)
        return reached

    async def run(self) -> int:
        layout, ports = prepare(self.options, self._warn)
        self.stack = StackFile(layout.stack_file)
        media_ports = self._media_ports()
        regions = self._regions(layout, ports, media_ports)
        supervisor = Supervisor(layout.run, on_ready=self._ready, on_down=self._down)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        services = specs(layout, self.options.host, ports)
        api = None
        if self.options.api:
            from openfront.stack import demo_api

            api = demo_api.prepare(
                layout.data_dir,
                self.options.host,
                free_ports=self.options.free_ports,
                warn=self._warn,
            )
            api_spec, fleet_spec = demo_api.specs(api, layout.run)
            services = [services[0], api_spec, *services[1:], fleet_spec]
        if regions is not None:
            services = regions.specs(layout.run, os.environ, self._warn) + services
        try:
            reached = await self._external_regions(regions)
            services += self._media(layout, regions, media_ports, reached)
            started = await self._start_all(supervisor, services, stop)
            if started:
                extra = None
                if api is not None:
                    extra = await self._api_welcome(api, supervisor, ports["origin"])
                print_welcome(self.console, layout, supervisor, self.stack.services(), extra)
                await stop.wait()
            return 0 if started else 1
        finally:
            self.console.print("stopping…")
            await supervisor.stop()
            for name in reversed(self.names):
                self.stack.remove(name)
            self.console.print("stopped")

    async def _api_welcome(
        self, api: Any, supervisor: Supervisor, origin_port: int
    ) -> Callable[[], None]:
        """Create the demo distribution through the API; the welcome text's API part."""
        from openfront.stack import demo_api

        dist_id = await asyncio.to_thread(demo_api.ensure_distribution, api, origin_port)
        fleet_url = str(supervisor.ready_info("fleet-edge")["url"])
        return lambda: demo_api.welcome(
            self.console, api, dist_id, fleet_url, _shell_path, openfront_command()
        )

    async def _start_all(
        self, supervisor: Supervisor, services: list[ServiceSpec], stop: asyncio.Event
    ) -> bool:
        for spec in services:
            self.names.append(spec.name)
            starting = create_task(supervisor.start(spec), name=f"start-{spec.name}")
            stopping = create_task(stop.wait(), name="stop-wait")
            await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not starting.done():
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError, ServiceStartError):
                    await starting
                return False
            try:
                starting.result()
            except ServiceStartError as exc:
                self.console.print(Text(f"error: {exc}", style="red"))
                return False
        return True


def openfront_command() -> str:
    """How to call the CLI from this shell: `openfront` if on PATH, else the venv's script."""
    if shutil.which("openfront"):
        return "openfront"
    script = Path(sys.executable).parent / "openfront"
    if script.exists():
        with contextlib.suppress(ValueError):
            return str(script.relative_to(Path.cwd()))
        return str(script)
    return f"{sys.executable} -m openfront"


def _shell_path(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


def print_welcome(
    console: Console,
    layout: DemoLayout,
    supervisor: Supervisor,
    services: dict[str, Any] | None = None,
    api_welcome: Callable[[], None] | None = None,
) -> None:
    edge, origin = supervisor.ready_info("edge"), supervisor.ready_info("origin")
    url, admin = str(edge["url"]), str(edge.get("admin_url", ""))
    table = Table(title="OpenFront demo stack", title_justify="left")
    for column in ("service", "URL", "pid"):
        table.add_column(column)
    table.add_row("edge", url, str(supervisor.pid("edge")))
    if edge.get("https_url"):
        table.add_row("edge (HTTPS)", str(edge["https_url"]), str(supervisor.pid("edge")))
    table.add_row("edge admin", admin, str(supervisor.pid("edge")))
    table.add_row("origin", str(origin["url"]), str(supervisor.pid("origin")))
    for name in ("api", "fleet-edge"):  # the control plane and the edge following it
        if name in (services or {}):
            table.add_row(name, str(supervisor.ready_info(name)["url"]), str(supervisor.pid(name)))
    storage = storage_welcome(services or {}, _shell_path(layout.data_dir), openfront_command())
    for row in storage.rows:
        table.add_row(*row)
    console.print(table)
    token = _shell_path(layout.admin_token)
    tries = [
        ("Fetch a page twice: X-Cache says Miss, then Hit", f"curl -i {url}/index.html"),
        (
            "A byte range of the 2 MiB sample",
            f"curl -i -H 'Range: bytes=0-99' {url}/video/sample.bin",
        ),
        ("Never cached (/api/*)", f"curl -i {url}/api/status.json"),
        ("Any method reaches the origin", f"curl -i -X POST --data hello {url}/_echo"),
        (
            "Invalidate, then fetch again (Miss)",
            f"{openfront_command()} invalidate --admin {admin} --token-file {token} /index.html",
        ),
        ("Metrics (Prometheus)", f"curl {admin}/metrics"),
        *_secure_tries(layout, url, str(edge.get("https_url", ""))),
        *storage.tries,
    ]
    console.print("Try:")
    for label, command in tries:
        console.print(Text(f"  # {label}", style="dim"))
        console.print(Text(f"  {command}", style="bold"))
    stack, run = _shell_path(layout.stack_file), _shell_path(layout.run)
    console.print(f"Services are listed in {stack}; their output is in {run}/.")
    for line in storage.notes:
        console.print(line)
    if api_welcome is not None:
        api_welcome()
    console.print("Press Ctrl-C to stop.")


def _secure_tries(layout: DemoLayout, url: str, https_url: str) -> list[tuple[str, str]]:
    """Commands showing HTTPS, signed URLs, the geo rule and compression."""
    certs = _shell_path(layout.data_dir / "certs" / "ca.pem")
    key = _shell_path(layout.data_dir / "keys" / "demo-signing-key.pem")
    port = https_url.rpartition(":")[2]
    secure = f"https://localhost:{port}"
    private = f"{secure}/private/members.html"
    sign = (
        f"{openfront_command()} sign-url {private} --key-pair-id {demo_secure.KEY_PAIR_ID} "
        f"--private-key {key}"
    )
    blocked = demo_secure.BLOCKED_SAMPLE_IP
    return [
        ("HTTPS with the demo's local CA", f"curl -i --cacert {certs} {secure}/"),
        ("Private content: 403 without a signature", f"curl -i --cacert {certs} {private}"),
        ("...and 200 with a signed URL", f'curl -i --cacert {certs} "$({sign})"'),
        (
            f"A viewer from a blocked country ({demo_secure.BLOCKED_COUNTRY}) gets 403",
            f"curl -i -H 'X-Forwarded-For: {blocked}' {url}/index.html",
        ),
        (
            "Compressed with Brotli",
            f"curl -s -D - -o /dev/null -H 'Accept-Encoding: br' {url}/static/app.js",
        ),
    ]


class _PlainDumper(yaml.SafeDumper):
    """No &anchors/*aliases: the file is meant to be read and edited by people."""

    def ignore_aliases(self, data: object) -> bool:
        return True
