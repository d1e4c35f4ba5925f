"""A managed region as a supervised service: weed's argv and env, a readiness probe that waits for
an authenticated S3 call and then configures the buckets (again after every restart)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from openfront.errors import StorageError
from openfront.stack.supervisor import ServiceSpec, ServiceStartError
from openfront.storage.region import ManagedRegion

WEED_STOP_GRACE = 15.0  # a clean stop takes ~3.5 s; a busy filer flushes for longer
WEED_READY_TIMEOUT = 30.0

NoteCallback = Callable[[str], None]


def region_spec(
    region: ManagedRegion,
    log_path: Path,
    environ: Mapping[str, str],
    on_note: NoteCallback | None = None,
) -> ServiceSpec:
    command = region.command(environ)

    async def probe() -> dict[str, Any] | None:
        try:
            if not await asyncio.to_thread(region.answers, time.monotonic()):
                return None
            notes = await asyncio.to_thread(region.provision)
        except StorageError as exc:
            raise ServiceStartError(str(exc)) from None
        if on_note is not None:
            for note in notes:
                on_note(f"{region.service}: {note}")
        return region.info()

    return ServiceSpec(
        region.service,
        (),
        log_path,
        ready_timeout=WEED_READY_TIMEOUT,
        command=command.argv,
        env=command.env,
        probe=probe,
        grace=WEED_STOP_GRACE,
        stop_together=True,  # stores are independent; each takes ~3 s to stop
    )
