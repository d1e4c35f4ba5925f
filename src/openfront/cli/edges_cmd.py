"""`openfront edges`: the edge fleet as `openfront api` sees it (GET /openfront/edges)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from openfront.cli._console import EXIT_CONFIG, fail, out
from openfront.cli.dist_cmd import DEFAULT_URL, URL_ENV


def fetch_edges(url: str, key_id: str, secret: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The fleet listing, signed with SigV4; raises OSError or ValueError."""
    import urllib.error
    import urllib.request

    from openfront.edge.follow import signed_request

    full, headers, _ = signed_request(url, "GET", "/openfront/edges", {}, None, key_id, secret)
    request = urllib.request.Request(full, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            edges: list[dict[str, Any]] = json.loads(response.read())["edges"]
            return edges
    except urllib.error.HTTPError as exc:
        body = exc.read()
        start, end = body.find(b"<Code>"), body.find(b"</Code>")
        code = body[start + 6 : end].decode() if 0 <= start < end else f"HTTP {exc.code}"
        raise ValueError(code) from None


@click.command()
@click.option(
    "--api",
    "api_url",
    metavar="URL",
    help=f"The API's URL [${URL_ENV}, or {DEFAULT_URL}].",
)
@click.option(
    "--credentials",
    type=click.Path(path_type=Path, dir_okay=False),
    help="File with AWS_ACCESS_KEY_ID=... and AWS_SECRET_ACCESS_KEY=... lines "
    "[default: those environment variables].",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per edge, one per line.")
def edges(api_url: str | None, credentials: Path | None, as_json: bool) -> None:
    """List the edges following `openfront api`: status, applied configuration and invalidations.

    An edge is healthy while it talks to the API, stale when it has been silent for the API's
    --edge-stale-seconds (it then holds nothing InProgress) and gone after an hour.

    \b
    Examples:
      openfront edges --api http://127.0.0.1:9000
      openfront edges --credentials data/api/root-credentials.env --json
    """
    from openfront.edge.follow import read_credentials
    from openfront.errors import ConfigError

    url = api_url or os.environ.get(URL_ENV) or DEFAULT_URL
    try:
        key_id, secret = read_credentials(credentials, os.environ)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    try:
        found = fetch_edges(url, key_id, secret)
    except (OSError, ValueError) as exc:
        fail(f"{url}: {exc}")
    if as_json:
        for e in found:
            out.print(json.dumps(e, separators=(",", ":")), markup=False)
        return
    if not found:
        out.print("no edges registered", markup=False)
        return
    from rich.table import Table

    table = Table("ID", "POP", "REGION", "STATUS", "LAST SEEN", "CONFIG", "INVALIDATIONS", "ERRORS")
    for e in found:
        config = f"{e['configSeq']}" + (
            f" ({e['configBehind']} behind)" if e["configBehind"] else ""
        )
        invs = f"{e['invalidationSeq']}" + (
            f" ({e['invalidationsBehind']} behind)" if e["invalidationsBehind"] else ""
        )
        errors = ", ".join(sorted(e["errors"])) or "-"
        table.add_row(
            e["id"], e["pop"], e["region"], e["status"], e["lastSeen"], config, invs, errors
        )
    out.print(table)
