"""`openfront origin`: the demo origin (a static file server with test endpoints)."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import click

from openfront.cli._console import EXIT_CONFIG, err, fail, parse_hostport


@click.command()
@click.option(
    "--root",
    required=True,
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Folder to serve. An optional _headers.json in it maps path patterns to headers.",
)
@click.option(
    "--listen",
    default="127.0.0.1:8000",
    show_default=True,
    metavar="HOST:PORT",
    help="Address to bind; port 0 picks a free port.",
)
@click.option(
    "--ready-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help='Once serving, write {"url": ..., "pid": ...} here (atomically).',
)
def origin(root: Path, listen: str, ready_file: Path | None) -> None:
    """Run the demo origin: an HTTP/1.1 file server over a folder.

    \b
    Files get ETag, Last-Modified, Range and conditional GET (304).
    Test endpoints (any method):
      /_echo             the request (method, headers, body) as JSON
      /_slow?ms=N        answer after N ms (&stage=body: headers first, body after N ms)
      /_status/NNN       answer with status NNN

    Stop with Ctrl-C or SIGTERM.
    """
    from openfront.errors import ConfigError

    host, port = parse_hostport(listen, "--listen")
    try:
        asyncio.run(_serve(root, host, port, ready_file))
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    except OSError as exc:
        fail(f"cannot serve on {listen}: {exc.strerror or exc}")


async def _serve(root: Path, host: str, port: int, ready_file: Path | None) -> None:
    from openfront.stack.origin import start_origin
    from openfront.stack.stackfile import write_json_atomic

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server = await start_origin(root, host, port)
    try:
        err.print(f"origin serving {root} at {server.url}")
        if ready_file is not None:
            write_json_atomic(ready_file, {"url": server.url, "pid": os.getpid()})
        await stop.wait()
    finally:
        await server.close()
