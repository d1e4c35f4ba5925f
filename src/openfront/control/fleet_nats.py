"""NATS for the fleet: the stream's subjects and connections (the API's publisher and the edges).

No database here: edges import it.
"""

from __future__ import annotations

import logging
from typing import Any


def subjects(stream: str) -> tuple[str, str]:
    """The configuration and invalidation subjects of a stream."""
    prefix = f"openfront.{stream.lower()}"
    return f"{prefix}.config", f"{prefix}.invalidation"


async def connect(url: str, logger: logging.Logger) -> Any:
    """A NATS connection; errors are reported as one log line, not a traceback.

    It does not reconnect by itself: its owner's loop replaces a closed client, so an outage
    of any length heals the same way, and a wrong URL fails at once at start.
    """
    import nats

    async def on_error(exc: Exception) -> None:
        logger.warning("NATS %s: %s", url, exc or type(exc).__name__)

    return await nats.connect(
        url,
        connect_timeout=5,
        allow_reconnect=False,
        max_reconnect_attempts=1,  # bounds the first connect too: two tries, then an error
        reconnect_time_wait=0.5,
        error_cb=on_error,
    )
