"""A real `weed mini` for tests: prepared, started and configured exactly as `openfront up` does it,
on a random free port block. Each start costs ~1 s and ~115 MiB, so tests share one per module."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openfront.config.storage import RegionConfig, StorageConfig
from openfront.storage.ports import random_search_start
from openfront.storage.region import ManagedRegion, prepare_managed, remove_stale_sockets
from openfront.storage.replication import SyncSide

READY_DEADLINE = 30.0
STOP_DEADLINE = 20.0
APP_ORIGIN = "http://app.example.test"
MEDIA_BUCKET = "media-test"  # CORS for APP_ORIGIN, public read under public/
PLAIN_BUCKET = "plain-test"  # no CORS rules, no policy

TEST_REGION: dict[str, Any] = {
    "Name": "ap-northeast-2",
    "DisplayName": "Seoul",
    "Store": {"MemoryLimit": "256MiB"},
    "Buckets": [
        {
            "Name": MEDIA_BUCKET,
            "CORSRules": [
                {
                    "AllowedOrigins": [APP_ORIGIN],
                    "AllowedMethods": ["GET", "PUT", "POST", "HEAD"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 600,
                }
            ],
            "PublicReadPrefixes": ["public/"],
        },
        {"Name": PLAIN_BUCKET},
    ],
}


def region_config(data: dict[str, Any] | None = None) -> RegionConfig:
    return StorageConfig.model_validate({"Regions": [data or TEST_REGION]}).regions[0]


@dataclass
class WeedStore:
    region: ManagedRegion
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return self.region.endpoint

    def client(self, **kwargs: Any) -> Any:
        from openfront.storage.client import s3_client

        return s3_client(self.endpoint, self.region.credentials, self.region.name, **kwargs)

    def start(self) -> WeedStore:
        command = self.region.command(os.environ)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command.argv,
                env=command.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready()
        self.notes = self.region.provision()
        return self

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + READY_DEADLINE
        while not self.region.answers(time.monotonic()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"weed not ready; log:\n{self.log_path.read_text()[-3000:]}")
            try:
                code = self.process.wait(timeout=0.05)  # the poll interval, cut short by an exit
            except subprocess.TimeoutExpired:
                continue
            raise RuntimeError(f"weed exited ({code}); log:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        code = self.process.wait()
        remove_stale_sockets(self.region.ports)
        return code


def start_store(root: Path, config: RegionConfig | None = None) -> WeedStore:
    region = prepare_managed(
        config or region_config(), root / "regions", search_start=random_search_start()
    )
    return WeedStore(region, root / "weed.log").start()


def kill_store(store: WeedStore) -> None:
    """kill -9 the store's process group (a crash), then clear the sockets it left."""
    assert store.process is not None
    os.killpg(store.process.pid, signal.SIGKILL)
    store.process.wait()
    remove_stale_sockets(store.region.ports)


@dataclass
class SyncProcess:
    """A `weed filer.sync` between two test stores, started as `openfront up` starts it."""

    pair: Any  # openfront.storage.replication.SyncPair
    weed: str
    root: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> SyncProcess:
        from openfront.storage.replication import free_port, sync_command

        port = free_port("127.0.0.1")
        log_dir = self.root / "sync-logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        argv = sync_command(self.weed, self.pair, log_dir=log_dir, metrics_port=port)
        with (self.root / "sync.log").open("ab") as log:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def kill(self) -> None:
        """kill -9, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_for(check: Any, what: str, deadline: float = 30.0) -> Any:
    """Poll `check()` until it returns a truthy value; fail with `what` after `deadline` s."""
    end = time.monotonic() + deadline
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)  # the poll interval of a condition with a deadline, not a wait


def bucket_region(name: str, bucket: str) -> RegionConfig:
    """The test region renamed ``name``, with one bucket ``bucket``."""
    data = copy.deepcopy(TEST_REGION)
    data.update({"Name": name, "Buckets": [{"Name": bucket}]})
    return region_config(data)


def sync_side(store: WeedStore, bucket: str) -> SyncSide:
    """One side of a filer.sync pair: ``bucket`` in the running ``store``."""
    info = store.region.info()
    return SyncSide(
        store.region.name, bucket, store.endpoint, info["credentials_file"], info["filer_address"]
    )
