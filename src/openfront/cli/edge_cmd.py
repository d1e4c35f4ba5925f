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
) -> None:
    """Run an edge until Ctrl-C or SIGTERM.

    Give a config file, or an origin URL for quick mode (like `varnishd -b`). The other
    options replace the named setting of the file (or of the defaults in quick mode).

    \b
    Examples:
      openfront edge --config edge.yaml
      openfront edge --origin http://127.0.0.1:8000 --listen 127.0.0.1:8080
      openfront edge --config edge.yaml --workers 2 --disk /var/cache/openfront

    The admin token comes from edge.admin.token or $OPENFRONT_ADMIN_TOKEN.
    """
    if (config_path is None) == (origin_url is None):
        fail("give --config FILE or --origin URL (one of them)", EXIT_CONFIG)
    flags: dict[str, object] = {"listen": listen, "workers": workers, "admin": admin}
    flags |= {"disk": disk, "log_dir": log_dir, "event_loop": event_loop}
    cfg = build_config(config_path, origin_url, flags)
    from openfront.edge.server import serve

    raise click.exceptions.Exit(serve(cfg, ready_file=ready_file))


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
