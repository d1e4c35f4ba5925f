"""`openfront edge`: run one edge from a config file, or in front of one origin (quick mode)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from openfront.cli._console import EXIT_CONFIG, fail

if TYPE_CHECKING:
    from openfront.config import OpenFrontConfig

# Each flag names the edge setting it replaces; its default lives only in the config model.
FLAG_SETTINGS = {
    "listen": "listen",
    "workers": "workers",
    "admin": "admin.listen",
    "disk": "cache.disk_path",
    "log_dir": "logs.path",
    "event_loop": "event_loop",
    "pop": "pop",
}


@click.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Edge settings and distributions, YAML or JSON (docs/config.md).",
)
@click.option(
    "--origin",
    "origin_url",
    metavar="URL",
    help="Quick mode: one origin (http://HOST:PORT[/PATH]), all methods forwarded, cached as "
    "the origin's Cache-Control says (UseOriginCacheControlHeaders-QueryStrings).",
)
@click.option("--listen", metavar="HOST:PORT", help="Viewer address [edge.listen].")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Processes sharing the port with SO_REUSEPORT [edge.workers].",
)
@click.option("--admin", metavar="HOST:PORT", help="Admin port address [edge.admin.listen].")
@click.option(
    "--disk",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder of the disk cache tier [edge.cache.disk_path].",
)
@click.option(
    "--log-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where access logs in CloudFront's standard format go [edge.logs.path].",
)
@click.option(
    "--event-loop",
    type=click.Choice(["asyncio", "uvloop"]),
    help="Event loop implementation [edge.event_loop].",
)
@click.option(
    "--ready-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help='Once serving, write {"url", "admin_url", "pid"} here as JSON (atomically).',
)
@click.option(
    "--control-plane",
    metavar="URL",
    help="Follow `openfront api` at URL: it supplies the distributions; --config only the "
    "edge's own settings [edge.control_plane.url].",
)
@click.option("--edge-id", help="Id in the fleet [edge.control_plane.edge_id; generated once].")
@click.option("--pop", help="PoP name, as in X-Amz-Cf-Pop [edge.pop].")
@click.option("--region", help="Region label for `openfront edges` [edge.control_plane.region].")
@click.option(
    "--credentials",
    type=click.Path(path_type=Path, dir_okay=False),
    help="File with AWS_ACCESS_KEY_ID=... and AWS_SECRET_ACCESS_KEY=... lines "
    "[edge.control_plane.credentials_file; default: those environment variables].",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Edge id and last good configuration [edge.control_plane.data_dir].",
)
@click.option(
    "--bus", metavar="nats://HOST:PORT", help="Changes via NATS JetStream [edge.control_plane.bus]."
)
@click.option(
    "--bus-stream", metavar="NAME", help="JetStream stream [edge.control_plane.bus_stream]."
)
def edge(
    config_path: Path | None,
    origin_url: str | None,
    listen: str | None,
    workers: int | None,
    admin: str | None,
    disk: Path | None,
    log_dir: Path | None,
    event_loop: str | None,
    ready_file: Path | None,
    control_plane: str | None,
    edge_id: str | None,
    pop: str | None,
    region: str | None,
    credentials: Path | None,
    data_dir: Path | None,
    bus: str | None,
    bus_stream: str | None,
) -> None:
    """Run an edge until Ctrl-C or SIGTERM.

    Give a config file, or an origin URL for quick mode (like `varnishd -b`). The other
    options replace the named setting of the file (or of the defaults in quick mode).

    \b
    Examples:
      openfront edge --config edge.yaml
      openfront edge --origin http://127.0.0.1:8000 --listen 127.0.0.1:8080
      openfront edge --config edge.yaml --workers 2 --disk /var/cache/openfront
      openfront edge --control-plane http://127.0.0.1:9000 --credentials edge.env \
          --pop FRA50-C1 --region eu-central-1 --data /var/lib/openfront-edge

    The admin token comes from edge.admin.token or $OPENFRONT_ADMIN_TOKEN.
    """
    follow = {
        "url": control_plane,
        "edge_id": edge_id,
        "region": region,
        "credentials_file": credentials,
        "data_dir": data_dir,
        "bus": bus,
        "bus_stream": bus_stream,
    }
    flags: dict[str, object] = {"listen": listen, "workers": workers, "admin": admin}
    flags |= {"disk": disk, "log_dir": log_dir, "event_loop": event_loop, "pop": pop}
    if control_plane is not None or _follows(config_path):
        if origin_url is not None:
            fail("--origin and --control-plane exclude each other", EXIT_CONFIG)
        cfg = build_follower_config(config_path, flags, follow)
    else:
        if (config_path is None) == (origin_url is None):
            fail(
                "give --config FILE or --origin URL (one of them), or --control-plane URL",
                EXIT_CONFIG,
            )
        if any(v is not None for v in follow.values()):
            fail(
                "--edge-id, --region, --credentials, --data and --bus* need --control-plane",
                EXIT_CONFIG,
            )
        cfg = build_config(config_path, origin_url, flags)
    from openfront.edge.server import serve

    raise click.exceptions.Exit(serve(cfg, ready_file=ready_file))


def _follows(config_path: Path | None) -> bool:
    """Whether the config file sets edge.control_plane (then it holds edge settings only)."""
    if config_path is None:
        return False
    from openfront.edge.follow import read_config_data
    from openfront.errors import ConfigError

    try:
        data = read_config_data(config_path)
    except ConfigError:
        return False  # load_config reports it
    edge = data.get("edge") if isinstance(data, dict) else None
    return isinstance(edge, dict) and edge.get("control_plane") is not None


def build_follower_config(
    config_path: Path | None, flags: Mapping[str, object], follow: Mapping[str, object]
) -> OpenFrontConfig:
    """Edge settings from the file (its distributions are the control plane's), then flags."""
    import os

    from openfront.config import OpenFrontConfig, override_edge
    from openfront.edge.follow import edge_only_config, read_config_data, read_credentials
    from openfront.errors import ConfigError

    given = {FLAG_SETTINGS[name]: value for name, value in flags.items() if value is not None}
    try:
        if config_path is not None:
            cfg = edge_only_config(read_config_data(config_path), str(config_path))
        else:
            cfg = OpenFrontConfig.model_construct(distributions=())
        current = cfg.edge.control_plane
        plane = current.model_dump(exclude_unset=True) if current is not None else {}
        plane |= {k: v for k, v in follow.items() if v is not None}
        given["control_plane"] = plane
        cfg = override_edge(cfg, given, source="command line")
        assert cfg.edge.control_plane is not None
        read_credentials(cfg.edge.control_plane.credentials_file, os.environ)  # fail early
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    return cfg


def build_config(
    config_path: Path | None, origin_url: str | None, flags: Mapping[str, object]
) -> OpenFrontConfig:
    """The validated config: file or quick mode, then the given flags over edge settings."""
    from openfront.config import EdgeConfig, load_config, override_edge, quick_config
    from openfront.errors import ConfigError

    given = {FLAG_SETTINGS[name]: value for name, value in flags.items() if value is not None}
    try:
        if config_path is not None:
            cfg = load_config(config_path)
        else:
            assert origin_url is not None
            listen = str(given.pop("listen", EdgeConfig.model_fields["listen"].default))
            cfg = quick_config(origin_url, listen)
        if given:
            cfg = override_edge(cfg, given, source="command line")
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    return cfg
