"""`openfront invalidate`: POST paths to a running edge's admin endpoint."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click
from rich.json import JSON

from openfront.cli._console import EXIT_CONFIG, fail, out

TIMEOUT = 10.0
TOKEN_ENV = "OPENFRONT_ADMIN_TOKEN"


@click.command()
@click.option(
    "--admin",
    required=True,
    metavar="URL",
    help="The edge's admin base URL, e.g. http://127.0.0.1:9090 (stack.json lists it).",
)
@click.option("--token", metavar="TOKEN", help=f"Admin bearer token (default: ${TOKEN_ENV}).")
@click.option(
    "--token-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Read the token from this file (openfront up writes DATA/admin-token).",
)
@click.option(
    "--distribution",
    metavar="ID",
    help="Distribution to invalidate in; may be left out when the edge serves only one.",
)
@click.argument("paths", nargs=-1, required=True)
def invalidate(
    admin: str,
    token: str | None,
    token_file: Path | None,
    distribution: str | None,
    paths: tuple[str, ...],
) -> None:
    """Invalidate cached objects by PATH on one edge.

    \b
    Paths are case-sensitive and start with '/'; a trailing '*' matches every path with
    that prefix (quote it for the shell): '/index.html', '/static/*', '/*'.

    \b
    Example:
      openfront invalidate --admin http://127.0.0.1:9090 --token-file data/admin-token \\
          /index.html '/static/*'
    """
    from openfront.cache.invalidation import validate_invalidation_path

    for path in paths:
        problem = validate_invalidation_path(path)
        if problem is not None:
            fail(f"{path!r}: {problem}", EXIT_CONFIG)  # bad usage: nothing is sent
    secret = _token(token, token_file)
    body: dict[str, Any] = {"Paths": list(paths)}
    if distribution is not None:
        body["DistributionId"] = distribution
    result = post_invalidation(admin, secret, body)
    out.print(JSON.from_data(result) if not isinstance(result, str) else result)


def _token(token: str | None, token_file: Path | None) -> str:
    if token is not None and token_file is not None:
        fail("give --token or --token-file, not both", EXIT_CONFIG)
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            fail(f"cannot read {token_file}: {exc.strerror or exc}", EXIT_CONFIG)
    token = token or os.environ.get(TOKEN_ENV)
    if not token:
        fail(f"an admin token is needed: --token, --token-file or ${TOKEN_ENV}", EXIT_CONFIG)
    return token


def post_invalidation(admin: str, token: str, body: dict[str, Any]) -> object:
    """POST /invalidate; returns the decoded JSON answer (or its text), fails readably."""
    if not admin.startswith(("http://", "https://")):
        fail(f"--admin: expected an http:// URL (got {admin!r})", EXIT_CONFIG)
    request = urllib.request.Request(
        admin.rstrip("/") + "/invalidate",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return _decode(response.read())
    except urllib.error.HTTPError as exc:
        detail = _describe(_decode(exc.read()))
        fail(f"{admin} answered {exc.code} {exc.reason}: {detail}")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        fail(f"cannot reach the admin endpoint at {admin}: {reason}")


def _decode(raw: bytes) -> object:
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text.strip()


def _describe(answer: object) -> str:
    """The message in an error body: {"error": ...}, or CloudFront's {"Error": {"Message"}}."""
    if isinstance(answer, dict):
        for key in ("Message", "message", "error", "Error"):
            if key in answer:
                return _describe(answer[key])
        return json.dumps(answer)
    return str(answer) or "(empty body)"
