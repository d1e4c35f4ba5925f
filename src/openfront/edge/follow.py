"""The edge's side of the fleet: register with `openfront api`, follow its changes, ack them.

One follower runs per edge host (in the prefork master, or in the only process). It holds a
snapshot: every distribution's newest configuration it accepted, plus its two cursors. Each
change is validated again here; a configuration that does not load is reported to the API and
not applied (the distribution's previous configuration keeps serving). The snapshot is written
to ``data_dir/fleet-state.json`` (temp file, fsync, rename) before it is served, so an edge
restarted while the API is down serves what it served before.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from openfront.config import EdgeConfig, OpenFrontConfig
from openfront.config.load import config_error
from openfront.errors import ConfigError
from openfront.fileio import write_atomic

if TYPE_CHECKING:
    import aiohttp

    from openfront.config.edge import ControlPlaneConfig

_log = logging.getLogger("openfront.edge.follow")

STATE_FILE = "fleet-state.json"
ID_FILE = "edge-id"
MAX_BACKOFF = 30.0

LoadConfig = Callable[[OpenFrontConfig], Awaitable[None]]
Invalidate = Callable[[str, list[str]], Awaitable[None]]


# --- the edge's own settings, without distributions ----------------------------------------------


def edge_only_config(data: object, source: str) -> OpenFrontConfig:
    """A config from a file's ``edge`` section alone: the control plane supplies the rest."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the top level must be a mapping of keys to values")
    ignored = sorted(str(k) for k in data if k != "edge")
    if ignored:
        _log.warning("%s: %s ignored: the control plane supplies them", source, ", ".join(ignored))
    try:
        edge = EdgeConfig.model_validate(data.get("edge") or {})
    except ValidationError as exc:
        raise config_error(exc, f"{source}: edge") from None
    return OpenFrontConfig.model_construct(edge=edge, distributions=())


def read_config_data(path: Path) -> object:
    """A YAML or JSON file's data (YAML is a superset of JSON)."""
    import yaml

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None


# --- identity and credentials -------------------------------------------------------------------


