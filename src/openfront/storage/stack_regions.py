"""The storage part of `openfront up`: one managed store per region, external regions configured
once, their services and stack.json entries, and the lines of the welcome text."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from openfront.config.storage import StorageConfig, default_storage, load_storage
from openfront.errors import StorageError
from openfront.stack.mediahub_stack import MediaRegion, pick_bucket
from openfront.stack.mediahub_stack import app_origins as page_origins
from openfront.stack.supervisor import ServiceSpec
from openfront.storage.credentials import credentials_document, write_private_json
from openfront.storage.ports import SEARCH_START, random_search_start
from openfront.storage.region import (
    ExternalRegion,
    ManagedRegion,
    prepare_external,
    prepare_managed,
)
from openfront.storage.replication import (
    auditor_spec,
    sync_metrics_port,
    sync_pairs,
    sync_spec,
    write_plan,
)
from openfront.storage.service import region_spec

Say = Callable[[str], None]


def app_origins(host: str, *ports: int) -> list[str]:
    """Origins of pages served on these ports (the demo edge, each region's MediaHub): the
    browser origins the buckets' CORS allow."""
    return page_origins(host, ports)


def storage_config(
    path: Path | None, host: str, edge_port: int, app_ports: Sequence[int] = ()
) -> StorageConfig:
    """The regions from `path`, or the demo's two with CORS for the given pages' origins."""
    if path is not None:
        return load_storage(path)
    return default_storage(app_origins(host, edge_port, *app_ports))


def region_names(path: Path | None) -> list[str]:
    """Names of the regions `storage_config` will give (managed and external), before ports
    are known: each may get a MediaHub."""
    config = load_storage(path) if path is not None else default_storage([])
    return [r.name for r in config.regions]


@dataclass
class StackRegions:
    config: StorageConfig
    regions_dir: Path
    managed: list[ManagedRegion] = field(default_factory=list)
    external: list[ExternalRegion] = field(default_factory=list)

    def prepare(self, environ: Mapping[str, str], *, free_ports: bool) -> None:
        """Ports, credentials and folders of every managed region; credentials of external ones.
        Raises StorageError or ConfigError."""
        taken: list[int] = []
        for region in self.config.regions:
            if not region.managed:
                self.external.append(prepare_external(region, environ))
                continue
            start = random_search_start() if free_ports else SEARCH_START
            managed = prepare_managed(region, self.regions_dir, taken=taken, search_start=start)
            taken += managed.ports.all()
            self.managed.append(managed)

    def configure_external(self, warn: Say) -> list[ExternalRegion]:
        """Apply bucket config on external stores; returns those that answered."""
        reached = []
        for region in self.external:
            try:
                notes = region.provision()
            except StorageError as exc:
                warn(f"{exc}; left out of this run")
                continue
            for note in notes:
                warn(f"{region.service}: {note}")
            reached.append(region)
        return reached

    def specs(
        self, run_dir: Path, environ: Mapping[str, str], on_note: Say | None
    ) -> list[ServiceSpec]:
        """The stores, then one filer.sync per enabled replication rule (started once both
        stores answer, since services start in order), then the auditor."""
        stores = [
            region_spec(region, run_dir / f"{region.service}.log", environ, on_note)
            for region in self.managed
        ]
        return stores + self.replication_specs(run_dir, environ)

    def media_regions(self, reached: Sequence[ExternalRegion] = ()) -> list[MediaRegion]:
        """What MediaHub uses of each managed region with a bucket, then of each external one
        in ``reached`` (configured at this start). An external region's keys from environment
        variables are written to ``REGIONS/NAME/credentials.json`` (0600) for the MediaHub and
        the media edge, which read keys from a file."""
        out = []
        for region in self.managed:
            bucket = pick_bucket(region.name, [b.name for b in region.config.buckets])
            if bucket is not None:
                out.append(
                    MediaRegion(region.name, region.endpoint, bucket, region.paths.s3_config)
                )
        for ext in reached:
            cfg = ext.config
            bucket = pick_bucket(cfg.name, [b.name for b in cfg.buckets])
            if bucket is None:
                continue
            creds_file = cfg.credentials.file
            if creds_file is None:
                creds_file = self.regions_dir / cfg.name / "credentials.json"
                write_private_json(creds_file, credentials_document(ext.credentials))
            out.append(MediaRegion(cfg.name, ext.endpoint, bucket, creds_file, cfg.signing_region))
        return out

    def replication_specs(self, run_dir: Path, environ: Mapping[str, str]) -> list[ServiceSpec]:
        pairs = sync_pairs(self.config.enabled_rules(), self.managed)
        if not pairs:
            return []
        replication = self.config.replication
        write_plan(self.regions_dir.parent, pairs, replication)
        weed = self.managed[0].weed
        base = {r.name: r.ports.base for r in self.managed}
        syncs = [
            sync_spec(
                pair,
                weed,
                run_dir,
                environ,
                replication.memory_limit,
                sync_metrics_port(base[pair.a.region], i),
            )
            for i, pair in enumerate(pairs)
        ]
        return [*syncs, auditor_spec(self.regions_dir.parent, run_dir)]
