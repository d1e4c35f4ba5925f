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
def up(data_dir: Path, host: str, free_ports: bool) -> None:
    """Run the demo stack (a sample origin and an edge) until Ctrl-C.

    Prints the URLs to try and writes DATA/stack.json, which lists every running service
    ({"services": {"edge": {"url", "pid", "admin_url"}, "origin": {"url", "pid"}}}).
    A usual port already in use is replaced by a free one. Ctrl-C (or SIGTERM) stops
    everything.
    """
    from openfront.errors import ConfigError
    from openfront.stack.demo import DemoOptions, DemoStack

    options = DemoOptions(data_dir=data_dir, host=host, free_ports=free_ports)
    try:
        code = asyncio.run(DemoStack(options, out).run())
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    except OSError as exc:
        fail(f"cannot prepare {data_dir}: {exc}")
    raise click.exceptions.Exit(code)
