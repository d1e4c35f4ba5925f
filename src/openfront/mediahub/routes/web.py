"""The web app: the built single-page app's files, and ``index.html`` for its client-side paths.

``npm run build`` in ``web/`` writes the bundle to ``openfront/mediahub/webapp/`` (made by
``make install``, never edited by hand). This is a middleware rather than a catch-all route so
that the API keeps its own answers: only a GET or HEAD the router found nothing for, outside
the API's prefixes, reaches it. Vite names everything under ``assets/`` by content hash, so
those files are cached for a year; ``index.html`` is revalidated on every load, so a new build
is picked up at once. The page's Content-Security-Policy allows scripts and styles from this
origin only (the tokens live in localStorage, so injected script must not run), and media,
posters and playlists from the CDN as well.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from aiohttp import web

from openfront.mediahub.context import CONFIG

WEBAPP_DIR = Path(__file__).resolve().parent.parent / "webapp"

# First path segments that belong to the API: an unknown path there stays a JSON 404.
API_PREFIXES = frozenset({"auth", "videos", "uploads", "healthz"})

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

# Explicit types with charsets, rather than whatever /etc/mime.types says on this machine.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/vnd.microsoft.icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
}

NOT_BUILT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MediaHub</title></head>
<body><h1>MediaHub</h1>
<p>The web app is not built. Install Node.js 18 or newer and run <code>make install</code>
(or <code>npm ci &amp;&amp; npm run build</code> in <code>web/</code>). The API works without
it.</p></body></html>
"""


@dataclass(frozen=True)
class Target:
    """What to answer for a path: a file under the web root, the app's page, or nothing."""

    kind: str  # "file", "app" (index.html), or "none" (leave the 404)
    relative: str = ""


NONE = Target("none")


def target_for(path: str) -> Target:
    """Decide from the request path alone; the caller checks the file system."""
    if not path.startswith("/") or "\\" in path or "\x00" in path:
        return NONE
    parts = path[1:].split("/")
    if parts[0] in API_PREFIXES:
        return NONE
    if any(p in (".", "..") or p.startswith(".") for p in parts if p):
        return NONE  # traversal, and dotfiles, are never served
    relative = "/".join(p for p in parts if p)
    if not relative:
        return Target("app")
    # A missing file with an extension is a 404 (a stale asset or a typo), not the app page.
    return Target("file", relative)


def content_security_policy(cdn_url: str | None) -> str:
    """CSP for the app's page; hls.js needs blob: for its worker and for MSE media."""
    cdn = ""
    if cdn_url:
        parts = urlsplit(cdn_url)
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        cdn = f" {parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data:{cdn}",
            f"media-src 'self' blob:{cdn}",
            f"connect-src 'self'{cdn}",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def cache_control(relative: str) -> str:
    return IMMUTABLE if relative.startswith("assets/") else REVALIDATE


def content_type(relative: str) -> str:
    return CONTENT_TYPES.get(PurePosixPath(relative).suffix.lower(), "application/octet-stream")


def _file(root: Path, relative: str) -> Path | None:
    try:
        base = root.resolve()
        candidate = (base / relative).resolve()
    except (OSError, RuntimeError):
        return None
    if not candidate.is_relative_to(base) or not candidate.is_file():
        return None  # outside the root (a symlink out), a directory, or missing
    return candidate


def _respond(path: Path, relative: str, csp: str | None = None) -> web.FileResponse:
    headers = {
        "Content-Type": content_type(relative),
        "Cache-Control": cache_control(relative),
        "X-Content-Type-Options": "nosniff",
    }
    if csp is not None:
        headers["Content-Security-Policy"] = csp
    return web.FileResponse(path, headers=headers)


def serve(root: Path, request_path: str, cdn_url: str | None = None) -> web.StreamResponse | None:
    """The response for a GET the API did not claim, or None to keep the 404."""
    target = target_for(request_path)
    if target.kind == "none":
        return None
    if target.kind == "file":
        found = _file(root, target.relative)
        if found is not None:
            html = target.relative.endswith(".html")
            return _respond(
                found, target.relative, content_security_policy(cdn_url) if html else None
            )
        if "." in PurePosixPath(target.relative).name:
            return None
    index = _file(root, "index.html")
    if index is None:
        return web.Response(
            status=503,
            text=NOT_BUILT_PAGE,
            content_type="text/html",
            headers={"Cache-Control": "no-store"},
        )
    return _respond(index, "index.html", content_security_policy(cdn_url))


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def web_app(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPNotFound:
        if request.method not in ("GET", "HEAD"):
            raise
        response = serve(WEBAPP_DIR, request.path, request.app[CONFIG].playback.cdn_url)
        if response is None:
            raise
        return response