def write_durably(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Temp file, fsync, rename, fsync of the folder: the old or the new file after a crash."""
    write_atomic(path, data, mode)


def edge_id(cp: ControlPlaneConfig) -> str:
    """The configured id, or the one generated on the first start and kept in the data dir."""
    if cp.edge_id is not None:
        return cp.edge_id
    path = cp.data_dir / ID_FILE
    try:
        found = path.read_text(encoding="ascii").strip()
        if found:
            return found
    except FileNotFoundError:
        pass
    new = f"edge-{uuid.uuid4().hex[:16]}"
    write_durably(path, new.encode() + b"\n")
    return new


def read_credentials(path: Path | None, env: Mapping[str, str]) -> tuple[str, str]:
    """(access key id, secret) from KEY=VALUE lines, or from the AWS_* environment variables."""
    values: dict[str, str] = {}
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
        for line in text.splitlines():
            key, sep, value = line.strip().removeprefix("export ").partition("=")
            if sep and not key.startswith("#"):
                values[key.strip()] = value.strip().strip("'\"")
    else:
        values = dict(env)
    key_id = values.get("AWS_ACCESS_KEY_ID", "")
    secret = values.get("AWS_SECRET_ACCESS_KEY", "")
    if not key_id or not secret:
        where = str(path) if path is not None else "the environment"
        raise ConfigError(f"{where}: needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    return key_id, secret


# --- the snapshot -------------------------------------------------------------------------------


@dataclass(slots=True)
class Snapshot:
    config_seq: int = 0
    invalidation_seq: int | None = None  # None: never registered, nothing to catch up on
    distributions: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> seq, config
    errors: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> seq, message

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "config_seq": self.config_seq,
                "invalidation_seq": self.invalidation_seq,
                "distributions": self.distributions,
                "errors": self.errors,
            },
            separators=(",", ":"),
            sort_keys=True,
        ).encode()

    @classmethod
    def load(cls, path: Path) -> Snapshot | None:
        try:
            data = json.loads(path.read_bytes())
            return cls(
                int(data["config_seq"]),
                None if data["invalidation_seq"] is None else int(data["invalidation_seq"]),
                dict(data["distributions"]),
                dict(data["errors"]),
            )
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as exc:
            _log.error("%s is unreadable (%s); starting with no distributions", path, exc)
            return None


def snapshot_config(base: OpenFrontConfig, distributions: Mapping[str, Any]) -> OpenFrontConfig:
    """``base``'s edge settings with these distributions (validated); raises ConfigError.

    A version may carry the account resources (policies, keys, key groups, OACs) its
    distribution uses; the config holds their union by Id.
    """
    if not distributions:
        return OpenFrontConfig.model_construct(edge=base.edge, distributions=())
    entries = []
    resources = []
    for dist_id, d in sorted(distributions.items()):
        config, own = split_version(d["config"])
        entries.append(
            {"Id": dist_id, "DistributionConfig": _with_domain(config, d.get("domain_name"))}
        )
        resources.append((int(d.get("seq") or 0), own))
    try:
        full = OpenFrontConfig.model_validate(
            {**merge_resources(resources), "distributions": entries}
        )
    except ValidationError as exc:
        raise config_error(exc, "control plane") from None
    return full.model_copy(update={"edge": base.edge})


RESOURCE_KEYS = (
    "CachePolicies",
    "OriginRequestPolicies",
    "ResponseHeadersPolicies",
    "PublicKeys",
    "KeyGroups",
    "OriginAccessControls",
)


def split_version(config: Any) -> tuple[Any, dict[str, Any]]:
    """(DistributionConfig, account resources) of a version's config.

    A distribution that uses no account resource comes bare, as every version did before
    resources existed (and as saved snapshots still hold them).
    """
    if isinstance(config, Mapping) and "DistributionConfig" in config:
        rest = {k: v for k, v in config.items() if k != "DistributionConfig"}
        return config["DistributionConfig"], rest
    return config, {}


def merge_resources(documents: Iterable[tuple[int, Mapping[str, Any]]]) -> dict[str, Any]:
    """The union by Id of several versions' resources; the newest version's copy wins.

    A changed resource is sent again with every distribution that uses it, so two copies
    differ only while this edge holds versions from before and after: the newer is current.
    Keys that are not resource lists pass through for the config model to refuse by name.
    """
    best: dict[tuple[str, str], Any] = {}
    out: dict[str, Any] = {}
    for _, doc in sorted(documents, key=lambda d: d[0]):
        for key, entries in doc.items():
            if key not in RESOURCE_KEYS or not isinstance(entries, list):
                out[key] = entries
                continue
            for entry in entries:
                ident = str(entry.get("Id")) if isinstance(entry, Mapping) else repr(entry)
                best[(key, ident)] = entry
    for (key, _), entry in sorted(best.items(), key=lambda kv: kv[0]):
        out.setdefault(key, []).append(entry)
    return out


def _with_domain(config: Any, domain: str | None) -> Any:
    """The configuration with the API's DomainName as one more alias, so it routes here."""
    if not domain or not isinstance(config, dict):
        return config
    aliases = config.get("Aliases") or []
    if not isinstance(aliases, list) or domain in aliases:
        return config
    return {**config, "Aliases": [*aliases, domain]}


def _check_one(dist_id: str, config: Any, domain: str | None) -> str | None:
    """Why this distribution's configuration does not load here, or None."""
    from openfront.config.compile import compile_all

    try:
        bare, resources = split_version(config)
        entry = {"Id": dist_id, "DistributionConfig": _with_domain(bare, domain)}
        compile_all(OpenFrontConfig.model_validate({**resources, "distributions": [entry]}))
    except ValidationError as exc:
        return str(config_error(exc, dist_id))[:1000]
    except (ConfigError, ValueError, TypeError) as exc:
        return f"{dist_id}: {exc}"[:1000]
    return None


def apply_changes(
    snap: Snapshot, base: OpenFrontConfig, changes: Mapping[str, Any]
) -> tuple[Snapshot, OpenFrontConfig | None]:
    """The snapshot after ``changes``, and the config to serve (None: nothing to reload)."""
    dists = dict(snap.distributions)
    errors = dict(snap.errors)
    touched = False
    for change in changes.get("configs", ()):
        dist_id, seq = str(change["distribution_id"]), int(change["seq"])
        if change.get("deleted"):
            touched |= dists.pop(dist_id, None) is not None
            errors.pop(dist_id, None)
            continue
        domain = change.get("domain_name")
        problem = _check_one(dist_id, change.get("config"), domain)
        if problem is not None:
            _log.error("configuration %d of %s refused: %s", seq, dist_id, problem)
            errors[dist_id] = {"seq": seq, "message": problem}
            continue
        dists[dist_id] = {
            "seq": seq,
            "etag": change.get("etag"),
            "domain_name": domain,
            "config": change["config"],
        }
        errors.pop(dist_id, None)
        touched = True
    cfg = None
    if touched:
        try:
            cfg = snapshot_config(base, dists)
        except ConfigError as exc:
            # Each loads alone but not together: refuse the whole batch, keep serving the last.
            for change in changes.get("configs", ()):
                errors[str(change["distribution_id"])] = {
                    "seq": int(change["seq"]),
                    "message": str(exc)[:1000],
                }
            dists = dict(snap.distributions)
            cfg = None
    new = Snapshot(
        int(changes.get("config_seq", snap.config_seq)),
        int(changes.get("invalidation_seq", snap.invalidation_seq or 0)),
        dists,
        errors,
    )
    return new, cfg


# --- talking to the API -------------------------------------------------------------------------


class ApiRefused(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"HTTP {status} {code}")
        self.status = status
        self.code = code


class Follower:
    """Registers, long-polls the API for changes, applies them and acknowledges them."""

    def __init__(
        self,
        base: OpenFrontConfig,
        load: LoadConfig,
        invalidate: Invalidate,
        *,
        env: Mapping[str, str] | None = None,
    ) -> None:
        cp = base.edge.control_plane
        assert cp is not None
        self.cp = cp
        self.base = base
        self.load = load
        self.invalidate = invalidate
        self.address = cp.address or ""
        self.edge_id = edge_id(cp)
        self.key_id, self.secret = read_credentials(
            cp.credentials_file, os.environ if env is None else env
        )
        self.state_path = cp.data_dir / STATE_FILE
        saved = Snapshot.load(self.state_path)
        self.fresh = saved is None  # nothing on disk: everything has to come again
        self.snapshot = saved or Snapshot()
        self.registered = asyncio.Event()
        self.closing = False
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    def initial_config(self) -> OpenFrontConfig:
        """What to serve before the API answers: the last good snapshot, or nothing."""
        try:
            return snapshot_config(self.base, self.snapshot.distributions)
        except ConfigError as exc:
            _log.error("the saved configuration does not load (%s); serving none", exc)
            return snapshot_config(self.base, {})

    def start(self, address: str) -> None:
        """Follow from now on; ``address`` is where viewers reach this edge (when not set)."""
        self.address = self.cp.address or address
        via = f" over {self.cp.bus}" if self.cp.bus else ""
        served = len(self.snapshot.distributions)
        print(
            f"following {self.cp.url}{via} as edge {self.edge_id} "
            f"({served} distribution{'' if served == 1 else 's'} from {self.state_path})",
            file=sys.stderr,
            flush=True,
        )
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        # The flag as well as the cancel: Python 3.11's wait_for (inside nats-py and aiohttp)
        # can swallow a cancel that arrives with a message, and the loop would go on.
        self.closing = True
        if self._task is not None:
            self._task.cancel()
            done, _ = await asyncio.wait({self._task}, timeout=5.0)
            if done and not self._task.cancelled() and self._task.exception() is not None:
                _log.error("the follower failed: %s", self._task.exception())
        if self._session is not None:
            await self._session.close()

    # --- the loop --------------------------------------------------------------------------------

    async def _run(self) -> None:
        import aiohttp

        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        if self.cp.bus is not None:
            from openfront.edge.follow_bus import follow_bus

            await follow_bus(self, self.cp.bus, self.cp.bus_stream)
            return
        delay = self.cp.retry_seconds
        need_register = True
        while not self.closing:
            try:
                if need_register:
                    await self.register()
                    need_register = False
                    await self.ack()  # the API learns the snapshot's errors and cursors
                changes = await self._request(
                    "GET",
                    "/openfront/fleet/changes",
                    query={
                        "edge": self.edge_id,
                        "after": str(self.snapshot.config_seq),
                        "invalidations_after": str(self.snapshot.invalidation_seq or 0),
                        "wait": f"{self.cp.poll_seconds:g}",
                    },
                    timeout=self.cp.poll_seconds + 15,
                )
                if changes["configs"] or changes["invalidations"]:
                    await self.apply(changes)
                    await self.ack()
                delay = self.cp.retry_seconds
            except asyncio.CancelledError:
                raise
            except ApiRefused as exc:
                if exc.code == "NoSuchEdge":
                    need_register = True  # the API lost or never had us: register again
                    continue
                _log.error("control plane refused: %s; retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
            except Exception as exc:  # unreachable, timed out, a bad answer: keep serving
                _log.warning("control plane %s: %s; retrying in %.1f s", self.cp.url, exc, delay)
                need_register = need_register or not self.registered.is_set()
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)

    async def register(self) -> None:
        answer = await self._request(
            "POST",
            f"/openfront/fleet/edges/{self.edge_id}",
            body={
                "pop": self.base.edge.pop,
                "region": self.cp.region,
                "address": self.address,
                "config_seq": self.snapshot.config_seq,
                "invalidation_seq": self.snapshot.invalidation_seq,
            },
        )
        if self.snapshot.invalidation_seq is None:
            self.snapshot.invalidation_seq = int(answer["invalidation_seq"])
            await asyncio.to_thread(self.save)
        self.registered.set()
        _log.info("registered with %s as %s", self.cp.url, self.edge_id)

    async def apply(self, changes: dict[str, Any]) -> None:
        snap, cfg = await asyncio.to_thread(apply_changes, self.snapshot, self.base, changes)
        # Saved before served: a restart never goes back to an older configuration.
        self.snapshot = snap
        await asyncio.to_thread(self.save)
        if cfg is not None:
            await self.load(cfg)
        for inv in changes["invalidations"]:
            await self.invalidate(str(inv["distribution_id"]), list(inv["paths"]))

    def save(self) -> None:
        write_durably(self.state_path, self.snapshot.to_json(), 0o600)

    async def ack(self) -> None:
        await self._request(
            "POST",
            f"/openfront/fleet/edges/{self.edge_id}/ack",
            body={
                "config_seq": self.snapshot.config_seq,
                "invalidation_seq": self.snapshot.invalidation_seq or 0,
                "errors": self.snapshot.errors,
            },
        )

    async def _request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        timeout: float = 15.0,
    ) -> Any:
        import aiohttp
        from yarl import URL

        url, headers, data = signed_request(
            self.cp.url, method, path, query or {}, body, self.key_id, self.secret
        )
        assert self._session is not None
        async with self._session.request(
            method,
            URL(url, encoded=True),
            headers=headers,
            data=data,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            payload = await response.read()
            if response.status != 200:
                raise ApiRefused(response.status, _error_code(payload))
            return json.loads(payload)


def signed_request(
    base_url: str,
    method: str,
    path: str,
    query: Mapping[str, str],
    body: Any,
    key_id: str,
    secret: str,
) -> tuple[str, dict[str, str], bytes]:
    """URL, headers and body of a request signed with SigV4 (service cloudfront)."""
    from urllib.parse import urlencode

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = base_url.rstrip("/") + path + ("?" + urlencode(sorted(query.items())) if query else "")
    data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json"} if data else {}
    request = AWSRequest(method=method, url=url, data=data, headers=headers)
    SigV4Auth(Credentials(key_id, secret), "cloudfront", "us-east-1").add_auth(request)
    return url, dict(request.headers.items()), data


def _error_code(payload: bytes) -> str:
    start, end = payload.find(b"<Code>"), payload.find(b"</Code>")
    if start < 0 or end < start:
        return "Unknown"
    return payload[start + 6 : end].decode(errors="replace")[:64]
