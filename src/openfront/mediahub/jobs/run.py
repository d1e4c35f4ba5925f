"""``openfront mediahub worker``: a worker process on its own, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from openfront.config.mediahub import MediaHubConfig
from openfront.errors import OpenFrontError
from openfront.mediahub.database import Database, database_url, shown
from openfront.mediahub.jobs.worker import Worker
from openfront.mediahub.server import _secret, _wait_for_signal, write_ready


async def _work(cfg: MediaHubConfig, ready_file: Path | None) -> int:
    url = database_url(_secret(cfg), cfg.home)
    db = Database(url)
    worker: Worker | None = None
    try:
        await asyncio.to_thread(db.migrate)
        worker = Worker(cfg, db)
        await worker.start()
        if ready_file is not None:
            info = {"region": cfg.region, "owner": worker.owner, "pid": os.getpid()}
            write_ready(ready_file, info)
        print(
            f"mediahub worker {cfg.region} {worker.owner} ({worker.slots} at a time, "
            f"database {shown(url)})",
            file=sys.stderr,
            flush=True,
        )
        await _wait_for_signal()
    finally:
        if worker is not None:
            await worker.stop()
        db.close()
    return 0


def work(cfg: MediaHubConfig, *, ready_file: Path | None = None) -> int:
    """Run until a signal; a start-up failure is one line on stderr and exit code 1."""
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    if cfg.storage is None:
        print("error: a worker needs the region's media bucket: set storage", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_work(cfg, ready_file))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        print(
            f"error: database {shown(database_url(_secret(cfg), cfg.home))}: {reason}",
            file=sys.stderr,
        )
    except (OSError, ValueError, OpenFrontError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    return 1
