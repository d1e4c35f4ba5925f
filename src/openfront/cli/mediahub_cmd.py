"""`openfront mediahub`: one region's MediaHub API, or (`worker`) a processing worker."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from openfront.cli._console import EXIT_CONFIG, fail

if TYPE_CHECKING:
    from openfront.config.mediahub import MediaHubConfig

DB_ENV = "OPENFRONT_MEDIAHUB_DB"
# Each flag names the setting it replaces; its default lives only in the config model.
FLAG_SETTINGS = {
    "region": "region",
    "listen": "listen",
    "data": "data_dir",
    "db": "database_url",
}


@click.group(invoke_without_command=True)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="MediaHub settings, YAML or JSON (docs/mediahub.md).",
)
@click.option(
    "--region", metavar="NAME", help="Region name, e.g. ap-northeast-2 or sa-east-1 [region]."
)
@click.option("--listen", metavar="HOST:PORT", help="API address, port 0 = any free [listen].")
@click.option(
    "--data",
    type=click.Path(path_type=Path, file_okay=False),
    help="State folder; MediaHub uses DATA/mediahub/ [data_dir].",
)
@click.option(
    "--db",
    metavar="URL",
    envvar=DB_ENV,
    show_envvar=True,
    help="Accounts database shared by the regions: postgresql://, mysql://, mariadb:// or "
    "sqlite:///PATH [database_url]. Default: SQLite in DATA/mediahub/.",
)
@click.option(
    "--ready-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help='Once serving, write {"url", "region", "language", "pid"} here as JSON (atomically).',
)
@click.pass_context
def mediahub(
    ctx: click.Context,
    config_path: Path | None,
    region: str | None,
    listen: str | None,
    data: Path | None,
    db: str | None,
    ready_file: Path | None,
) -> None:
    """Run one region's MediaHub API (sign-up, sign-in, tokens) until Ctrl-C or SIGTERM.

    Regions that share the database and the token key (DATA/mediahub/token-key, or
    tokens.key_file) accept each other's accounts and tokens.

    \b
    Examples:
      openfront mediahub --region ap-northeast-2 --listen 127.0.0.1:8201 --data data
      openfront mediahub --region sa-east-1 --listen 127.0.0.1:8202 --data data
      openfront mediahub --region sa-east-1 --db postgresql://mediahub@db.internal/mediahub
    """
    if ctx.invoked_subcommand is not None:
        return  # `openfront mediahub worker`
    flags = {"region": region, "listen": listen, "data": data, "db": db}
    cfg = build_config(config_path, flags)
    from openfront.mediahub.server import serve

    raise click.exceptions.Exit(serve(cfg, ready_file=ready_file))


def build_config(config_path: Path | None, flags: Mapping[str, object]) -> MediaHubConfig:
    """The validated settings: the file (or the defaults), then the given flags over them."""
    from openfront.config.mediahub import MediaHubConfig, load_mediahub_config, override_mediahub
    from openfront.errors import ConfigError

    given = {FLAG_SETTINGS[name]: value for name, value in flags.items() if value is not None}
    try:
        cfg = load_mediahub_config(config_path) if config_path else MediaHubConfig()
        return override_mediahub(cfg, given) if given else cfg
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)


@mediahub.command("worker")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="MediaHub settings, YAML or JSON; `storage` and `processing` are what a worker uses.",
)
@click.option("--region", metavar="NAME", help="Process this region's videos [region].")
@click.option(
    "--data",
    type=click.Path(path_type=Path, file_okay=False),
    help="State folder; work files go to DATA/mediahub/work/ [data_dir].",
)
@click.option(
    "--db",
    metavar="URL",
    envvar=DB_ENV,
    show_envvar=True,
    help="The API's database [database_url].",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    help="Videos transcoded at once [processing.concurrency].",
)
@click.option(
    "--ready-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help='Once working, write {"region", "owner", "pid"} here as JSON (atomically).',
)
def worker(
    config_path: Path | None,
    region: str | None,
    data: Path | None,
    db: str | None,
    concurrency: int | None,
    ready_file: Path | None,
) -> None:
    """Process uploaded videos (transcode to HLS) until Ctrl-C or SIGTERM.

    Any number of workers, on any hosts, share the jobs in the database; a job whose worker
    dies is taken over when its lease ends.

    \b
    Examples:
      openfront mediahub worker --config seoul.yaml
      openfront mediahub worker --config seoul.yaml --concurrency 2
    """
    cfg = build_config(config_path, {"region": region, "data": data, "db": db})
    if concurrency is not None:
        processing = cfg.processing.model_copy(update={"concurrency": concurrency})
        cfg = cfg.model_copy(update={"processing": processing})
    from openfront.mediahub.jobs.run import work

    raise click.exceptions.Exit(work(cfg, ready_file=ready_file))
