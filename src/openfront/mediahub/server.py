"""Running one region's MediaHub API: migrate, load the token key, serve until a signal."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import signal
import sys
from pathlib import Path

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from openfront.config.edge import parse_listen
from openfront.config.mediahub import MediaHubConfig
from openfront.mediahub.app import make_app
from openfront.mediahub.auth import AuthService
from openfront.mediahub.database import Database, database_url, shown
from openfront.mediahub.keys import load_or_create_key

_log = logging.getLogger("openfront.mediahub")


class RunningMediaHub:
    """A MediaHub API server inside the current event loop."""

    def __init__(self, cfg: MediaHubConfig) -> None:
        self.cfg = cfg
        self.db_url = database_url(_secret(cfg), cfg.home)
        self.db: Database | None = None
        self.auth: AuthService | None = None
        self.runner: web.AppRunner | None = None
        self.host, self.port = parse_listen(cfg.listen)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        db = self.db = Database(self.db_url)
        await asyncio.to_thread(db.migrate)
        key = await asyncio.to_thread(load_or_create_key, self.cfg.token_key_file)
        self.auth = AuthService(self.cfg, db, key)
        await self.auth.start()
        self.runner = web.AppRunner(
            make_app(self.cfg, db, self.auth),
            handle_signals=False,
            access_log=logging.getLogger("openfront.mediahub.access"),
        )
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.host, self.port, reuse_address=True)
        await site.start()
        self.port = self.runner.addresses[0][1]

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        if self.auth is not None:
            await self.auth.close()
        if self.db is not None:
            self.db.close()


def write_ready(path: Path, info: dict[str, object]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(info))
    os.replace(tmp, path)


async def _wait_for_signal() -> None:
    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def _stop() -> None:
        if not stop.done():
            stop.set_result(None)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _stop)
    await stop


async def _serve(cfg: MediaHubConfig, ready_file: Path | None) -> int:
    hub = RunningMediaHub(cfg)
    try:
        await hub.start()
        if ready_file is not None:
            info = {"url": hub.url, "region": cfg.region, "language": cfg.language}
            write_ready(ready_file, info | {"pid": os.getpid()})
        print(
            f"mediahub {cfg.region} {hub.url} (language {cfg.language}, "
            f"database {shown(hub.db_url)})",
            file=sys.stderr,
            flush=True,
        )
        await _wait_for_signal()
    finally:
        await hub.close()
    return 0


def serve(cfg: MediaHubConfig, *, ready_file: Path | None = None) -> int:
    """Run until SIGINT/SIGTERM; a start-up failure is one line on stderr and exit code 1."""
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    try:
        return asyncio.run(_serve(cfg, ready_file))
    except SQLAlchemyError as exc:
        url = shown(database_url(_secret(cfg), cfg.home))
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        print(f"error: database {url}: {reason}", file=sys.stderr)
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            print(f"error: cannot listen on {cfg.listen}: {exc.strerror}", file=sys.stderr)
        else:
            print(f"error: {exc}", file=sys.stderr)
    return 1


def _secret(cfg: MediaHubConfig) -> str | None:
    return cfg.database_url.get_secret_value() if cfg.database_url else None
