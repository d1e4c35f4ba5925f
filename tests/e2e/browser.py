"""Debian's Chromium under Playwright, and screenshots kept as test artifacts.

Playwright's own browser downloads do not work here (no network, and `playwright install`
fetches from a CDN), so the tests drive the system's `/usr/bin/chromium`
(`apt-get install -y chromium fonts-noto-cjk`; the font is what renders Korean).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
DOCS_IMAGES = REPO / "docs" / "images"
ARTIFACTS_ENV = "OPENFRONT_TEST_ARTIFACTS"
TO_DOCS_ENV = "OPENFRONT_SCREENSHOTS_TO_DOCS"
VIEWPORT = (1280, 800)
# Headless as root with no network: no sandbox (needs user namespaces), no GPU, and nothing
# that phones home (QUIC probes, component updates, sync, field trials).
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_browser() -> None:
    """Skip, saying what to install, when Chromium is missing."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests need Debian's Chromium at {CHROMIUM}: "
            "apt-get install -y chromium fonts-noto-cjk"
        )


def korean_font() -> bool:
    """Whether fontconfig knows a font with Korean glyphs (else the pages show boxes)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    found = subprocess.run([fc_list, ":lang=ko", "family"], capture_output=True, check=False)
    return bool(found.stdout.strip())


def artifacts_root() -> Path:
    """$OPENFRONT_TEST_ARTIFACTS/e2e, else build/test-artifacts/e2e in the checkout."""
    base = os.environ.get(ARTIFACTS_ENV)
    return (Path(base) if base else REPO / "build" / "test-artifacts") / "e2e"


# Folders written during this run, for the summary line (see conftest.py).
WRITTEN: list[Path] = []


@dataclass
class Shots:
    """Numbered screenshots of one test, in a folder emptied at the start."""

    folder: Path
    to_docs: bool = field(default_factory=lambda: os.environ.get(TO_DOCS_ENV) == "1")
    taken: list[Path] = field(default_factory=list)

    @classmethod
    def for_test(cls, name: str) -> Shots:
        folder = artifacts_root() / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        WRITTEN.append(folder)
        return cls(folder)

    async def take(self, page: Page, name: str, *, docs: str | None = None) -> Path:
        """Save the viewport as NN-name.png; with OPENFRONT_SCREENSHOTS_TO_DOCS=1 and a docs
        name, also as docs/images/mediahub-<docs>.png."""
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        await page.screenshot(path=str(path), animations="disabled", caret="hide")
        self.taken.append(path)
        if docs and self.to_docs:
            assert korean_font(), "no Korean font: apt-get install -y fonts-noto-cjk"
            DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS_IMAGES / f"mediahub-{docs}.png")
        return path

    def note(self, name: str, lines: list[str]) -> Path:
        path = self.folder / name
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return path


@asynccontextmanager
async def chromium(profile: Path, *, locale: str = "en-US") -> AsyncIterator[BrowserContext]:
    """A fresh persistent context (new empty user-data dir) on the system Chromium."""
    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=LAUNCH_ARGS,
            headless=True,
            viewport={"width": VIEWPORT[0], "height": VIEWPORT[1]},
            locale=locale,
            timezone_id="Asia/Seoul",
        )
        try:
            yield context
        finally:
            await context.close()
