"""`openfront up`: run the demo stack until Ctrl-C."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from openfront.cli._console import EXIT_CONFIG, fail, out


@click.command()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("data"),
    show_default=True,
    help="Keep all state here: sample site, edge.yaml, admin-token, cache, logs, stack.json.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address every service binds to.",
)
@click.option(
    "--free-ports",
    is_flag=True,
    help="Bind every service to a free port instead of 8080 (edge), 9090 (admin), 8000 (origin).",
)
@click.option(
    "--storage",
    "storage_config",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Storage regions from this YAML/JSON file (docs/storage.md) instead of the demo's "
    "two (ap-northeast-2 Seoul, sa-east-1 São Paulo).",
)
@click.option(
    "--no-storage",
    is_flag=True,
    help="Run no storage regions (no SeaweedFS stores): origin and edge only.",
)
@click.option(
    "--no-api",
    is_flag=True,
    help="Run no CloudFront API (`openfront api`) and no edge following it.",
)
@click.option(
    "--no-mediahub",
    is_flag=True,
    help="Run no MediaHub servers and no media edges (one of each per storage region).",
)
@click.option(
    "--mediahub-db",
    metavar="URL",
    envvar="OPENFRONT_MEDIAHUB_DB",
    show_envvar=True,
    help="Accounts database both regions' MediaHub share: postgresql://, mysql://, "
    "mariadb:// or sqlite:///PATH. Default: SQLite in DATA/mediahub/.",
)
def up(
    data_dir: Path,
    host: str,
    free_ports: bool,
    storage_config: Path | None,
    no_storage: bool,
    no_api: bool,
    no_mediahub: bool,
    mediahub_db: str | None,
) -> None:
    """Run the demo stack (a sample origin, an edge, one S3 store per region) until Ctrl-C.

    Also runs the CloudFront API (`openfront api`, SQLite in DATA/api, root credentials in
    DATA/api/root-credentials.env) and `fleet-edge`, an edge that follows it and serves the
    demo distribution created through it. For each storage region R it runs MediaHub
    (`mediahub-R`: API, web app and processing worker, settings in DATA/mediahub/R.yaml) and
    `media-edge-R`, the edge in front of R's media bucket (DATA/media-edge-R.yaml).

    Prints the URLs to try and writes DATA/stack.json, which lists every running service
    ({"services": {"edge": {"url", "pid", "admin_url"}, "api": {"url", "pid"},
    "fleet-edge": {...}, "origin": {"url", "pid"}, "s3-<region>": {"url", "pid",
    "credentials_file", ...}, "replication-<a>-<b>": {...}, "replication-audit": {"url",
    "metrics_url", ...}, "mediahub-<region>": {"url", "pid", "region", "language"},
    "media-edge-<region>": {"url", "pid", "admin_url"}}}). A usual port already in use is
    replaced by a free one. Ctrl-C (or SIGTERM) stops everything. S3 stores always bind to
    127.0.0.1; their credentials are in DATA/regions/<region>/s3.json (mode 0600).
    """
    from openfront.errors import ConfigError, StorageError
    from openfront.stack.demo import DemoOptions, DemoStack

    if no_storage and storage_config is not None:
        fail("give --storage or --no-storage, not both", EXIT_CONFIG)
    options = DemoOptions(
        data_dir=data_dir,
        host=host,
        free_ports=free_ports,
        storage=not no_storage,
        storage_config=storage_config,
        api=not no_api,
        mediahub=not no_mediahub,
        mediahub_db=mediahub_db or None,
    )
    try:
        code = asyncio.run(DemoStack(options, out).run())
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    except StorageError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot prepare {data_dir}: {exc}")
    raise click.exceptions.Exit(code)
