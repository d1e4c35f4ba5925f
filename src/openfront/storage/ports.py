"""Choosing a region's port block once and keeping it: the master names its metadata dir after
its port (`m<port>`), and two stores on one data dir would corrupt it, so a block stored in the
region dir is reused as is, and a busy stored block is an error, never a silent move."""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
from collections.abc import Collection, Iterator

from openfront.config.storage import BLOCK_SPAN, MAX_BASE_PORT
from openfront.errors import StorageError
from openfront.stack.stackfile import write_json_atomic
from openfront.storage.weed import PortBlock, RegionPaths

SEARCH_START = 18300  # below the ephemeral range (32768+), so outgoing connections never collide
SEARCH_STEP = 20
# --free-ports and tests start their search at a random block in 20000..22480 (admin gRPC ports
# up to 32488), so stacks started at the same moment seldom probe the same block.
RANDOM_LOW, RANDOM_BLOCKS = 20_000, 125


def random_search_start() -> int:
    return RANDOM_LOW + SEARCH_STEP * secrets.randbelow(RANDOM_BLOCKS)


def busy_ports(host: str, ports: Collection[int]) -> list[int]:
    """The ports of `ports` that cannot be bound on `host` right now."""
    with _probes(host, ports) as busy:
        return busy


@contextlib.contextmanager
def _probes(host: str, ports: Collection[int]) -> Iterator[list[int]]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    held: list[socket.socket] = []
    busy: list[int] = []
    try:
        for port in ports:
            sock = socket.socket(family, socket.SOCK_STREAM)
            held.append(sock)
            # weed's Go listeners set SO_REUSEADDR: a port in TIME_WAIT is free for them too.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                busy.append(port)
        yield busy
    finally:
        for sock in held:
            sock.close()


def find_free_block(host: str, start: int, taken: Collection[int] = ()) -> PortBlock:
    """The first block at or after `start` (in steps of 20) whose ten ports are all free on
    `host` and not in `taken` (blocks chosen for other regions but not bound yet)."""
    for base in range(start, MAX_BASE_PORT + 1, SEARCH_STEP):
        block = PortBlock(base)
        if taken and set(block.all()) & set(taken):
            continue
        if not busy_ports(host, block.all()):
            return block
    raise StorageError(f"no free block of {BLOCK_SPAN + 1} ports on {host} from port {start}")


def read_stored_block(paths: RegionPaths) -> PortBlock | None:
    try:
        data = json.loads(paths.ports_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StorageError(f"{paths.ports_file}: unreadable ({exc}); fix or delete it") from None
    base = data.get("base") if isinstance(data, dict) else None
    if not isinstance(base, int) or not 1024 <= base <= MAX_BASE_PORT:
        raise StorageError(f"{paths.ports_file}: no valid 'base' port; fix or delete it")
    return PortBlock(base)


def store_block(paths: RegionPaths, block: PortBlock) -> None:
    document = {
        "base": block.base,
        "note": "Ports of this region's weed mini, kept so its master metadata dir (m<port>) "
        "stays the same; delete this file to choose new ones at the next start.",
        "ports": {
            "master": [block.master, block.master_grpc],
            "volume": [block.volume, block.volume_grpc],
            "filer": [block.filer, block.filer_grpc],
            "s3": [block.s3, block.s3_grpc],
            "admin": [block.admin, block.admin_grpc],
        },
    }
    paths.root.mkdir(parents=True, exist_ok=True)
    write_json_atomic(paths.ports_file, document)


def resolve_block(
    paths: RegionPaths,
    host: str,
    *,
    configured: int | None,
    search_start: int = SEARCH_START,
    taken: Collection[int] = (),
) -> PortBlock:
    """The region's ports: the stored block, else the configured base port, else the first
    free block from `search_start`; a new choice is stored. Raises StorageError when the
    stored or configured block is busy."""
    stored = read_stored_block(paths)
    if stored is not None and configured is not None and stored.base != configured:
        raise StorageError(
            f"BasePort is {configured} but this region's data uses {stored.base} "
            f"({paths.ports_file}); the master's metadata is named after its port: set BasePort "
            f"to {stored.base}, or delete that file to move the region"
        )
    block = stored or (PortBlock(configured) if configured is not None else None)
    if block is not None:
        busy = busy_ports(host, block.all())
        if busy:
            raise StorageError(
                f"ports {', '.join(map(str, busy))} of the store in {paths.root} are in use on "
                f"{host} (another `openfront up` on this data dir, or another program)"
            )
    else:
        block = find_free_block(host, search_start, taken)
    if stored is None:
        store_block(paths, block)
    return block
