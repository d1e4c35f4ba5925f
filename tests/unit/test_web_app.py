"""The web app: its Vitest suite (catalog parity, formatting, token refresh) run from pytest,
and the serving decisions of ``routes/web.py`` (which path gets which file)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from openfront.mediahub.routes.web import (
    API_PREFIXES,
    Target,
    cache_control,
    content_security_policy,
    content_type,
    target_for,
)

WEB = Path(__file__).resolve().parents[2] / "web"


def test_vitest_suite() -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("Node.js/npm is not installed: the web app's own tests need it")
    if not (WEB / "node_modules").is_dir():
        pytest.skip("web/node_modules is missing: run `make install` (or `npm ci` in web/)")
    done = subprocess.run(
        [npm, "test", "--silent"],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=110,
        env={**os.environ, "CI": "1", "NO_COLOR": "1", "FORCE_COLOR": "0"},
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert "passed" in done.stdout


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", Target("app")),
        ("/watch/3f1c", Target("file", "watch/3f1c")),  # no such file: the app
        ("/assets/index-Ab12.js", Target("file", "assets/index-Ab12.js")),
        ("//assets//x.js", Target("file", "assets/x.js")),
        ("/auth/me", Target("none")),
        ("/videos", Target("none")),
        ("/uploads/abc", Target("none")),
        ("/healthz", Target("none")),
        ("/assets/../index.html", Target("none")),
        ("/./index.html", Target("none")),
        ("/.env", Target("none")),
        ("/assets/.hidden.js", Target("none")),
        ("/a\\..\\b", Target("none")),
        ("/a\x00b", Target("none")),
        ("relative", Target("none")),
    ],
)
def test_target_for(path: str, expected: Target) -> None:
    assert target_for(path) == expected


def test_caching_and_types() -> None:
    assert cache_control("assets/index-Ab12.js") == "public, max-age=31536000, immutable"
    assert cache_control("index.html") == "no-cache"
    assert cache_control("favicon.ico") == "no-cache"
    assert content_type("assets/a.JS") == "text/javascript; charset=utf-8"
    assert content_type("index.html") == "text/html; charset=utf-8"
    assert content_type("assets/font.woff2") == "font/woff2"
    assert content_type("LICENSE") == "application/octet-stream"


def test_the_app_and_the_server_agree_on_the_api_prefixes() -> None:
    """A client-side path under an API prefix would reach the API on reload, not the app."""
    source = (WEB / "src" / "lib" / "paths.ts").read_text()
    match = re.search(r"API_PREFIXES = (\[[^\]]*\])", source)
    assert match, "API_PREFIXES not found in web/src/lib/paths.ts"
    assert set(json.loads(match.group(1))) == API_PREFIXES


def test_content_security_policy() -> None:
    plain = content_security_policy(None)
    assert "script-src 'self';" in plain and "frame-ancestors 'none'" in plain
    assert "media-src 'self' blob:;" in plain and "worker-src 'self' blob:" in plain
    cdn = content_security_policy("https://User@CDN.example:8443/media")
    assert "media-src 'self' blob: https://cdn.example:8443;" in cdn
    assert "connect-src 'self' https://cdn.example:8443;" in cdn
    assert "img-src 'self' data: https://cdn.example:8443;" in cdn
    assert "script-src 'self';" in cdn  # never the CDN for scripts
    assert "[::1]:9000" in content_security_policy("http://[::1]:9000")
