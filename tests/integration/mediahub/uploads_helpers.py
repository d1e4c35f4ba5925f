"""Shared by the upload tests: a real `weed mini` per module, MediaHub servers bound to its media
bucket, signed-in users. Import the fixtures into a test module to use them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.mediahub.conftest import MakeHub, new_user
from tests.support.weed import MEDIA_BUCKET, WeedStore, start_store

from openfront.mediahub.server import RunningMediaHub

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeedStore]:
    running = start_store(tmp_path_factory.mktemp("store"))
    try:
        yield running
    finally:
        running.stop()


def storage_settings(store: WeedStore) -> dict[str, Any]:
    return {
        "endpoint": store.endpoint,
        "bucket": MEDIA_BUCKET,
        "credentials_file": str(store.region.paths.s3_config),
    }


async def upload_hub(
    make_hub: MakeHub,
    database: str,
    store: WeedStore,
    *,
    data_dir: Path | None = None,
    **uploads: Any,
) -> RunningMediaHub:
    settings = {"part_size": 5 * MiB, "single_put_max": 8 * MiB} | uploads
    # No processing worker: these tests check the upload's own end state, `queued`.
    return await make_hub(
        database,
        data_dir=data_dir,
        storage=storage_settings(store),
        uploads=settings,
        processing={"worker": False},
    )


async def sign_in(client: httpx.AsyncClient, hub: RunningMediaHub, tag: str = "") -> dict[str, str]:
    """Authorization headers of a new user."""
    user = new_user(tag)
    r = await client.post(f"{hub.url}/auth/signup", json=user)
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{hub.url}/auth/signin", json={"username": user["username"], "password": user["password"]}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def pattern(size: int, seed: int = 0) -> bytes:
    """Deterministic, non-repeating-per-MiB bytes (a misplaced part changes the ETag)."""
    block = bytes((i * 7 + seed) % 251 for i in range(65_536))
    return (block * (size // len(block) + 1))[:size]
