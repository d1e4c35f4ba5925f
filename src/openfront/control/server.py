"""The HTTP shell: aiohttp in front of the rest-xml protocol, SigV4 and the audit trail.

Every request gets an ``x-amz-request-id``; every failure is CloudFront's XML error document.
Database work runs in worker threads so a slow query never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from openfront.control import audit, rest, sigv4
from openfront.control.audit import AuditEntry
from openfront.control.awsmodel import operation
from openfront.control.db import Database
from openfront.control.errors import ApiError, error_document
from openfront.control.fleet_bus import BusPublisher
from openfront.control.fleet_http import FleetRoutes, is_fleet_path
from openfront.control.handlers import HANDLERS, Call
from openfront.control.keys import SecretBox, secret_for
from openfront.control.settings import ApiSettings

log = logging.getLogger("openfront.control")

AUDIT_PATH = "/openfront/audit"
HEALTH_PATH = "/openfront/health"
READ_METHODS = frozenset({"GET", "HEAD"})


class ApiServer:
    """The CloudFront API on one listening socket."""

    def __init__(self, settings: ApiSettings, db: Database, box: SecretBox) -> None:
        self.settings = settings
        self.db = db
        self.box = box
        self.port = 0
        self._runner: web.AppRunner | None = None
        self.fleet = FleetRoutes(settings, db)
        self._settler: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.bus: BusPublisher | None = None

    async def start(self, host: str, port: int) -> None:
        app = web.Application(client_max_size=self.settings.max_body_bytes)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self._settler = asyncio.get_running_loop().create_task(self._settle_loop())
        if self.settings.bus_url is not None:
            self.bus = BusPublisher(
                self.settings.bus_url, self.settings.bus_stream, self.db, self.fleet.signal
            )
            await self.bus.start()

    async def _settle_loop(self) -> None:
        # Acks settle statuses as they arrive; this catches edges that went stale meanwhile.
        # It ends by itself on close (no cancel), so no thread uses the database after that.
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), 1.0)
                return
            except TimeoutError:
                pass
            try:
                await asyncio.to_thread(self.fleet.settle)
            except Exception:
                log.exception("settling fleet statuses failed")

    async def close(self) -> None:
        self.fleet.close()
        if self.bus is not None:
            await self.bus.close()
            self.bus = None
        self._stopping.set()
        if self._settler is not None:
            await self._settler
            self._settler = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- one request ----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        now = datetime.now(UTC)
        entry = AuditEntry(
            time=now,
            request_id=str(uuid.uuid4()),
            principal="anonymous",
            source_ip=request.remote or "",
            user_agent=request.headers.get("User-Agent", ""),
            action="",
        )
        call: Call | None = None
        result = "Success"
        try:
            response, call = await self._dispatch(request, entry, now)
        except ApiError as exc:
            result = exc.code
            response = self._error(exc.code, exc.message, entry.request_id)
        except Exception:
            log.exception("request %s failed", entry.request_id)
            result = "InternalFailure"
            response = self._error(result, "internal error", entry.request_id)
        if request.method not in READ_METHODS and entry.action and not (call and call.audited):
            await self._audit_failure(entry, result, response.status)
        response.headers["x-amz-request-id"] = entry.request_id
        return response

    async def _dispatch(
        self, request: web.Request, entry: AuditEntry, now: datetime
    ) -> tuple[web.StreamResponse, Call | None]:
        path = request.raw_path.partition("?")[0]
        if path == HEALTH_PATH and request.method in READ_METHODS:
            return web.Response(text="ok\n"), None
        if is_fleet_path(path):
            entry.action = self.fleet.action(request.method, path)
            body = await _read_body(request)
            entry.principal = _claimed_key(request)
            await asyncio.to_thread(self._authenticate, request, body, now)
            response = await self.fleet.handle(request, path, body, entry)
            # A registration recorded its audit entry in its own transaction.
            done = Call(self.db, self.settings, now, entry, "", 200, audited=bool(entry.action))
            return response, done
        if path == AUDIT_PATH:
            entry.action = "OpenFrontGetAudit"
            op, uri = entry.action, dict[str, str]()
        else:
            op, uri = rest.match(request.method, path, request.query)
            entry.action = op
            entry.resource = uri.get("DistributionId") or uri.get("Id") or ""
        body = await _read_body(request)
        entry.principal = _claimed_key(request)
        await asyncio.to_thread(self._authenticate, request, body, now)
        if op == "OpenFrontGetAudit":
            return await self._audit_listing(request), None
        handler = HANDLERS.get(op)
        if handler is None:
            raise ApiError("NotImplemented", f"OpenFront does not implement {op} yet.")
        params = rest.parse_input(op, uri, request.query, request.headers, body)
        entry.parameters = audit.redact(params, operation(op)["input"]["shape"])
        call = Call(
            db=self.db,
            settings=self.settings,
            now=now,
            entry=entry,
            base_url=f"{request.scheme}://{request.host}",
            success_status=int(operation(op)["http"].get("responseCode", 200)),
        )
        output = await asyncio.to_thread(handler, call, params)
        if call.audited:
            self.fleet.signal.notify()  # a change was stored: wake the edges' long-polls
        status, headers, payload = rest.render_output(op, output)
        return web.Response(status=status, body=payload, headers=headers), call

    def _authenticate(self, request: web.Request, body: bytes, now: datetime) -> None:
        raw_path, _, raw_query = request.raw_path.partition("?")
        signed = sigv4.SignedRequest(
            method=request.method,
            raw_path=raw_path,
            raw_query=raw_query,
            headers=list(request.headers.items()),
            body=body,
        )
        with self.db.read() as session:
            try:
                sigv4.verify(
                    signed,
                    lambda key_id: secret_for(session, self.box, key_id),
                    now,
                    max_skew=timedelta(seconds=self.settings.max_clock_skew_seconds),
                )
            except sigv4.SigV4Error as exc:
                raise ApiError(exc.code, exc.message) from None

    async def _audit_listing(self, request: web.Request) -> web.Response:
        if request.method not in READ_METHODS:
            raise ApiError("MethodNotAllowed", f"{request.method} is not allowed on {AUDIT_PATH}")
        q = request.query
        try:
            since = _time(q.get("since"))
            until = _time(q.get("until"))
            limit = int(q.get("limit", "1000"))
        except ValueError as exc:
            raise ApiError("InvalidArgument", str(exc)) from None

        def fetch() -> list[dict[str, Any]]:
            with self.db.read() as session:
                return audit.query(
                    session,
                    since=since,
                    until=until,
                    action=q.get("action"),
                    principal=q.get("principal"),
                    limit=limit,
                )

        records = await asyncio.to_thread(fetch)
        lines = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
        return web.Response(text=lines, content_type="application/x-ndjson")

    async def _audit_failure(self, entry: AuditEntry, result: str, status: int) -> None:
        def write() -> None:
            with self.db.write() as session:
                audit.record(session, entry, result, status)

        try:
            await asyncio.to_thread(write)
        except Exception:
            log.exception("could not write the audit record of request %s", entry.request_id)

    @staticmethod
    def _error(code: str, message: str, request_id: str) -> web.Response:
        err = ApiError(code, message)
        return web.Response(
            status=err.status,
            body=error_document(code, message, request_id),
            headers={"Content-Type": "text/xml"},
        )


async def _read_body(request: web.Request) -> bytes:
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError("RequestEntityTooLarge", "The request body is too large.") from None


def _claimed_key(request: web.Request) -> str:
    """The access key id a request names (verified or not), for the audit trail."""
    header = request.headers.get("Authorization", "")
    _, _, rest_of = header.partition("Credential=")
    key = rest_of.partition("/")[0]
    return key if key.isalnum() and len(key) <= 64 else "anonymous"


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)
