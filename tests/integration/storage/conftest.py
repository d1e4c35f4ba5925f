from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.weed import WeedStore, start_store


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeedStore]:
    """One real weed mini for the storage tests that can share it (CORS, policy, CLI)."""
    running = start_store(tmp_path_factory.mktemp("store"))
    yield running
    running.stop()
