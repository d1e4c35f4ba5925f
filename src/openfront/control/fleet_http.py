"""The fleet's HTTP routes on the API server: edges register, long-poll for changes and ack.

All are signed with SigV4 like any API call (an edge uses an ordinary access key). Answers are
JSON; errors are CloudFront's XML error document, as everywhere on the API. A long-poll is
woken at once by a change made through this process, and looks at the database once a second
besides, so changes made through another API server sharing the database arrive too.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from openfront.control import audit, fleet
from openfront.control.audit import AuditEntry
from openfront.control.db import Database
from openfront.control.errors import ApiError
from openfront.control.settings import ApiSettings

PREFIX = "/openfront/fleet/"
EDGES_PATH = "/openfront/edges"
MAX_INVALIDATIONS = 1000
RECHECK_SECONDS = 1.0


def is_fleet_path(path: str) -> bool:
    return path.startswith(PREFIX) or path == EDGES_PATH


class ChangeSignal:
    """Wakes every long-poll waiting in this process when a change was stored."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.generation = 0  # read before looking at the database, passed to wait()

    def notify(self) -> None:
        self.generation += 1
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float, since: int) -> None:
        """Until the next change, or ``timeout``; at once if one came after ``since``."""
        if since != self.generation:
            return
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            pass


def _json(value: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(value, separators=(",", ":")),
        content_type="application/json",
    )


def _body(body: bytes) -> Any:
    try:
        return json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError("MalformedInput", "The body is not JSON.") from None


def _int_query(query: Any, name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError("InvalidArgument", f"{name} must be a non-negative integer.")
    return int(raw)


class FleetRoutes:
    def __init__(self, settings: ApiSettings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.signal = ChangeSignal()
        self.closing = False

    def close(self) -> None:
        """Answer held long-polls now (with what they have) so the server stops at once."""
        self.closing = True
        self.signal.notify()

    def action(self, method: str, path: str) -> str:
        """The audit action of a fleet call; "" for the ones not audited (heartbeats, acks)."""
        parts = path[len(PREFIX) :].split("/") if path.startswith(PREFIX) else []
        if method == "POST" and len(parts) == 2 and parts[0] == "edges":
            return "OpenFrontRegisterEdge"
        return ""

    async def handle(
        self, request: web.Request, path: str, body: bytes, entry: AuditEntry
    ) -> web.Response:
        method = request.method
        if path == EDGES_PATH:
            if method not in ("GET", "HEAD"):
                raise ApiError("MethodNotAllowed", f"{method} is not allowed on {path}")
            return _json({"edges": await asyncio.to_thread(self._list)})
        parts = path[len(PREFIX) :].split("/")
        if parts == ["changes"] and method in ("GET", "HEAD"):
            return await self._changes(request)
        if len(parts) == 2 and parts[0] == "edges" and method == "POST":
            return await asyncio.to_thread(self._register, parts[1], _body(body), entry)
        if len(parts) == 3 and parts[0] == "edges" and parts[2] == "ack" and method == "POST":
            return await asyncio.to_thread(self._ack, parts[1], _body(body))
        raise ApiError("UnknownOperation", f"No fleet operation at {path[:200]}")

    # --- each route (in worker threads: the database drivers block) ---------------------------

    def _list(self) -> list[dict[str, Any]]:
        with self.db.read() as session:
            return fleet.list_edges(session, self.settings, datetime.now(UTC))

    def _register(self, edge_id: str, body: Any, entry: AuditEntry) -> web.Response:
        entry.resource = edge_id[:64]
        reg = fleet.parse_registration(edge_id, body)
        now = datetime.now(UTC)
        with self.db.write() as session:
            row = fleet.register(session, reg, entry.principal, now)
            answer = {
                "edge_id": row.id,
                "config_seq": row.config_seq,
                "invalidation_seq": row.invalidation_seq,
                "poll_seconds": self.settings.fleet_poll_seconds,
                "stale_seconds": self.settings.edge_stale_seconds,
            }
            audit.record(session, entry, "Success", 200)
        return _json(answer)

    def _ack(self, edge_id: str, body: Any) -> web.Response:
        if not isinstance(body, dict):
            raise ApiError("MalformedInput", "Expected a JSON object.")
        config_seq = fleet.parse_seq(body.get("config_seq"), "config_seq")
        inv_seq = fleet.parse_seq(body.get("invalidation_seq"), "invalidation_seq")
        errors = fleet.parse_errors(body.get("errors"))
        now = datetime.now(UTC)
        with self.db.write() as session:
            fleet.acknowledge(session, edge_id, config_seq, inv_seq, errors, now)
            fleet.settle(session, self.settings, now)
        return _json({"ok": True})

    def _touch(self, edge_id: str) -> None:
        with self.db.write() as session:
            fleet.seen(session, edge_id, datetime.now(UTC))

    def _fetch(self, after: int, inv_after: int) -> dict[str, Any]:
        with self.db.read() as session:
            return fleet.changes(session, after, inv_after, MAX_INVALIDATIONS)

    async def _changes(self, request: web.Request) -> web.Response:
        q = request.query
        edge_id = q.get("edge", "")
        after = _int_query(q, "after", 0)
        inv_after = _int_query(q, "invalidations_after", 0)
        try:
            wait = float(q.get("wait", "0"))
        except ValueError:
            raise ApiError("InvalidArgument", "wait must be a number of seconds.") from None
        wait = max(0.0, min(wait, self.settings.fleet_poll_seconds))
        await asyncio.to_thread(self._touch, edge_id)  # the poll is the heartbeat
        deadline = time.monotonic() + wait
        while True:
            since = self.signal.generation
            found = await asyncio.to_thread(self._fetch, after, inv_after)
            left = deadline - time.monotonic()
            if found["configs"] or found["invalidations"] or left <= 0 or self.closing:
                break
            await self.signal.wait(min(RECHECK_SECONDS, left), since)
        if wait > 0:
            await asyncio.to_thread(self._touch, edge_id)
        return _json(found)

    # --- statuses ------------------------------------------------------------------------------

    def settle(self) -> None:
        """Settle statuses once; edges that went stale stop holding anything back."""
        with self.db.read() as session:
            if not fleet.pending(session):
                return
        now = datetime.now(UTC)
        with self.db.write() as session:
            fleet.settle(session, self.settings, now)
