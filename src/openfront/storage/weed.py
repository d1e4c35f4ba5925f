"""The `weed mini` command line and environment for one region: a pure function of its inputs.

Every port is explicit (an unset one that is busy moves silently; an explicit busy one fails
hard), everything binds to one address, data, logs and the HTTP unix sockets live in the
region's data dir, and the environment is scrubbed of variables weed would act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from openfront.config.storage import ADMIN_GRPC_OFFSET, BLOCK_SPAN

# weed answers a cross-origin request to a bucket without CORS rules from -s3.allowedOrigins,
# "*" by default (an empty value falls back to "*" too). A browser's Origin is "null" or
# scheme://host[:port], so a value that is neither refuses them all, as S3 does.
NO_CORS_FALLBACK = "none"
SOCKET_PATH_MAX = 107  # sun_path holds 108 bytes with the NUL; weed exits on a longer path
LOG_MAX_SIZE_MB = 64
LOG_MAX_FILES = 5
# Read by `weed mini`: AWS_ACCESS_KEY_ID/SECRET create an extra 'mini' identity, S3_BUCKET creates
# buckets, WEED_* override its configuration. None of that may leak in from the operator's shell.
_SCRUBBED_PREFIXES = ("AWS_", "WEED_", "S3_")


@dataclass(frozen=True, slots=True)
class PortBlock:
    """The ten ports of one store: BP..BP+8, and the admin gRPC port at admin + 10000 (weed's
    maintenance worker dials that one whatever -admin.port.grpc says)."""

    base: int

    @property
    def master(self) -> int:
        return self.base

    @property
    def master_grpc(self) -> int:
        return self.base + 1

    @property
    def volume(self) -> int:
        return self.base + 2

    @property
    def volume_grpc(self) -> int:
        return self.base + 3

    @property
    def filer(self) -> int:
        return self.base + 4

    @property
    def filer_grpc(self) -> int:
        return self.base + 5

    @property
    def s3(self) -> int:
        return self.base + 6

    @property
    def s3_grpc(self) -> int:
        return self.base + 7

    @property
    def admin(self) -> int:
        return self.base + 8

    @property
    def admin_grpc(self) -> int:
        return self.admin + ADMIN_GRPC_OFFSET

    def all(self) -> tuple[int, ...]:
        return (*range(self.base, self.base + BLOCK_SPAN), self.admin_grpc)


@dataclass(frozen=True, slots=True)
class RegionPaths:
    """DATA/regions/<name>/: store/ (weed -dir), logs/, run/ (sockets), s3.json, ports.json."""

    root: Path

    @property
    def store(self) -> Path:
        return self.root / "store"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def s3_config(self) -> Path:
        return self.root / "s3.json"

    @property
    def ports_file(self) -> Path:
        return self.root / "ports.json"


@dataclass(frozen=True, slots=True)
class WeedCommand:
    argv: tuple[str, ...]
    env: dict[str, str]


def gomemlimit(limit: int) -> str:
    mib = 1 << 20
    return f"{limit // mib}MiB" if limit % mib == 0 else str(limit)


def weed_env(base: Mapping[str, str], memory_limit: int) -> dict[str, str]:
    env = {k: v for k, v in base.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    env["GOMEMLIMIT"] = gomemlimit(memory_limit)
    return env


def _socket(path: Path) -> str | None:
    """`path` if it fits in a unix socket address, else None (weed's /tmp default is kept)."""
    text = str(path)
    return text if len(text.encode()) <= SOCKET_PATH_MAX else None


def weed_command(
    weed: str,
    paths: RegionPaths,
    ports: PortBlock,
    *,
    memory_limit: int,
    base_env: Mapping[str, str],
    host: str = "127.0.0.1",
) -> WeedCommand:
    """The full flag set for one region (weed rewrites mini.options at each start, so every
    flag is passed every time)."""
    argv = [
        weed,
        f"-logdir={paths.logs}",
        "-alsologtostderr=false",
        f"-log_max_size_mb={LOG_MAX_SIZE_MB}",
        f"-log_max_files={LOG_MAX_FILES}",
        "mini",
        f"-dir={paths.store}",
        f"-ip={host}",
        f"-ip.bind={host}",
        f"-master.port={ports.master}",
        f"-master.port.grpc={ports.master_grpc}",
        f"-volume.port={ports.volume}",
        f"-volume.port.grpc={ports.volume_grpc}",
        f"-filer.port={ports.filer}",
        f"-filer.port.grpc={ports.filer_grpc}",
        f"-s3.port={ports.s3}",
        f"-s3.port.grpc={ports.s3_grpc}",
        f"-admin.port={ports.admin}",
        f"-admin.port.grpc={ports.admin_grpc}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={paths.s3_config}",
        f"-s3.allowedOrigins={NO_CORS_FALLBACK}",
        f"-filer.allowedOrigins={NO_CORS_FALLBACK}",
        # S3 refuses both: a PUT to a missing bucket and deleting a bucket that holds objects.
        "-s3.autoCreateBucket=false",
        "-s3.allowDeleteBucketNotEmpty=false",
        # The volume server tells the master it is leaving, then waits 1 s for clients to move
        # away; with master and clients in this one process nobody needs that second.
        "-volume.preStopSeconds=0",
        "-webdav=false",
        "-admin.ui=false",
        "-master.telemetry=false",
    ]
    for flag, name in (("-filer.localSocket", "filer.sock"), ("-s3.localSocket", "s3.sock")):
        socket_path = _socket(paths.run / name)
        if socket_path is not None:
            argv.append(f"{flag}={socket_path}")
    return WeedCommand(tuple(argv), weed_env(base_env, memory_limit))
