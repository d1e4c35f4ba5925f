"""`openfront api`: serve the CloudFront API; `openfront api keys`: manage its access keys."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from openfront.cli._console import EXIT_CONFIG, err, fail, parse_hostport

if TYPE_CHECKING:
    from openfront.control.runtime import ControlState
    from openfront.control.settings import ApiSettings

DATA_HELP = "Folder for control.db (SQLite) and control.key [default: ./data]."
DB_HELP = "Database URL: postgresql://USER@HOST/DB, mysql://USER@HOST/DB or sqlite:///PATH."


def make_settings(**given: Any) -> ApiSettings:
    from pydantic import ValidationError

    from openfront.control.settings import ApiSettings

    try:
        return ApiSettings(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"{'.'.join(map(str, first['loc']))}: {first['msg']}", EXIT_CONFIG)


@contextmanager
def opened(settings: ApiSettings) -> Iterator[ControlState]:
    """The migrated database and key file, or a one-line error."""
    from sqlalchemy.exc import SQLAlchemyError

    from openfront.control.runtime import open_state
    from openfront.errors import ConfigError

    try:
        state = open_state(settings)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    except SQLAlchemyError as exc:
        fail(f"cannot open the database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
    try:
        yield state
    finally:
        state.db.close()


@click.group(invoke_without_command=True)
@click.option("--listen", metavar="HOST:PORT", help="Address to serve on [127.0.0.1:9000].")
@click.option("--data", type=click.Path(path_type=Path, file_okay=False), help=DATA_HELP)
@click.option("--db", "db_url", metavar="URL", help=DB_HELP)
@click.option(
    "--domain-suffix",
    metavar="SUFFIX",
    help="Distributions get DomainName <id>.SUFFIX [cloudfront.openfront.local].",
)
@click.option(
    "--ready-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help='Once serving, write {"url", "pid"} here as JSON (atomically).',
)
@click.option(
    "--bus",
    "bus_url",
    metavar="nats://HOST:PORT",
    help="Also publish changes to NATS JetStream, for edges started with --bus.",
)
@click.option("--bus-stream", metavar="NAME", help="JetStream stream name [OPENFRONT_FLEET].")
@click.option(
    "--edge-stale-seconds",
    type=click.FloatRange(min=0, min_open=True),
    help="An edge silent this long no longer holds changes InProgress [60].",
)
@click.pass_context
def api(
    ctx: click.Context,
    listen: str | None,
    data: Path | None,
    db_url: str | None,
    domain_suffix: str | None,
    ready_file: Path | None,
    bus_url: str | None,
    bus_stream: str | None,
    edge_stale_seconds: float | None,
) -> None:
    """Serve the CloudFront API (2020-05-31, SigV4) until Ctrl-C or SIGTERM.

    State lives in a database (SQLite under --data by default). On the first start the root
    credentials come from $OPENFRONT_ROOT_ACCESS_KEY_ID and $OPENFRONT_ROOT_SECRET_ACCESS_KEY,
    or are generated and printed once.

    \b
    Examples:
      openfront api --listen 127.0.0.1:9000 --data data
      openfront api --data data --db postgresql://openfront@db.internal/openfront
      openfront api keys create --data data --description ci
    """
    ctx.obj = {"data_dir": data, "db_url": db_url}
    if ctx.invoked_subcommand is not None:
        return
    settings = make_settings(
        listen=listen,
        data_dir=data,
        db_url=db_url,
        domain_suffix=domain_suffix,
        bus_url=bus_url,
        bus_stream=bus_stream,
        edge_stale_seconds=edge_stale_seconds,
    )
    host, port = parse_hostport(settings.listen, "--listen")
    with opened(settings) as state:
        _show_generated_root(state)
        code = asyncio.run(_serve(settings, state, host, port, ready_file))
    raise click.exceptions.Exit(code)


def _show_generated_root(state: ControlState) -> None:
    from openfront.control.runtime import bootstrap_root
    from openfront.errors import ConfigError

    try:
        creds = bootstrap_root(state, os.environ)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    if creds is None:
        return
    # The console only: never a logger, so the secret cannot end up in a log file by design.
    err.print(
        "Root credentials were generated. They are shown this once; store them now:\n"
        f"  AWS_ACCESS_KEY_ID={creds.access_key_id}\n"
        f"  AWS_SECRET_ACCESS_KEY={creds.secret_access_key}",
        markup=False,
    )


async def _serve(
    settings: ApiSettings, state: ControlState, host: str, port: int, ready_file: Path | None
) -> int:
    from openfront.control.server import ApiServer
    from openfront.edge.server import write_ready

    server = ApiServer(settings, state.db, state.box)
    try:
        await server.start(host, port)
    except OSError as exc:
        err.print(f"error: cannot listen on {settings.listen}: {exc.strerror or exc}", markup=False)
        await server.close()
        return 1
    except Exception as exc:  # the bus: nats-py raises its own errors for an unreachable server
        err.print(f"error: --bus {settings.bus_url}: {exc or type(exc).__name__}", markup=False)
        await server.close()
        return 1
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{server.port}"
    database = state.db.url.render_as_string(hide_password=True)
    err.print(f"api {url} (database {database})", markup=False, highlight=False)
    if ready_file is not None:
        write_ready(ready_file, {"url": url, "pid": os.getpid()})
    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def on_signal() -> None:
        if not stop.done():
            stop.set_result(None)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    try:
        await stop
    finally:
        await server.close()
    return 0


# --- keys ---------------------------------------------------------------------------------------


def _state_settings(ctx: click.Context, data: Path | None, db_url: str | None) -> ApiSettings:
    parent = ctx.find_object(dict) or {}
    return make_settings(
        data_dir=data or parent.get("data_dir"), db_url=db_url or parent.get("db_url")
    )


def _audit_local(state: ControlState, action: str, resource: str) -> None:
    from openfront.control.audit import record
    from openfront.control.runtime import local_entry

    with state.db.write() as session:
        record(session, local_entry(datetime.now(UTC), action, resource), "Success", 200)


@api.group()
def keys() -> None:
    """Create, list and delete API access keys (secrets are shown only when created)."""


def _data_options(func: Any) -> Any:
    func = click.option("--db", "db_url", metavar="URL", help=DB_HELP)(func)
    return click.option("--data", type=click.Path(path_type=Path, file_okay=False), help=DATA_HELP)(
        func
    )


@keys.command("create")
@_data_options
@click.option("--description", default="", help="Free text shown by `keys list`.")
@click.pass_context
def keys_create(
    ctx: click.Context, data: Path | None, db_url: str | None, description: str
) -> None:
    """Create an access key and print its id and secret (this once)."""
    from openfront.control.keys import create_key

    with opened(_state_settings(ctx, data, db_url)) as state:
        with state.db.write() as session:
            creds = create_key(session, state.box, datetime.now(UTC), description=description)
        _audit_local(state, "CreateAccessKey", creds.access_key_id)
    click.echo(f"AWS_ACCESS_KEY_ID={creds.access_key_id}")
    click.echo(f"AWS_SECRET_ACCESS_KEY={creds.secret_access_key}")


@keys.command("list")
@_data_options
@click.pass_context
def keys_list(ctx: click.Context, data: Path | None, db_url: str | None) -> None:
    """List access key ids (never their secrets)."""
    from openfront.control.keys import list_keys

    with opened(_state_settings(ctx, data, db_url)) as state, state.db.read() as session:
        found = list_keys(session)
    for key in found:
        kind = "root" if key.is_root else "key"
        created = key.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        click.echo(f"{key.id}  {kind:4}  {created}  {key.description}".rstrip())


@keys.command("delete")
@_data_options
@click.argument("key_id")
@click.pass_context
def keys_delete(ctx: click.Context, data: Path | None, db_url: str | None, key_id: str) -> None:
    """Delete an access key: requests signed with it fail from now on."""
    from openfront.control.keys import delete_key

    with opened(_state_settings(ctx, data, db_url)) as state:
        with state.db.write() as session:
            deleted = delete_key(session, key_id)
        if not deleted:
            fail(f"no access key {key_id}")
        _audit_local(state, "DeleteAccessKey", key_id)
    click.echo(f"deleted {key_id}")
